/**
 * MD4 message digest (RFC 1320), written here because Node 20's OpenSSL 3 keeps MD4 in the legacy
 * provider and `createHash('md4')` throws. NTLM needs it once per credential: NT hash = MD4(UTF-16LE(password)).
 * MD4 is broken as a general-purpose hash; do not use it for anything else.
 */

const INIT = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476] as const;

/** Round 2 and 3 constants (RFC 1320 3.4): floor(2^30 * sqrt(2)) and floor(2^30 * sqrt(3)). */
const K2 = 0x5a827999;
const K3 = 0x6ed9eba1;

/** Word order within a block for rounds 1, 2 and 3. */
const ORDER = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15],
  [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15],
] as const;

/** Left-rotation amounts per round, cycling over the four steps of each group. */
const SHIFTS = [
  [3, 7, 11, 19],
  [3, 5, 9, 13],
  [3, 9, 11, 15],
] as const;

function rotl(x: number, n: number): number {
  return ((x << n) | (x >>> (32 - n))) >>> 0;
}

function roundFunction(round: number, x: number, y: number, z: number): number {
  if (round === 0) return (x & y) | (~x & z); // F: x ? y : z
  if (round === 1) return (x & y) | (x & z) | (y & z); // G: majority
  return x ^ y ^ z; // H: parity
}

/** Returns the 16-byte MD4 digest of `data`. */
export function md4(data: Uint8Array): Buffer {
  const bitLength = BigInt(data.length) * 8n;
  // Pad: 0x80, zeros to 56 mod 64, then the 64-bit little-endian bit length.
  const padded = Buffer.alloc((((data.length + 8) >> 6) + 1) << 6);
  padded.set(data, 0);
  padded[data.length] = 0x80;
  padded.writeBigUInt64LE(bitLength & 0xffffffffffffffffn, padded.length - 8);

  const h: number[] = [INIT[0], INIT[1], INIT[2], INIT[3]];
  const x = new Array<number>(16);
  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let i = 0; i < 16; i++) x[i] = padded.readUInt32LE(offset + i * 4);
    let a = h[0]!;
    let b = h[1]!;
    let c = h[2]!;
    let d = h[3]!;
    for (let round = 0; round < 3; round++) {
      const order = ORDER[round]!;
      const shifts = SHIFTS[round]!;
      const k = round === 0 ? 0 : round === 1 ? K2 : K3;
      for (let step = 0; step < 16; step++) {
        const t = rotl((a + roundFunction(round, b, c, d) + x[order[step]!]! + k) >>> 0, shifts[step & 3]!);
        // Rotate the roles so the next step updates the next register (a, d, c, b order of RFC 1320).
        a = d;
        d = c;
        c = b;
        b = t;
      }
    }
    h[0] = (h[0]! + a) >>> 0;
    h[1] = (h[1]! + b) >>> 0;
    h[2] = (h[2]! + c) >>> 0;
    h[3] = (h[3]! + d) >>> 0;
  }

  const out = Buffer.alloc(16);
  for (let i = 0; i < 4; i++) out.writeUInt32LE(h[i]!, i * 4);
  return out;
}
