/** The HTTP side: authentication, AllowUnencrypted, HTTPS certificate, keep-alive, paths, log, introspection. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type MockServer, scriptedHost, startMockServer } from '../../src/mock/index.ts';
import {
  buildCreateShell,
  buildIdentify,
  parseIdentifyResponse,
  parseResponse,
} from '../../src/wsman/index.ts';
import { RawClient, startBasicMock, USER } from './helpers.ts';

describe('mock authentication', () => {
  it('no credentials: 401, empty body, empty reason phrase, WWW-Authenticate lists the enabled schemes', async () => {
    const mock = await startBasicMock();
    const anon = new RawClient(mock.url, { user: null });
    try {
      const res = await anon.post(buildCreateShell(anon.ctx()));
      assert.equal(res.status, 401);
      assert.equal(res.statusMessage, '');
      assert.equal(res.body, '');
      assert.equal(res.headers['content-length'], '0');
      assert.equal(res.headers['www-authenticate'], 'Basic realm="WSMAN"');
      assert.equal(res.headers.server, 'Microsoft-HTTPAPI/2.0');
    } finally {
      anon.close();
      await mock.close();
    }
  });

  it('wrong password, unknown user, domain account: the same 401, nothing about why', async () => {
    const mock = await startBasicMock();
    try {
      for (const user of [
        { name: USER.name, password: 'wrong' },
        { name: 'nobody', password: USER.password },
        { name: `${USER.name}@corp.example`, password: USER.password },
      ]) {
        const c = new RawClient(mock.url, { user });
        const res = await c.post(buildCreateShell(c.ctx()));
        c.close();
        assert.equal(res.status, 401);
        assert.equal(res.body, '');
        assert.equal(res.headers['www-authenticate'], 'Basic realm="WSMAN"');
      }
      assert.equal(mock.stats.authChallenges, 3);
      assert.equal(mock.shells().length, 0);
    } finally {
      await mock.close();
    }
  });

  it('user names are case-insensitive; MACHINE\\user and .\\user name local accounts', async () => {
    const mock = await startBasicMock();
    try {
      for (const name of ['VAGRANT', 'WIN-MOCK\\vagrant', '.\\vagrant']) {
        const c = new RawClient(mock.url, { user: { name, password: USER.password } });
        const res = await c.post(buildCreateShell(c.ctx()));
        c.close();
        assert.equal(res.status, 200, name);
      }
    } finally {
      await mock.close();
    }
  });

  it('Basic disabled (the Windows default): 401 without a Basic challenge, even with good credentials', async () => {
    const mock = await startMockServer({ allowUnencrypted: true });
    const c = new RawClient(mock.url);
    try {
      const res = await c.post(buildCreateShell(c.ctx()));
      assert.equal(res.status, 401);
      assert.equal(res.headers['www-authenticate'], undefined);
    } finally {
      c.close();
      await mock.close();
    }
  });

  it('AllowUnencrypted false (the default): Basic over plain HTTP is refused with 401, as Windows refuses it', async () => {
    const mock = await startMockServer({ auth: { basic: true } });
    const c = new RawClient(mock.url);
    try {
      const res = await c.post(buildCreateShell(c.ctx()));
      assert.equal(res.status, 401);
      assert.equal(res.body, '');
      assert.equal(res.headers['www-authenticate'], undefined, 'Basic is not offered over unencrypted HTTP');
      assert.equal(mock.shells().length, 0);
    } finally {
      c.close();
      await mock.close();
    }
  });

  it('over HTTPS Basic works whatever AllowUnencrypted says', async () => {
    const mock = await startMockServer({ auth: { basic: true }, https: true });
    const c = new RawClient(mock.url, { ca: mock.certificatePem });
    try {
      const r = await c.run('echo secure');
      assert.equal(r.stdout.toString(), 'secure\r\n');
      const id = parseIdentifyResponse(parseResponse((await c.post(buildIdentify())).body));
      assert.deepEqual(id.securityProfiles, [
        'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/basic',
      ]);
    } finally {
      c.close();
      await mock.close();
    }
  });
});

describe('mock HTTPS', () => {
  it('generates a self-signed certificate whose reported thumbprints match the presented certificate', async () => {
    const mock = await startMockServer({ auth: { basic: true }, https: true, machineName: 'WIN-TLS01' });
    const c = new RawClient(mock.url, { ca: mock.certificatePem });
    try {
      assert.ok(mock.url.startsWith('https://127.0.0.1:'));
      assert.equal(mock.https, true);
      const res = await c.post(buildIdentify());
      assert.equal(res.status, 200);
      const presented = new X509Certificate(res.peerCertificate!);
      assert.equal(presented.fingerprint.replace(/:/g, ''), mock.thumbprints!.sha1);
      assert.equal(presented.fingerprint256.replace(/:/g, ''), mock.thumbprints!.sha256);
      assert.match(mock.thumbprints!.sha1, /^[0-9A-F]{40}$/);
      assert.equal(presented.subject, 'CN=WIN-TLS01');
      assert.match(presented.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
      assert.equal(presented.issuer, presented.subject, 'self-signed');
      assert.ok(presented.verify(presented.publicKey));
      assert.deepEqual(
        presented.keyUsage,
        ['1.3.6.1.5.5.7.3.1'],
        'Server Authentication EKU, as WinRM requires',
      );
    } finally {
      c.close();
      await mock.close();
    }
  });

  it('serves a certificate passed in through tls', async () => {
    const first = await startMockServer({ https: true });
    const key = await first.close().then(() => undefined);
    assert.equal(key, undefined);
    // Reuse the generated pair by starting from the generator directly.
    const { generateSelfSignedCertificate } = await import('../../src/mock/tls/certificate.ts');
    const gen = await generateSelfSignedCertificate({ commonName: 'given', altNames: ['127.0.0.1'] });
    const mock = await startMockServer({ https: true, tls: { key: gen.keyPem, cert: gen.certPem } });
    const c = new RawClient(mock.url, { ca: gen.certPem, user: null });
    try {
      const res = await c.post(buildIdentify(), { WSMANIDENTIFY: 'unauthenticated' });
      assert.equal(res.status, 200);
      assert.deepEqual(mock.thumbprints, gen.thumbprints);
      assert.equal(new X509Certificate(res.peerCertificate!).subject, 'CN=given');
    } finally {
      c.close();
      await mock.close();
    }
  });
});

describe('mock HTTP behaviour', () => {
  let mock: MockServer;
  before(async () => {
    mock = await startBasicMock({ users: [{ name: 'ops', password: 'S3cr3t!pass' }] });
  });
  after(() => mock.close());

  it('keeps connections alive: several requests on one socket', async () => {
    const c = new RawClient(mock.url, { user: { name: 'ops', password: 'S3cr3t!pass' } });
    try {
      const before = mock.stats.connections;
      const ports = new Set<number | undefined>();
      const shellId = await c.createShell();
      for (let i = 0; i < 5; i++) {
        const res = await c.post(buildIdentify());
        ports.add(res.localPort);
      }
      await c.deleteShell(shellId);
      assert.equal(ports.size, 1, 'one client socket for all requests');
      assert.equal(mock.stats.connections - before, 1, 'one server-side connection');
    } finally {
      c.close();
    }
  });

  it('404 off the endpoint path, 405 for other methods', async () => {
    const c = new RawClient(mock.url, { user: { name: 'ops', password: 'S3cr3t!pass' } });
    try {
      assert.equal((await c.post(buildIdentify(), {}, '/other')).status, 404);
      const res = await fetch(mock.url, { method: 'GET' });
      assert.equal(res.status, 405);
    } finally {
      c.close();
    }
  });

  it('the request log records method, action, scheme, user, sizes and status; never a password or token', async () => {
    const c = new RawClient(mock.url, { user: { name: 'ops', password: 'S3cr3t!pass' } });
    const bad = new RawClient(mock.url, { user: { name: 'ops', password: 'Wr0ng!pass' } });
    try {
      const r = await c.run('echo logged');
      assert.equal(r.exitCode, 0);
      await bad.post(buildIdentify());
      const log = mock.requestLog;
      const create = log.find((e) => e.action === 'Create')!;
      assert.equal(create.method, 'POST');
      assert.equal(create.authScheme, 'Basic');
      assert.equal(create.user, 'ops');
      assert.equal(create.status, 200);
      assert.ok(create.requestBytes > 500 && create.responseBytes > 500);
      assert.ok(log.some((e) => e.status === 401));
      const text = JSON.stringify(log);
      for (const secret of ['S3cr3t!pass', 'Wr0ng!pass', Buffer.from('ops:S3cr3t!pass').toString('base64')]) {
        assert.ok(!text.includes(secret), `log contains ${secret}`);
      }
      assert.ok(!JSON.stringify(mock.stats).includes('S3cr3t'));
      assert.equal(mock.stats.byAction.Create! >= 1, true);
    } finally {
      c.close();
      bad.close();
    }
  });

  it('introspection: open shells and their commands, with command line, state and signals', async () => {
    const c = new RawClient(mock.url, { user: { name: 'ops', password: 'S3cr3t!pass' } });
    try {
      const shellId = await c.createShell({ environment: { X: '1' } });
      const commandId = await c.command(shellId, 'mock-sleep', ['5000']);
      await c.signal(shellId, commandId, 'ctrl_break');
      const [shell] = mock.shells();
      assert.equal(shell?.shellId, shellId);
      assert.equal(shell?.owner, 'ops');
      assert.equal(shell?.commands[0]?.commandId, commandId);
      assert.equal(shell?.commands[0]?.commandLine, 'mock-sleep 5000');
      assert.deepEqual(shell?.commands[0]?.signals, ['ctrl_break']);
      await c.deleteShell(shellId);
      assert.deepEqual(mock.shells(), []);
      const created = mock.stats.shellsCreated;
      assert.ok(created >= 1);
    } finally {
      c.close();
    }
  });
});

describe('mock close()', () => {
  it('destroys keep-alive sockets, kills running commands and resolves', async () => {
    const mock = await startBasicMock();
    const c = new RawClient(mock.url);
    const shellId = await c.createShell();
    await c.command(shellId, 'mock-sleep 60000');
    const pending = c.receiveOnce(shellId, 'nope').catch(() => 'failed');
    const t0 = Date.now();
    await mock.close();
    assert.ok(Date.now() - t0 < 2000);
    await pending;
    await assert.rejects(c.post(buildIdentify()));
    c.close();
    // close() twice is fine.
    await mock.close();
  });

  it('does not wait forever for a host that ignores its abort signal', async () => {
    const stubborn = scriptedHost({
      stubborn: () => new Promise<number>((r) => setTimeout(() => r(0), 60_000).unref()),
    });
    const mock = await startBasicMock({ commandHost: stubborn });
    const c = new RawClient(mock.url);
    const shellId = await c.createShell();
    await c.command(shellId, 'stubborn');
    c.close();
    const t0 = Date.now();
    await mock.close();
    assert.ok(Date.now() - t0 < 5000, `close took ${Date.now() - t0} ms`);
  });
});
