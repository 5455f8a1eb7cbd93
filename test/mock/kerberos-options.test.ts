/** The mock's Kerberos options: defaults, checks, and what the 401 offers with and without a keytab. */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.ts';
import { startMockServer } from '../../src/mock/index.ts';
import { MOCK_DEFAULTS, resolveOptions } from '../../src/mock/options.ts';

/** A one-entry MIT keytab (HTTP/localhost@R, aes256, kvno 1) built by hand. */
function tinyKeytab(): Buffer {
  const str = (s: string) => {
    const b = Buffer.from(s);
    const n = Buffer.alloc(2);
    n.writeUInt16BE(b.length);
    return Buffer.concat([n, b]);
  };
  const tail = Buffer.alloc(9 + 2);
  tail.writeUInt32BE(1, 0);
  tail[8] = 1;
  tail.writeUInt16BE(18, 9);
  const key = Buffer.concat([Buffer.from([0, 32]), Buffer.alloc(32, 7)]);
  const body = Buffer.concat([Buffer.from([0, 2]), str('R'), str('HTTP'), str('localhost'), tail, key]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([Buffer.from([5, 2]), size, body]);
}

function challenges(url: string): Promise<{ status: number; offered: string[] }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { 'Content-Length': 0 } }, (res) => {
      res.resume();
      const offered = res.rawHeaders.filter(
        (_, i, a) => i % 2 === 1 && a[i - 1]!.toLowerCase() === 'www-authenticate',
      );
      resolve({ status: res.statusCode!, offered });
    });
    req.once('error', reject);
    req.end();
  });
}

describe('mock Kerberos options', () => {
  it('defaults: no Kerberos; with a keytab the skew is 5 minutes', () => {
    assert.equal(resolveOptions({}).auth.kerberos, undefined);
    const r = resolveOptions({ auth: { kerberos: { keytab: tinyKeytab() } } });
    assert.equal(r.auth.kerberos?.maxClockSkewMs, 300_000);
    assert.deepEqual(
      r.auth.kerberos?.keys.map((k) => `${k.principal}@${k.realm}/${k.enctype}/${k.kvno}`),
      ['HTTP/localhost@R/18/1'],
    );
    assert.equal(MOCK_DEFAULTS.kerberosMaxClockSkewMs, 300_000);
  });

  it('refuses a bad skew, a keytab that is neither path nor bytes, and a user principal without a realm', () => {
    const bad = (f: () => unknown, argument: string) =>
      assert.throws(f, (e: unknown) => e instanceof InvalidArgumentError && e.argument === argument);
    bad(
      () => resolveOptions({ auth: { kerberos: { keytab: '/k', maxClockSkewMs: -1 } } }),
      'auth.kerberos.maxClockSkewMs',
    );
    bad(
      () => resolveOptions({ auth: { kerberos: { keytab: 42 as unknown as string } } }),
      'auth.kerberos.keytab',
    );
    bad(() => resolveOptions({ users: [{ name: 'a', password: 'p', kerberos: 'alice' }] }), 'users');
  });

  it('a missing or empty keytab fails at start (before anything is created) with the option named', async () => {
    await assert.rejects(
      startMockServer({ auth: { kerberos: { keytab: '/nonexistent/krb5.keytab' } } }),
      (e: unknown) =>
        e instanceof InvalidArgumentError && e.argument === 'auth.kerberos.keytab' && /ktadd/.test(e.message),
    );
    await assert.rejects(
      startMockServer({ auth: { kerberos: { keytab: Buffer.from([5, 2]) } } }),
      (e: unknown) => e instanceof InvalidArgumentError && /no keys/.test(e.message),
    );
  });

  it('with a keytab the 401 offers Kerberos after Negotiate, as Windows orders them; without one it does not', async () => {
    const withKrb = await startMockServer({ auth: { negotiate: true, kerberos: { keytab: tinyKeytab() } } });
    const without = await startMockServer({ auth: { negotiate: true } });
    try {
      assert.deepEqual((await challenges(withKrb.url)).offered, ['Negotiate', 'Kerberos']);
      assert.deepEqual((await challenges(without.url)).offered, ['Negotiate']);
    } finally {
      await withKrb.close();
      await without.close();
    }
  });
});
