/**
 * RC4 stream cipher, written here because Node 20's OpenSSL 3 has no `rc4` cipher outside the legacy
 * provider. NTLM session security needs it both for one-shot key wrapping (RC4K) and as a long-lived,
 * stateful handle per direction ([MS-NLMP] 3.4). RC4 is broken; it is only here for NTLM compatibility.
 */

const INSPECT = Symbol.for('nodejs.util.inspect.custom');
const CLONE_PLACEHOLDER_KEY = new Uint8Array(1);

/** A keyed RC4 keystream. `update` encrypts or decrypts (the same operation) and advances the state. */
export class Rc4 {
  readonly #s: Uint8Array;
  #i = 0;
  #j = 0;

  constructor(key: Uint8Array) {
    if (key.length < 1 || key.length > 256) throw new RangeError('RC4 key must be 1 to 256 bytes');
    const s = new Uint8Array(256);
    for (let i = 0; i < 256; i++) s[i] = i;
    let j = 0;
    for (let i = 0; i < 256; i++) {
      const si = s[i]!;
      j = (j + si + key[i % key.length]!) & 0xff;
      s[i] = s[j]!;
      s[j] = si;
    }
    this.#s = s;
  }

  /** XORs `data` with the next `data.length` keystream bytes; returns a new Buffer. */
  update(data: Uint8Array): Buffer {
    const s = this.#s;
    const out = Buffer.allocUnsafe(data.length);
    let i = this.#i;
    let j = this.#j;
    for (let n = 0; n < data.length; n++) {
      i = (i + 1) & 0xff;
      const si = s[i]!;
      j = (j + si) & 0xff;
      const sj = s[j]!;
      s[i] = sj;
      s[j] = si;
      out[n] = data[n]! ^ s[(si + sj) & 0xff]!;
    }
    this.#i = i;
    this.#j = j;
    return out;
  }

  /** An independent copy of the current state (used to verify a message before committing to it). */
  clone(): Rc4 {
    const copy = new Rc4(CLONE_PLACEHOLDER_KEY);
    copy.#s.set(this.#s);
    copy.#i = this.#i;
    copy.#j = this.#j;
    return copy;
  }

  /** Overwrites the keystream state (best effort; JavaScript cannot guarantee memory is cleared). */
  destroy(): void {
    this.#s.fill(0);
    this.#i = 0;
    this.#j = 0;
  }

  [INSPECT](): string {
    return 'Rc4 { state: <redacted> }';
  }

  toJSON(): string {
    return 'Rc4 <redacted>';
  }
}

/** One-shot RC4 with a fresh key ([MS-NLMP] RC4K): used to wrap and unwrap the exported session key. */
export function rc4(key: Uint8Array, data: Uint8Array): Buffer {
  return new Rc4(key).update(data);
}
