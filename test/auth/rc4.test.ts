import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { Rc4, rc4 } from '../../src/auth/ntlm/rc4.ts';

const hex = (b: Buffer): string => b.toString('hex');

describe('rc4', () => {
  it('matches the classic known-answer vectors', () => {
    assert.equal(hex(rc4(Buffer.from('Key'), Buffer.from('Plaintext'))), 'bbf316e8d940af0ad3');
    assert.equal(hex(rc4(Buffer.from('Wiki'), Buffer.from('pedia'))), '1021bf0420');
    assert.equal(
      hex(rc4(Buffer.from('Secret'), Buffer.from('Attack at dawn'))),
      '45a01f645fc35b383552544b9bf5',
    );
  });

  it('matches RFC 6229 (40-bit key 0102030405, keystream offsets 0 and 16)', () => {
    const stream = new Rc4(Buffer.from('0102030405', 'hex')).update(Buffer.alloc(32));
    assert.equal(hex(stream), 'b2396305f03dc027ccc3524a0a1118a86982944f18fc82d589c403a47a0d0919');
  });

  it('is stateful: chunked updates equal one update, and decrypting inverts encrypting', () => {
    const key = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7) & 0xff));
    const whole = new Rc4(key).update(data);
    const chunked = new Rc4(key);
    const parts = [
      chunked.update(data.subarray(0, 1)),
      chunked.update(data.subarray(1, 300)),
      chunked.update(data.subarray(300)),
    ];
    assert.deepEqual(Buffer.concat(parts), whole);
    assert.deepEqual(new Rc4(key).update(whole), data);
  });

  it('clone() forks an independent state', () => {
    const a = new Rc4(Buffer.from('k'));
    a.update(Buffer.alloc(5));
    const b = a.clone();
    const fromA = a.update(Buffer.alloc(8));
    assert.deepEqual(b.update(Buffer.alloc(8)), fromA);
    assert.notDeepEqual(a.update(Buffer.alloc(8)), fromA);
  });

  it('rejects empty keys and hides its state from inspect', () => {
    assert.throws(() => new Rc4(Buffer.alloc(0)), RangeError);
    assert.equal(inspect(new Rc4(Buffer.from('secret'))), 'Rc4 { state: <redacted> }');
  });
});
