import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { md4 } from '../../src/auth/ntlm/md4.ts';

const hex = (b: Buffer): string => b.toString('hex');

describe('md4', () => {
  it('matches the RFC 1320 A.5 test suite', () => {
    const suite: Array<[string, string]> = [
      ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
      ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
      ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
      ['message digest', 'd9130a8164549fe818874806e1c7014b'],
      ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
      ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
      [
        '12345678901234567890123456789012345678901234567890123456789012345678901234567890',
        'e33b4ddc9c38f2199c3e7b164fcc0536',
      ],
    ];
    for (const [input, digest] of suite) assert.equal(hex(md4(Buffer.from(input, 'latin1'))), digest, input);
  });

  it('gives the [MS-NLMP] 4.2.2.1.2 NT hash of "Password"', () => {
    assert.equal(hex(md4(Buffer.from('Password', 'utf16le'))), 'a4f49c406510bdcab6824ee7c30fd852');
  });

  it('handles every length around the 55/56/64-byte padding boundaries', () => {
    // Same input split differently must not matter, and lengths near block edges must not throw or collide.
    const seen = new Set<string>();
    for (let n = 0; n <= 200; n++) {
      const digest = hex(md4(Buffer.alloc(n, 0x61)));
      assert.equal(digest.length, 32);
      assert.ok(!seen.has(digest), `collision at length ${n}`);
      seen.add(digest);
    }
    // 1,000,000 x "a" is a classic long vector.
    assert.equal(hex(md4(Buffer.alloc(1_000_000, 0x61))), 'bbce80cc6bb65e5c6745e30d4eeca9a4');
  });

  it('accepts a Uint8Array view into a larger buffer', () => {
    const big = Buffer.from('xxabcxx', 'latin1');
    assert.equal(hex(md4(big.subarray(2, 5))), 'a448017aaf21d8525fc10ae87aa6729d');
  });
});
