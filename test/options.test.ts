import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connect } from '../src/connect.ts';
import { InvalidArgumentError } from '../src/errors.ts';
import { resolveAuth } from '../src/options/auth.ts';
import { resolveCommon } from '../src/options/common.ts';
import {
  type ConnectionOptions,
  parseFingerprint,
  resolveWinRmInternal as resolve,
} from '../src/options/index.ts';
import { resolveWinRm } from '../src/options/winrm.ts';

const base: ConnectionOptions = { host: 'srv', https: true, username: 'admin', password: 'pw' };

function refuses(fn: () => unknown, argument: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(e)}`);
    assert.equal(e.argument, argument, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}
const fails = (o: Record<string, unknown>, argument: string, pattern: RegExp) =>
  refuses(() => resolve({ ...base, ...o } as ConnectionOptions), argument, pattern);

describe('resolveWinRmInternal', () => {
  it('applies documented defaults, every duration in milliseconds', () => {
    const r = resolve(base);
    assert.equal(r.url.toString(), 'https://srv:5986/wsman');
    assert.equal(r.operationTimeoutMs, 20_000);
    assert.equal(r.readTimeoutMs, 30_000);
    assert.equal(r.connectTimeoutMs, 15_000);
    assert.equal(r.maxEnvelopeSize, 512_000);
    assert.equal(r.maxResponseBytes, 4 * 512_000);
    assert.equal(r.maxConcurrentRequests, 16);
    assert.equal(r.maxShells, 16);
    assert.equal(r.maxCommandsPerShell, 1000);
    assert.equal(r.codepage, 65001);
    assert.equal(r.auth, 'basic');
    assert.equal(r.channelBinding, true);
    assert.equal(r.tls.verifyHostname, true);
    assert.equal(r.tls.insecureAcceptAnyCertificate, false);
    assert.equal(resolve({ ...base, https: false, allowUnencrypted: true }).port, 5985);
    assert.equal(resolve({ ...base, maxConcurrentRequests: 12 }).maxShells, 12);
  });
  it('takes durations in milliseconds as given; readTimeout defaults to operationTimeout + 10 s', () => {
    const r = resolve({ ...base, operationTimeout: 1500, connectTimeout: 250 });
    assert.equal(r.operationTimeoutMs, 1500);
    assert.equal(r.readTimeoutMs, 11_500);
    assert.equal(r.connectTimeoutMs, 250);
    assert.equal(resolve({ ...base, operationTimeout: 1500, readTimeout: 1501 }).readTimeoutMs, 1501);
  });

  // [options, the option named, message]: values that cannot be right.
  const BAD: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ operationTimeout: -1 }, 'operationTimeout', /milliseconds from 100/],
    [{ operationTimeout: 20 }, 'operationTimeout', /milliseconds from 100/],
    [{ operationTimeout: Number.NaN }, 'operationTimeout', /got NaN/],
    [{ operationTimeout: Number.POSITIVE_INFINITY }, 'operationTimeout', /got Infinity/],
    [{ operationTimeout: '20000' }, 'operationTimeout', /milliseconds/],
    [{ readTimeout: 0 }, 'readTimeout', /milliseconds/],
    [{ readTimeout: 2 ** 31 }, 'readTimeout', /milliseconds from 1 to 2147483647/],
    [{ operationTimeout: 60_000, readTimeout: 30_000 }, 'readTimeout', /greater than operationTimeout/],
    [{ operationTimeout: 30_000, readTimeout: 30_000 }, 'readTimeout', /greater than operationTimeout/],
    [{ connectTimeout: -5 }, 'connectTimeout', /milliseconds/],
    [{ connectTimeout: Number.POSITIVE_INFINITY }, 'connectTimeout', /milliseconds/],
    [{ maxShells: 0 }, 'maxShells', /whole number of at least 1/],
    [{ maxShells: 0.5 }, 'maxShells', /whole number/],
    [{ maxConcurrentRequests: -1 }, 'maxConcurrentRequests', /at least 1/],
    [{ maxCommandsPerShell: Number.NaN }, 'maxCommandsPerShell', /whole number/],
    [{ maxEnvelopeSize: 8191 }, 'maxEnvelopeSize', /at least 8192/],
    [{ maxResponseBytes: 0 }, 'maxResponseBytes', /at least 1/],
    [{ locale: 'en US' }, 'locale', /language tag/],
    [{ port: 70000 }, 'port', /1-65535/],
    [{ endpoint: 'ftp://x/wsman' }, 'endpoint', /http/],
    [{ endpoint: 'not a url' }, 'endpoint', /not a URL/],
    [{ endpoint: 'https://u:p@srv/wsman' }, 'endpoint', /credentials/],
    [{ host: undefined }, 'host', /required/],
    [{ username: '' }, 'username', /required/],
    [{ password: undefined }, 'password', /required for auth 'basic'/],
    [{ password: 42 }, 'password', /string/],
    [{ logger: 'stderr' }, 'logger', /function/],
    [{ tls: { fingerprint: 'abc' } }, 'tls.fingerprint', /40 \(SHA-1\) or 64/],
    [{ tls: { fingerprint: 'AB'.repeat(20), insecureAcceptAnyCertificate: true } }, 'tls', /contradict/],
    [{ codepage: 1234 }, 'codepage', /not supported/],
    [{ auth: 'digest' }, 'auth', /Unknown auth "digest"/],
    [{ auth: 'kerberos' }, 'username', /Kerberos cannot use the local account/],
    [{ encryption: 'sometimes' }, 'encryption', /Unknown encryption/],
    [{ auth: 'basic', encryption: 'always' }, 'encryption', /cannot encrypt/],
    [{ auth: 'ntlm', https: false, encryption: 'never' }, 'allowUnencrypted', /in the clear/],
    [{ https: false }, 'allowUnencrypted', /unencrypted/],
    [{ allowUnencrypted: 'yes' }, 'allowUnencrypted', /true or false/],
    [{ channelBinding: 1 }, 'channelBinding', /true or false/],
    [{ username: 'CORP\\alice' }, 'username', /Basic/i],
    [{ connectionType: 'WINRM_SSH' }, 'connectionType', /Unknown connectionType "WINRM_SSH"/],
  ];
  for (const [o, argument, pattern] of BAD) {
    it(`refuses ${JSON.stringify(o, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))}`, () =>
      fails(o, argument, pattern));
  }

  it('says in the remedy that durations are milliseconds', () => {
    try {
      resolve({ ...base, operationTimeout: 20 });
      assert.fail('expected an error');
    } catch (e) {
      assert.match((e as InvalidArgumentError).remedy ?? '', /milliseconds.*20_000/);
    }
  });
  it('puts the AllowUnencrypted command in the remedy', () => {
    try {
      resolve({ ...base, https: false });
      assert.fail('expected an error');
    } catch (e) {
      assert.match(
        (e as InvalidArgumentError).remedy ?? '',
        /winrm set winrm\/config\/service @\{AllowUnencrypted="true"\}/,
      );
    }
  });
  it('parses thumbprints as winrm and certmgr print them', () => {
    assert.deepEqual(parseFingerprint('5c:36:b6:38:bc:31:f5:05:ef:7f:69:3d:9a:60:c0:15:51:dd:48:6f'), {
      algorithm: 'sha1',
      hex: '5C36B638BC31F505EF7F693D9A60C01551DD486F',
    });
    assert.equal(parseFingerprint('AB'.repeat(32)).algorithm, 'sha256');
  });
  it('encrypts NTLM over HTTP by default, not inside HTTPS', () => {
    assert.equal(resolve({ ...base, auth: 'ntlm', https: false }).encrypt, true);
    assert.equal(resolve({ ...base, auth: 'ntlm' }).encrypt, false);
    assert.equal(resolve({ ...base, auth: 'ntlm', encryption: 'always' }).encrypt, true);
    assert.equal(resolve({ ...base }).encrypt, false);
  });
  it('takes an endpoint URL as given', () => {
    const r = resolve({ ...base, endpoint: 'http://10.0.0.5:8080/wsman', allowUnencrypted: true });
    assert.equal(r.port, 8080);
    assert.equal(r.https, false);
    assert.equal(r.host, '10.0.0.5');
  });
});

describe('options per concern', () => {
  it('resolveCommon needs no password (mechanisms without one), resolveAuth does for Basic and NTLM', () => {
    const common = resolveCommon({ username: 'CORP\\alice' });
    assert.equal(common.password, undefined);
    assert.equal(common.account.kind, 'downlevel');
    const facts = { https: true, where: 'srv:5986', password: undefined };
    refuses(() => resolveAuth({ auth: 'ntlm' }, facts), 'password', /required for auth 'ntlm'/);
    assert.equal(resolveAuth({ auth: 'ntlm' }, { ...facts, password: 'x' }).encrypt, false);
  });
  it('resolveWinRm returns only transport and WS-Man settings', () => {
    const w = resolveWinRm({ endpoint: 'https://[::1]:5986/wsman' }, undefined);
    assert.equal(w.host, '::1');
    assert.equal('password' in w || 'account' in w, false);
  });
});

describe('connect() registry', () => {
  it('WINRM_NATIVE is registered: without winrs and no proxy, connect() names the options', async (t) => {
    if (process.platform === 'win32') return t.skip('Windows has winrs.exe');
    await assert.rejects(connect({ ...base, connectionType: 'WINRM_NATIVE' }), (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError);
      assert.equal(e.argument, 'winrsPath');
      assert.match(e.remedy ?? '', /winrsProxyProtocol/);
      return true;
    });
  });
  it('refuses an unknown connectionType and a missing options object', async () => {
    await assert.rejects(
      connect({ ...base, connectionType: 'SMB' as never }),
      (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'connectionType',
    );
    await assert.rejects(
      connect(undefined as never),
      (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'options',
    );
  });
  it('returns a plain Connection whose stats() start at zero', async () => {
    const conn = await connect(base);
    try {
      assert.equal(conn.connectionType, 'WINRM_INTERNAL');
      assert.deepEqual(conn.stats(), { processesRunning: 0, requests: 0, shellsOpen: 0 });
      assert.equal('requestCount' in conn, false);
    } finally {
      await conn.close();
    }
  });
});

describe('the resolved password is a Secret (issue #11 item 9)', () => {
  it('prints [redacted] in String, JSON and inspect, and reveals the value to the mechanism only', async () => {
    const { inspect } = await import('node:util');
    const auth = resolveAuth({ auth: 'ntlm' }, { https: false, where: 'h:5985', password: 'Opt-Passw0rd!' });
    assert.equal(String(auth.password), '[redacted]');
    assert.equal(JSON.stringify(auth), JSON.stringify({ ...auth, password: '[redacted]' }));
    assert.ok(!inspect(auth, { depth: Infinity, showHidden: true }).includes('Opt-Passw0rd!'));
    assert.equal(auth.password.reveal(), 'Opt-Passw0rd!');
    const basic = resolve({
      host: 'h',
      username: 'deploy',
      password: 'Opt-Passw0rd!',
      allowUnencrypted: true,
    });
    assert.deepEqual(basic.password.related(), ['deploy:Opt-Passw0rd!']);
  });
});
