/** [MS-WSMV] 2.2.9.1 framing for any security context, including one whose sealed data is longer (padding). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SecurityContext } from '../../src/auth/mechanism.ts';
import {
  decryptMessage,
  encryptMessage,
  frameEncrypted,
  parseEncrypted,
} from '../../src/auth/message-encryption.ts';
import { ProtocolError } from '../../src/errors.ts';

/** A context like Kerberos': a 28-byte header, data XORed and padded to a multiple of 16 with the pad count. */
function paddingContext(): SecurityContext {
  return {
    encrypts: true,
    wrap(plain) {
      const pad = 16 - (plain.length % 16);
      const data = Buffer.concat([plain, Buffer.alloc(pad, pad)]).map((b) => b ^ 0x5a);
      return { header: Buffer.alloc(28, 0xee), data: Buffer.from(data) };
    },
    unwrap(header, data) {
      if (header.length !== 28 || !header.every((b) => b === 0xee)) throw new ProtocolError('bad header');
      const clear = Buffer.from(data.map((b) => b ^ 0x5a));
      return clear.subarray(0, clear.length - clear[clear.length - 1]!);
    },
  };
}

describe('message encryption framing', () => {
  const soap = Buffer.from('<s:Envelope>é</s:Envelope>');

  it('round-trips a padding context: Length is the plaintext length, the data longer', () => {
    const ctx = paddingContext();
    const framed = encryptMessage(ctx, soap);
    assert.match(framed.toString('latin1'), new RegExp(`Length=${soap.length}\\r\\n`));
    const parts = parseEncrypted(framed);
    assert.equal(parts.length, soap.length);
    assert.equal(parts.header.length, 28);
    assert.ok(parts.data.length > soap.length, 'padded data is longer than the plaintext');
    assert.deepEqual(decryptMessage(ctx, framed), soap);
  });

  it('round-trips an equal-length context and accepts field variants', () => {
    const wrapped = { header: Buffer.alloc(16, 7), data: Buffer.from('sealed-bytes') };
    const framed = frameEncrypted(wrapped, 12);
    const variant = Buffer.from(
      framed
        .toString('latin1')
        .replace(/\t/g, '')
        .replace(/--Encrypted Boundary/g, '-- Encrypted Boundary')
        .replace(/\r\n/g, '\n'),
      'latin1',
    );
    for (const body of [framed, variant]) {
      const p = parseEncrypted(body);
      assert.deepEqual([p.header, p.data, p.length], [wrapped.header, wrapped.data, 12]);
    }
  });

  it('refuses data shorter than Length, a plaintext of another length, and truncation', () => {
    const wrapped = { header: Buffer.alloc(16), data: Buffer.from('abc') };
    assert.throws(
      () => parseEncrypted(frameEncrypted(wrapped, 4)),
      /holds 3 bytes but OriginalContent declares 4/,
    );
    assert.throws(() => parseEncrypted(frameEncrypted(wrapped, 3).subarray(0, 60)), ProtocolError);
    const liar: SecurityContext = { encrypts: true, wrap: () => wrapped, unwrap: () => Buffer.from('ab') };
    assert.throws(() => decryptMessage(liar, frameEncrypted(wrapped, 3)), /decrypted message has 2 bytes/);
    const header = Buffer.concat([Buffer.from([200, 0, 0, 0]), Buffer.alloc(4)]);
    const bad = Buffer.from(
      frameEncrypted(wrapped, 3)
        .toString('latin1')
        .replace(
          /octet-stream\r\n[\s\S]*--Encrypted Boundary--/,
          `octet-stream\r\n${header.toString('latin1')}--Encrypted Boundary--`,
        ),
      'latin1',
    );
    assert.throws(() => parseEncrypted(bad), /shorter than its header/);
  });
});
