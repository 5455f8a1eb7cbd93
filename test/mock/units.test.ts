/** Small units of the mock: DER writer, certificate, codepage table, options, output queue, file area. */
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.ts';
import { decodeText, encodeText } from '../../src/mock/hosts/codepage.ts';
import { FileArea, isNulDevice } from '../../src/mock/hosts/files.ts';
import { MOCK_DEFAULTS, resolveOptions } from '../../src/mock/options.ts';
import { OutputQueue } from '../../src/mock/shells/output.ts';
import { generateSelfSignedCertificate } from '../../src/mock/tls/certificate.ts';
import { integer, oid, time } from '../../src/mock/tls/der.ts';

describe('DER writer', () => {
  it('encodes OIDs, integers and times per X.690', () => {
    assert.equal(oid('1.2.840.113549.1.1.11').toString('hex'), '06092a864886f70d01010b');
    assert.equal(integer(0).toString('hex'), '020100');
    assert.equal(integer(128).toString('hex'), '02020080');
    assert.equal(integer(Buffer.from([0, 0, 1])).toString('hex'), '020101');
    assert.equal(
      time(new Date(Date.UTC(2030, 0, 2, 3, 4, 5)))
        .toString('latin1')
        .slice(2),
      '300102030405Z',
    );
    assert.equal(
      time(new Date(Date.UTC(2050, 0, 1)))
        .toString('latin1')
        .slice(2),
      '20500101000000Z',
    );
  });
});

describe('self-signed certificate', () => {
  it('parses, self-verifies, matches its key, and reports upper-case thumbprints', async () => {
    const c = await generateSelfSignedCertificate({
      commonName: 'HOST1',
      altNames: ['host1', '10.0.0.1', '::1'],
    });
    const x = new X509Certificate(c.certPem);
    assert.equal(x.subject, 'CN=HOST1');
    assert.ok(x.verify(x.publicKey));
    assert.ok(x.checkPrivateKey(createPrivateKey(c.keyPem)));
    assert.equal(x.fingerprint.replace(/:/g, ''), c.thumbprints.sha1);
    assert.equal(x.fingerprint256.replace(/:/g, ''), c.thumbprints.sha256);
    assert.equal(x.subjectAltName, 'DNS:host1, IP Address:10.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.ok(new Date(x.validTo).getTime() > Date.now() + 300 * 86_400_000);
  });
});

describe('codepage 437', () => {
  it('round-trips every byte 0x80-0xFF and maps the unrepresentable to ?', () => {
    const all = Buffer.from(Array.from({ length: 128 }, (_, i) => 0x80 + i));
    assert.deepEqual(encodeText(decodeText(all, 437), 437), all);
    assert.equal(decodeText(Buffer.from([0x9b, 0xe1, 0xfd]), 437), '¢ß²');
    assert.deepEqual(encodeText('€ 中', 437), Buffer.from('? ?'));
    assert.deepEqual(encodeText('€', 65001), Buffer.from([0xe2, 0x82, 0xac]));
  });
});

describe('options', () => {
  it('defaults are Windows’', () => {
    const o = resolveOptions();
    assert.equal(o.auth.basic, false);
    assert.equal(o.allowUnencrypted, false);
    assert.equal(o.maxEnvelopeSize, 512_000);
    assert.equal(o.quotas.maxShellsPerUser, 30);
    assert.equal(o.quotas.maxConcurrentOperationsPerUser, 1500);
    assert.equal(o.quotas.idleTimeoutMs, 7_200_000);
    assert.equal(o.quotas.maxTimeoutMs, 60_000);
    assert.deepEqual(o.users, [{ name: 'vagrant', password: 'vagrant', domain: 'WIN-MOCK' }]);
    assert.equal(o.path, MOCK_DEFAULTS.path);
  });

  it('bad values throw InvalidArgumentError naming the option', () => {
    for (const [opts, name] of [
      [{ port: -1 }, 'port'],
      [{ path: 'wsman' }, 'path'],
      [{ maxEnvelopeSize: 100 }, 'maxEnvelopeSize'],
      [{ quotas: { maxShellsPerUser: 0 } }, 'quotas.maxShellsPerUser'],
      [{ users: [{ name: 'a:b', password: 'x' }] }, 'users'],
      [{ auth: { negotiate: true, channelBinding: 'relaxed' } }, 'auth.channelBinding'],
      [{ tls: { key: 'k', cert: 'c' } }, 'tls'],
    ] as const) {
      assert.throws(
        () => resolveOptions(opts as never),
        (e: unknown) => e instanceof InvalidArgumentError && e.argument === name,
      );
    }
  });
});

describe('output queue', () => {
  it('keeps order, merges small writes, and makes writers wait above the limit', async () => {
    const q = new OutputQueue(10);
    await q.write('stdout', Buffer.from('abc'));
    await q.write('stdout', Buffer.from('def'));
    await q.write('stderr', Buffer.from('E'));
    let released = false;
    const blocked = q.write('stdout', Buffer.from('0123456789')).then(() => {
      released = true;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(released, false);
    assert.deepEqual(q.peek(), { stream: 'stdout', data: Buffer.from('abcdef') });
    assert.equal(q.consume(4).toString(), 'abcd');
    assert.equal(q.consume(10).toString(), 'ef');
    assert.equal(q.consume(10).toString(), 'E');
    await blocked;
    assert.equal(released, true);
    assert.equal(q.size, 10);
  });
});

describe('file area', () => {
  it('maps drive paths under the root and never above it', () => {
    const f = new FileArea('/r');
    assert.equal(f.resolve('C:\\Users\\x\\a.txt', 'C:\\'), '/r/C/Users/x/a.txt');
    assert.equal(f.resolve('b.txt', 'd:\\work'), '/r/D/work/b.txt');
    assert.equal(f.resolve('..\\..\\..\\etc', 'C:\\a'), '/r/C/etc');
    assert.equal(f.resolve('\\\\server\\share', 'C:\\'), undefined);
    assert.ok(isNulDevice('NUL') && isNulDevice('nul:') && !isNulDevice('null'));
  });
});
