/**
 * Kerberos crypto shared by the mock's acceptor (src/mock/auth/kerberos) and the client's message encryption
 * (src/auth/kerberos/wrap.ts), written from the RFCs over node:crypto (no MIT code, no GSSAPI, no addon), and
 * checked by the RFC test vectors (test/mock/kerberos-crypto.test.ts) and by MIT on both sides (MIT's initiator
 * against the mock's acceptor, MIT's acceptor against the client's wrap):
 * RFC 3961's simplified profile (n-fold 5.1, DK/DR key derivation 5.1, the encrypt/checksum layout 5.3) with
 * RFC 3962's aes128-cts-hmac-sha1-96 (17) and aes256-cts-hmac-sha1-96 (18): AES in CBC mode with ciphertext
 * stealing (the "CS3" variant: the last two blocks swapped), HMAC-SHA1 truncated to 96 bits, PBKDF2 string-to-key.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  pbkdf2Sync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';

export const ENCTYPE = { aes128: 17, aes256: 18 } as const;

/** Checksum types ([RFC 3962] 7). */
export const CKSUMTYPE = { hmacSha1_96Aes128: 15, hmacSha1_96Aes256: 16 } as const;

/** A Kerberos key: its enctype and key bytes. */
export interface KrbKey {
  enctype: number;
  key: Buffer;
}

/** A failed integrity check or a malformed ciphertext. */
export class KrbCryptoError extends Error {}

const BLOCK = 16;
const MAC = 12;

function keyLength(enctype: number): number {
  if (enctype === ENCTYPE.aes128) return 16;
  if (enctype === ENCTYPE.aes256) return 32;
  throw new KrbCryptoError(
    `unsupported enctype ${enctype} (only aes128-cts-hmac-sha1-96 and aes256-cts-hmac-sha1-96)`,
  );
}

/** Checks the enctype and that the key has its length (a corrupt keytab entry is refused, not used). */
function checkKey(key: KrbKey): void {
  const want = keyLength(key.enctype);
  if (key.key.length !== want) {
    throw new KrbCryptoError(
      `a key of enctype ${key.enctype} must have ${want} bytes, this one has ${key.key.length}`,
    );
  }
}

export function isSupportedEnctype(enctype: number): boolean {
  return enctype === ENCTYPE.aes128 || enctype === ENCTYPE.aes256;
}

/** The checksum type keyed with a key of this enctype ([RFC 3962] 7). */
export function checksumTypeOf(enctype: number): number {
  return enctype === ENCTYPE.aes128 ? CKSUMTYPE.hmacSha1_96Aes128 : CKSUMTYPE.hmacSha1_96Aes256;
}

/**
 * n-fold ([RFC 3961] 5.1): replicate the input to lcm(n, len) bits, each copy rotated right 13 bits more than
 * the last, then add the n-bit pieces with ones'-complement addition.
 */
export function nfold(input: Buffer, outBytes: number): Buffer {
  const inBytes = input.length;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const lcm = (inBytes * outBytes) / gcd(inBytes, outBytes);
  const inBits = inBytes * 8;
  // The bit at position `bit` (0 = most significant of byte 0) of copy `k`, rotated right by 13 * k bits.
  const bitOf = (k: number, bit: number): number => {
    const src = (((bit - 13 * k) % inBits) + inBits) % inBits;
    return (input[src >> 3]! >> (7 - (src & 7))) & 1;
  };
  const sum = new Array<number>(outBytes).fill(0);
  for (let chunk = 0; chunk < lcm / outBytes; chunk++) {
    for (let j = 0; j < outBytes; j++) {
      const pos = chunk * outBytes + j; // byte index in the long string
      const k = Math.floor(pos / inBytes);
      const within = pos % inBytes;
      let byte = 0;
      for (let b = 0; b < 8; b++) byte = (byte << 1) | bitOf(k, within * 8 + b);
      sum[j]! += byte;
    }
  }
  // Ones'-complement addition: carries out of the first byte come back in at the last, until none remain.
  const out = [...sum];
  let carry = 0;
  do {
    for (let j = outBytes - 1; j >= 0; j--) {
      const v = out[j]! + carry;
      out[j] = v & 0xff;
      carry = v >> 8;
    }
  } while (carry > 0);
  return Buffer.from(out);
}

function aesName(key: Buffer, mode: 'ecb' | 'cbc'): string {
  return `aes-${key.length * 8}-${mode}`;
}

function ecbEncrypt(key: Buffer, block: Buffer): Buffer {
  const c = createCipheriv(aesName(key, 'ecb'), key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

function ecbDecrypt(key: Buffer, block: Buffer): Buffer {
  const d = createDecipheriv(aesName(key, 'ecb'), key, null);
  d.setAutoPadding(false);
  return Buffer.concat([d.update(block), d.final()]);
}

function cbc(key: Buffer, iv: Buffer, data: Buffer, encrypt: boolean): Buffer {
  const c = encrypt
    ? createCipheriv(aesName(key, 'cbc'), key, iv)
    : createDecipheriv(aesName(key, 'cbc'), key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

/** AES-CBC with ciphertext stealing, IV zero unless given ([RFC 3962] 5; at least one block of input). */
export function ctsEncrypt(key: Buffer, plain: Buffer, iv: Buffer = Buffer.alloc(BLOCK)): Buffer {
  if (plain.length < BLOCK) throw new KrbCryptoError('CTS input shorter than one block');
  if (plain.length === BLOCK) return cbc(key, iv, plain, true);
  const padded = Buffer.alloc(Math.ceil(plain.length / BLOCK) * BLOCK);
  plain.copy(padded);
  const c = cbc(key, iv, padded, true);
  const n = c.length / BLOCK;
  const tail = plain.length - (n - 1) * BLOCK; // bytes in the last (partial or full) block
  return Buffer.concat([
    c.subarray(0, (n - 2) * BLOCK),
    c.subarray((n - 1) * BLOCK, n * BLOCK),
    c.subarray((n - 2) * BLOCK, (n - 2) * BLOCK + tail),
  ]);
}

export function ctsDecrypt(key: Buffer, cipher: Buffer, iv: Buffer = Buffer.alloc(BLOCK)): Buffer {
  if (cipher.length < BLOCK) throw new KrbCryptoError('CTS ciphertext shorter than one block');
  if (cipher.length === BLOCK) return cbc(key, iv, cipher, false);
  const n = Math.ceil(cipher.length / BLOCK);
  const tail = cipher.length - (n - 1) * BLOCK;
  const lastFull = cipher.subarray((n - 2) * BLOCK, (n - 1) * BLOCK); // CBC's C(n), sent before the stolen one
  const partial = cipher.subarray((n - 1) * BLOCK);
  const d = ecbDecrypt(key, lastFull);
  const prev = Buffer.concat([partial, d.subarray(tail)]); // CBC's C(n-1), rebuilt
  const standard = Buffer.concat([cipher.subarray(0, (n - 2) * BLOCK), prev, lastFull]);
  return cbc(key, iv, standard, false).subarray(0, cipher.length);
}

/** DR ([RFC 3961] 5.1): AES-encrypt the n-folded constant, then each output again, until key length. */
function dr(base: Buffer, constant: Buffer): Buffer {
  const out: Buffer[] = [];
  let block = constant.length === BLOCK ? constant : nfold(constant, BLOCK);
  let have = 0;
  while (have < base.length) {
    block = ecbEncrypt(base, block);
    out.push(block);
    have += BLOCK;
  }
  return Buffer.concat(out).subarray(0, base.length);
}

/** DK(base, constant); for AES random-to-key is the identity ([RFC 3962] 6). */
export function deriveKey(base: Buffer, constant: Buffer): Buffer {
  return dr(base, constant);
}

function usageConstant(usage: number, kind: 0x99 | 0xaa | 0x55): Buffer {
  const c = Buffer.alloc(5);
  c.writeUInt32BE(usage, 0);
  c[4] = kind;
  return c;
}

/** PBKDF2-HMAC-SHA1 string-to-key ([RFC 3962] 4); default 4096 iterations. */
export function stringToKey(enctype: number, password: string, salt: string, iterations = 4096): Buffer {
  const tkey = pbkdf2Sync(
    Buffer.from(password, 'utf8'),
    Buffer.from(salt, 'utf8'),
    iterations,
    keyLength(enctype),
    'sha1',
  );
  return deriveKey(tkey, Buffer.from('kerberos', 'latin1'));
}

function hmac96(key: Buffer, data: Buffer): Buffer {
  return createHmac('sha1', key).update(data).digest().subarray(0, MAC);
}

/** encrypt ([RFC 3961] 5.3): CTS(Ke, confounder ‖ plaintext) ‖ HMAC-SHA1-96(Ki, confounder ‖ plaintext). */
export function encrypt(
  key: KrbKey,
  usage: number,
  plain: Buffer,
  confounder: Buffer = randomBytes(BLOCK),
): Buffer {
  checkKey(key);
  const ke = deriveKey(key.key, usageConstant(usage, 0xaa));
  const ki = deriveKey(key.key, usageConstant(usage, 0x55));
  const data = Buffer.concat([confounder, plain]);
  return Buffer.concat([ctsEncrypt(ke, data), hmac96(ki, data)]);
}

/** decrypt: checks the HMAC, returns the plaintext without the confounder; throws KrbCryptoError. */
export function decrypt(key: KrbKey, usage: number, cipher: Buffer): Buffer {
  checkKey(key);
  if (cipher.length < BLOCK + MAC) throw new KrbCryptoError('ciphertext too short');
  const ke = deriveKey(key.key, usageConstant(usage, 0xaa));
  const ki = deriveKey(key.key, usageConstant(usage, 0x55));
  const body = cipher.subarray(0, cipher.length - MAC);
  const mac = cipher.subarray(cipher.length - MAC);
  const data = ctsDecrypt(ke, body);
  if (!timingSafeEqual(hmac96(ki, data), mac))
    throw new KrbCryptoError('integrity check failed (wrong key or altered data)');
  return data.subarray(BLOCK);
}

/** get_mic ([RFC 3961] 5.4 simplified profile): HMAC-SHA1-96 with Kc = DK(key, usage ‖ 0x99). */
export function checksum(key: KrbKey, usage: number, data: Buffer): Buffer {
  checkKey(key);
  return hmac96(deriveKey(key.key, usageConstant(usage, 0x99)), data);
}

export function verifyChecksum(key: KrbKey, usage: number, data: Buffer, mac: Buffer): boolean {
  const want = checksum(key, usage, data);
  return mac.length === want.length && timingSafeEqual(want, mac);
}

/** A fresh random key of this enctype (the acceptor's subkey). */
export function randomKey(enctype: number): KrbKey {
  return { enctype, key: randomBytes(keyLength(enctype)) };
}
