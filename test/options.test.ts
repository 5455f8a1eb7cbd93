import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../src/errors.ts';
import { type ConnectionOptions, parseFingerprint, resolveOptions } from '../src/options.ts';

const base: ConnectionOptions = { host: 'srv', https: true, username: 'admin', password: 'pw' };

function fails(o: Partial<ConnectionOptions>, argument: string, pattern: RegExp): void {
  assert.throws(
    () => resolveOptions({ ...base, ...o } as ConnectionOptions),
    (e: unknown) => e instanceof InvalidArgumentError && e.argument === argument && pattern.test(e.message),
  );
}

describe('resolveOptions', () => {
  it('applies documented defaults', () => {
    const r = resolveOptions(base);
    assert.equal(r.url.toString(), 'https://srv:5986/wsman');
    assert.equal(r.operationTimeoutMs, 20_000);
    assert.equal(r.readTimeoutMs, 30_000);
    assert.equal(r.maxEnvelopeSize, 512_000);
    assert.equal(r.codepage, 65001);
    assert.equal(r.tls.verifyHostname, true);
    assert.equal(r.tls.insecureAcceptAnyCertificate, false);
    assert.equal(resolveOptions({ ...base, https: false, allowUnencrypted: true }).port, 5985);
  });
  it('refuses Basic over HTTP without the opt-in, quoting the server command', () =>
    fails({ https: false }, 'allowUnencrypted', /unencrypted/));
  it('puts the AllowUnencrypted command in the remedy', () => {
    try {
      resolveOptions({ ...base, https: false });
      assert.fail('expected an error');
    } catch (e) {
      assert.match(
        (e as InvalidArgumentError).remedy ?? '',
        /winrm set winrm\/config\/service @\{AllowUnencrypted="true"\}/,
      );
    }
  });
  it('requires the read timeout to exceed OperationTimeout', () =>
    fails({ operationTimeout: 60, readTimeout: 30 }, 'readTimeout', /greater than operationTimeout/));
  it('refuses a domain account with Basic', () => fails({ username: 'CORP\\alice' }, 'username', /Basic/i));
  it('checks ports, endpoints and fingerprints', () => {
    fails({ port: 70000 }, 'port', /1-65535/);
    fails({ endpoint: 'ftp://x/wsman' }, 'endpoint', /http/);
    fails({ endpoint: 'not a url' }, 'endpoint', /not a URL/);
    fails({ tls: { fingerprint: 'abc' } }, 'tls.fingerprint', /40 \(SHA-1\) or 64/);
    fails({ codepage: 1234 }, 'codepage', /not supported/);
    fails({ auth: 'kerberos' }, 'auth', /not available/);
    fails({ auth: 'basic', encryption: 'always' }, 'encryption', /cannot encrypt/);
    fails({ auth: 'ntlm', https: false, encryption: 'never' }, 'allowUnencrypted', /in the clear/);
    fails({ connectionType: 'WINRM_NATIVE' }, 'connectionType', /not available/);
  });
  it('parses thumbprints as winrm and certmgr print them', () => {
    assert.deepEqual(parseFingerprint('5c:36:b6:38:bc:31:f5:05:ef:7f:69:3d:9a:60:c0:15:51:dd:48:6f'), {
      algorithm: 'sha1',
      hex: '5C36B638BC31F505EF7F693D9A60C01551DD486F',
    });
    assert.equal(parseFingerprint('AB'.repeat(32)).algorithm, 'sha256');
  });
  it('encrypts NTLM over HTTP by default, not inside HTTPS', () => {
    assert.equal(resolveOptions({ ...base, auth: 'ntlm', https: false }).encrypt, true);
    assert.equal(resolveOptions({ ...base, auth: 'ntlm' }).encrypt, false);
    assert.equal(resolveOptions({ ...base, auth: 'ntlm', encryption: 'always' }).encrypt, true);
    assert.equal(resolveOptions({ ...base }).encrypt, false);
  });
  it('takes an endpoint URL as given', () => {
    const r = resolveOptions({ ...base, endpoint: 'http://10.0.0.5:8080/wsman', allowUnencrypted: true });
    assert.equal(r.port, 8080);
    assert.equal(r.https, false);
  });
});
