/**
 * The mock acceptor's token layer without a realm: the MIT keytab reader (holes, 32-bit kvno, bad version) and
 * the RFC 4121 per-message tokens. The initiator side here is built in the test from RFC 4121 4.2.6.2 (header,
 * encrypted header copy with RRC 0, rotation), so RRC handling, the header-copy check, the flags and the
 * sequence numbers are checked against the text, not against the acceptor's own wrap.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decrypt, ENCTYPE, encrypt, randomKey } from '../../src/krb5/crypto.ts';
import { AcceptorContext, GssError } from '../../src/mock/auth/kerberos/gss.ts';
import { KeytabError, parseKeytab } from '../../src/mock/auth/kerberos/keytab.ts';

function counted(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  const n = Buffer.alloc(2);
  n.writeUInt16BE(b.length);
  return Buffer.concat([n, b]);
}

function entry(
  parts: string[],
  realm: string,
  kvno8: number,
  enctype: number,
  key: Buffer,
  kvno32?: number,
): Buffer {
  const fixed = Buffer.alloc(9);
  fixed.writeUInt32BE(1, 0); // KRB5_NT_PRINCIPAL
  fixed.writeUInt32BE(0x5f5e1000, 4);
  fixed[8] = kvno8;
  const type = Buffer.alloc(2);
  type.writeUInt16BE(enctype);
  const count = Buffer.alloc(2);
  count.writeUInt16BE(parts.length);
  const tail = kvno32 === undefined ? Buffer.alloc(0) : Buffer.alloc(4);
  if (kvno32 !== undefined) tail.writeUInt32BE(kvno32);
  const body = Buffer.concat([
    count,
    counted(realm),
    ...parts.map((p) => counted(p)),
    fixed,
    type,
    counted(key),
    tail,
  ]);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

/** An initiator's sealed Wrap token per RFC 4121 4.2.6.2 (EC 0), rotated by `rrc`. */
function initiatorWrap(
  key: { enctype: number; key: Buffer },
  plain: Buffer,
  seq: number,
  rrc: number,
  flags = 0x06,
) {
  const header = Buffer.alloc(16);
  header.writeUInt16BE(0x0504, 0);
  header[2] = flags;
  header[3] = 0xff;
  header.writeUInt16BE(0, 4);
  header.writeUInt16BE(0, 6);
  header.writeBigUInt64BE(BigInt(seq), 8);
  const sealed = encrypt(key, 24, Buffer.concat([plain, header]));
  const sent = Buffer.from(header);
  sent.writeUInt16BE(rrc, 6);
  const r = rrc % sealed.length;
  return Buffer.concat([sent, sealed.subarray(sealed.length - r), sealed.subarray(0, sealed.length - r)]);
}

describe('MIT keytab reader', () => {
  it('reads entries, skips holes and prefers the 32-bit kvno', () => {
    const k1 = Buffer.alloc(32, 1);
    const k2 = Buffer.alloc(16, 2);
    const hole = Buffer.alloc(4 + 7);
    hole.writeInt32BE(-7);
    const file = Buffer.concat([
      Buffer.from([0x05, 0x02]),
      entry(['HTTP', 'host.example'], 'EXAMPLE.COM', 2, 18, k1),
      hole,
      entry(['WSMAN', 'host.example'], 'EXAMPLE.COM', 4, 17, k2, 260),
    ]);
    assert.deepEqual(parseKeytab(file), [
      { principal: 'HTTP/host.example', realm: 'EXAMPLE.COM', kvno: 2, enctype: 18, key: k1 },
      { principal: 'WSMAN/host.example', realm: 'EXAMPLE.COM', kvno: 260, enctype: 17, key: k2 },
    ]);
  });

  it('refuses another version and a truncated entry', () => {
    assert.throws(() => parseKeytab(Buffer.from([0x05, 0x01, 0, 0, 0, 0])), KeytabError);
    const e = entry(['HTTP', 'h'], 'R', 1, 18, Buffer.alloc(32));
    assert.throws(
      () => parseKeytab(Buffer.concat([Buffer.from([5, 2]), e.subarray(0, e.length - 5)])),
      KeytabError,
    );
  });
});

describe('RFC 4121 per-message tokens (acceptor side)', () => {
  const plain = Buffer.from('<s:Envelope>a SOAP message of 45 bytes</s:Envelope>', 'latin1');

  it('unwraps initiator tokens at any RRC, in sequence, and refuses a replay', () => {
    const key = randomKey(ENCTYPE.aes256);
    const ctx = new AcceptorContext(key, true, 1000, 7);
    for (const [i, rrc] of [0, 28, 60, 1000].entries()) {
      assert.deepEqual(ctx.unwrap(initiatorWrap(key, plain, 1000 + i, rrc)), plain, `RRC ${rrc}`);
    }
    assert.throws(() => ctx.unwrap(initiatorWrap(key, plain, 1003, 28)), /sequence number/);
  });

  it('refuses a changed header, a reflected token, the wrong subkey flag and altered data', () => {
    const key = randomKey(ENCTYPE.aes128);
    const ctx = new AcceptorContext(key, true, 0, 0);
    const t = initiatorWrap(key, plain, 0, 28);
    const seqChanged = Buffer.from(t);
    seqChanged[15] = 9; // SND_SEQ outside the encrypted copy no longer matches it
    assert.throws(() => ctx.unwrap(seqChanged), /header does not match/);
    assert.throws(() => ctx.unwrap(initiatorWrap(key, plain, 0, 28, 0x07)), /acceptor \(reflected\)/);
    assert.throws(() => ctx.unwrap(initiatorWrap(key, plain, 0, 28, 0x02)), /AcceptorSubkey/);
    const flipped = Buffer.from(t);
    flipped[40]! ^= 1;
    assert.throws(() => ctx.unwrap(flipped), GssError);
    assert.deepEqual(ctx.unwrap(t), plain, 'the untouched token still unwraps (nothing was consumed)');
  });

  it('wraps as Windows does: flags 07, EC 0, RRC 28, header copy inside, the data as long as the plaintext', () => {
    const key = randomKey(ENCTYPE.aes256);
    const ctx = new AcceptorContext(key, true, 0, 41);
    const token = ctx.wrap(plain);
    assert.equal(token.readUInt16BE(0), 0x0504);
    assert.equal(token[2], 0x07);
    assert.equal(token.readUInt16BE(4), 0);
    assert.equal(token.readUInt16BE(6), 28);
    assert.equal(token.readBigUInt64BE(8), 41n);
    assert.equal(token.length - plain.length, 60, 'the WinRM header: 16 + 28 rotated + 16 confounder');
    const body = token.subarray(16);
    const unrotated = Buffer.concat([body.subarray(28), body.subarray(0, 28)]);
    const inner = decrypt(key, 22, unrotated);
    assert.deepEqual(inner.subarray(0, plain.length), plain);
    const copy = Buffer.from(token.subarray(0, 16));
    copy.writeUInt16BE(0, 6);
    assert.deepEqual(inner.subarray(plain.length), copy);
    assert.equal(ctx.wrap(plain).readBigUInt64BE(8), 42n);
  });
});

describe('independence of the mock acceptor', () => {
  it('nothing under src/mock imports the kerberos addon, a GSSAPI binding or the client in src/auth/kerberos', () => {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
    const mockDir = join(root, 'src/mock');
    const files = readdirSync(mockDir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.ts'));
    assert.ok(
      files.some((f) => f.includes('kerberos')),
      'the acceptor files are scanned',
    );
    const offending: string[] = [];
    for (const f of files) {
      const path = join(mockDir, f);
      const text = readFileSync(path, 'utf8');
      // Imports and re-exports (`import ... from '...'`, `export ... from '...'`), `import '...'`, import('...').
      const imports =
        /^\s*(?:import|export)\b[^;]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(?\s*['"]([^'"]+)['"]/gm;
      for (const m of text.matchAll(imports)) {
        const spec = (m[1] ?? m[2])!;
        const target = spec.startsWith('.') ? relative(root, resolve(dirname(path), spec)) : spec;
        if (/^(kerberos|gssapi|krb5)\b/i.test(target) || target.startsWith('src/auth/kerberos')) {
          offending.push(`${f}: ${spec}`);
        }
      }
    }
    assert.deepEqual(offending, []);
  });
});
