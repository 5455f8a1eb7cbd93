/** Kerberos options and SPN derivation: defaults, service class, port, explicit SPN, canonicalisation. No realm. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostBasedName, servicePrincipal } from '../../src/auth/kerberos/mechanism.ts';
import { InvalidArgumentError } from '../../src/errors.ts';
import { KERBEROS_DEFAULTS } from '../../src/options/auth.ts';
import { type ConnectionOptions, resolveOptions } from '../../src/options/index.ts';

const base: ConnectionOptions = {
  endpoint: 'http://web01.corp.example.com:5985/wsman',
  username: 'alice@corp.example.com',
  auth: 'kerberos',
};

const fakeDns = {
  resolveCname: async (h: string) => (h === 'alias.corp.example.com' ? ['web01.corp.example.com.'] : []),
  reverse: async (ip: string) => (ip === '10.0.0.7' ? ['WEB01.corp.example.com'] : []),
};

describe('Kerberos options', () => {
  it('resolve with documented defaults; no password needed (ticket cache); encryption on over HTTP', () => {
    const o = resolveOptions(base);
    assert.deepEqual(o.kerberos, KERBEROS_DEFAULTS);
    assert.equal(KERBEROS_DEFAULTS.serviceClass, 'WSMAN');
    assert.equal(o.hasPassword, false);
    assert.equal(o.encrypt, true);
    assert.equal(resolveOptions({ ...base, endpoint: 'https://h:5986/wsman' }).encrypt, false);
  });

  it('derive the SPN: WSMAN/<host>, HTTP/ with kerberosUseHttpSpn, :port with kerberosAddPortToSpn', async () => {
    const spn = (extra: Partial<ConnectionOptions>) =>
      servicePrincipal(resolveOptions({ ...base, ...extra }), fakeDns);
    assert.equal(await spn({}), 'WSMAN/web01.corp.example.com');
    assert.equal(await spn({ kerberosUseHttpSpn: true }), 'HTTP/web01.corp.example.com');
    assert.equal(await spn({ kerberosAddPortToSpn: true }), 'WSMAN/web01.corp.example.com:5985');
    assert.equal(
      await spn({ kerberosSpn: 'HTTP/other.example.com:8080', kerberosUseHttpSpn: false }),
      'HTTP/other.example.com:8080',
    );
    assert.equal(hostBasedName('WSMAN/web01.corp.example.com:5985'), 'WSMAN@web01.corp.example.com:5985');
  });

  it('canonicalise the host only when asked: CNAME target, reverse DNS for an address', async () => {
    const spn = (endpoint: string, canon: boolean) =>
      servicePrincipal(resolveOptions({ ...base, endpoint, kerberosCanonicalizeHostname: canon }), fakeDns);
    assert.equal(
      await spn('http://alias.corp.example.com:5985/wsman', false),
      'WSMAN/alias.corp.example.com',
    );
    assert.equal(await spn('http://alias.corp.example.com:5985/wsman', true), 'WSMAN/web01.corp.example.com');
    assert.equal(await spn('http://10.0.0.7:5985/wsman', true), 'WSMAN/web01.corp.example.com');
    assert.equal(await spn('http://10.0.0.8:5985/wsman', true), 'WSMAN/10.0.0.8', 'no PTR: the address');
  });

  it('refuse bad values naming the option', () => {
    const refuses = (extra: Partial<ConnectionOptions>, argument: string, re: RegExp) =>
      assert.throws(
        () => resolveOptions({ ...base, ...extra }),
        (e: unknown) => e instanceof InvalidArgumentError && e.argument === argument && re.test(e.message),
      );
    refuses({ kerberosSpn: 'web01' }, 'kerberosSpn', /SERVICE\/host\[:port\]/);
    refuses({ kerberosSpn: 'WSMAN/web01@CORP.EXAMPLE.COM' }, 'kerberosSpn', /no @REALM/);
    refuses({ kerberosScheme: 'NTLM' as never }, 'kerberosScheme', /Unknown kerberosScheme/);
    refuses({ kerberosDelegate: 'yes' as never }, 'kerberosDelegate', /true or false/);
    refuses({ username: 'CORP\\alice' }, 'username', /DOMAIN\\USER/);
    refuses({ username: 'alice' }, 'username', /Kerberos cannot use the local account/);
  });

  it('the mechanism never shows the password', async () => {
    const { mechanismFor } = await import('../../src/auth/index.ts');
    const { inspect } = await import('node:util');
    const mech = mechanismFor(resolveOptions({ ...base, password: 'Krb-Secret-9' }));
    assert.doesNotMatch(inspect(mech) + JSON.stringify(mech) + mech.describeAccount(), /Krb-Secret-9/);
    assert.match(mech.describeAccount(), /alice@CORP\.EXAMPLE\.COM/);
  });
});

describe('Kerberos stays optional and keeps the password off command lines', () => {
  it('no module of src/ imports the kerberos addon statically (only addon.ts, dynamically)', async () => {
    const { readdir, readFile } = await import('node:fs/promises');
    const files = (await readdir(new URL('../../src/', import.meta.url), { recursive: true })).filter((f) =>
      f.endsWith('.ts'),
    );
    const importers: string[] = [];
    for (const f of files) {
      const text = await readFile(new URL(`../../src/${f}`, import.meta.url), 'utf8');
      if (/from\s+['"]kerberos['"]|require\(\s*['"]kerberos['"]|import\(\s*['"]kerberos['"]/.test(text))
        importers.push(f);
    }
    assert.deepEqual(importers, [], 'no literal import of the addon (bundlers would try to bundle it)');
    const loader = await readFile(new URL('../../src/auth/kerberos/addon.ts', import.meta.url), 'utf8');
    assert.doesNotMatch(loader, /^import .*['"]kerberos['"]/m, 'no static import');
    assert.match(loader, /=> importLazily\('kerberos'\)/, 'a dynamic import of a name bundlers leave alone');
  });

  it('password: the KDC gets no password bytes; the error shows none', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createServer } = await import('node:net');
    const { passwordCredentials } = await import('../../src/auth/kerberos/credentials.ts');
    // A fake KDC that records what it gets and hangs up.
    const received: Buffer[] = [];
    const kdc = createServer((s) => {
      s.on('data', (b: Buffer) => {
        received.push(b);
        s.destroy();
      });
    });
    await new Promise<void>((r) => kdc.listen(0, '127.0.0.1', r));
    const port = (kdc.address() as { port: number }).port;
    const dir = await mkdtemp(join(tmpdir(), 'fake-kdc-'));
    const saved = process.env.KRB5_CONFIG;
    try {
      await writeFile(join(dir, 'krb5.conf'), `[realms]\n  R.TEST = {\n    kdc = 127.0.0.1:${port}\n  }\n`);
      process.env.KRB5_CONFIG = join(dir, 'krb5.conf');
      const creds = passwordCredentials('Sup3r-Secret-Pw', { timeoutMs: 5000 });
      await assert.rejects(
        creds.use('alice@R.TEST', async () => 1),
        (e: Error) =>
          /Cannot contact any KDC for realm 'R\.TEST'/.test(e.message) && !/Sup3r/.test(e.message),
      );
      const sent = Buffer.concat(received);
      assert.ok(sent.length > 50, 'an AS-REQ was sent');
      assert.ok(sent.includes(Buffer.from('alice')), 'the AS-REQ names the client');
      assert.equal(sent.indexOf(Buffer.from('Sup3r-Secret-Pw')), -1, 'no password in the AS-REQ');
      assert.equal(creds.cache, undefined, 'no cache without a TGT');
    } finally {
      if (saved === undefined) delete process.env.KRB5_CONFIG;
      else process.env.KRB5_CONFIG = saved;
      await new Promise<void>((r) => kdc.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
