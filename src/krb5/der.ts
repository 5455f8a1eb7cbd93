/**
 * The DER subset Kerberos messages need (shared by the mock's acceptor and the client's key recovery) ([X.690] definite lengths; [RFC 4120] 5 uses explicit context tags
 * and APPLICATION tags below 31, so every tag is one byte). The reader checks each length against the bytes it
 * has and throws {@link DerError}; nothing is read outside the input.
 */

export class DerError extends Error {}

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  generalString: 0x1b,
  generalizedTime: 0x18,
  sequence: 0x30,
} as const;

/** [APPLICATION n] constructed. */
export const app = (n: number): number => 0x60 | n;
/** [n] constructed (explicit context tag). */
export const ctx = (n: number): number => 0xa0 | n;

export interface Tlv {
  tag: number;
  content: Buffer;
  /** Tag, length and content. */
  raw: Buffer;
}

export class DerReader {
  #pos: number;
  constructor(
    private readonly buf: Buffer,
    private readonly end = buf.length,
    start = 0,
  ) {
    this.#pos = start;
  }

  static of(buf: Buffer): DerReader {
    return new DerReader(buf);
  }

  get done(): boolean {
    return this.#pos >= this.end;
  }

  /** Bytes not read yet. */
  rest(): Buffer {
    return this.buf.subarray(this.#pos, this.end);
  }

  peekTag(): number | undefined {
    return this.#pos < this.end ? this.buf[this.#pos] : undefined;
  }

  read(expected: number | undefined, what: string): Tlv {
    const start = this.#pos;
    if (start >= this.end) throw new DerError(`${what} is missing`);
    const tag = this.buf[start]!;
    if ((tag & 0x1f) === 0x1f) throw new DerError(`${what} uses a high tag number`);
    if (expected !== undefined && tag !== expected) {
      throw new DerError(`${what} has tag 0x${tag.toString(16)}, expected 0x${expected.toString(16)}`);
    }
    let p = start + 1;
    if (p >= this.end) throw new DerError(`${what} has no length`);
    const first = this.buf[p++]!;
    let length = first;
    if (first >= 0x80) {
      const n = first & 0x7f;
      if (n === 0 || n > 4) throw new DerError(`${what} has an unsupported length form`);
      if (p + n > this.end) throw new DerError(`${what} length is truncated`);
      length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + this.buf[p + i]!;
      p += n;
    }
    if (length > this.end - p) throw new DerError(`${what} claims ${length} bytes, ${this.end - p} remain`);
    this.#pos = p + length;
    return { tag, content: this.buf.subarray(p, p + length), raw: this.buf.subarray(start, p + length) };
  }

  /** A reader over the next element's content. */
  enter(expected: number, what: string): DerReader {
    return new DerReader(this.read(expected, what).content);
  }

  /** The next element if it has this tag, else undefined (an OPTIONAL field). */
  optional(expected: number, what: string): Tlv | undefined {
    return this.peekTag() === expected ? this.read(expected, what) : undefined;
  }

  /** An explicitly tagged field `[n] inner`: the inner TLV. */
  field(n: number, inner: number | undefined, what: string): Tlv {
    return this.enter(ctx(n), what).read(inner, what);
  }

  optionalField(n: number, inner: number | undefined, what: string): Tlv | undefined {
    if (this.peekTag() !== ctx(n)) return undefined;
    return this.field(n, inner, what);
  }
}

/** Value of a DER INTEGER that fits in a double (Int32 / UInt32 / Microseconds). */
export function intValue(t: Tlv, what: string): number {
  if (t.tag !== TAG.integer || t.content.length === 0 || t.content.length > 6) {
    throw new DerError(`${what} is not a small INTEGER`);
  }
  return signed(t.content);
}

function signed(content: Buffer): number {
  let v = 0;
  for (const b of content) v = v * 256 + b;
  if (content[0]! & 0x80) v -= 256 ** content.length;
  return v;
}

export function timeValue(t: Tlv, what: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(t.content.toString('latin1'));
  if (t.tag !== TAG.generalizedTime || !m) throw new DerError(`${what} is not a KerberosTime`);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

// ------------------------------------------------------------------------------------------------------------
// Writer

function lengthOctets(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let l = n; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), lengthOctets(body.length), body]);
}

export const seq = (...items: Buffer[]): Buffer => tlv(TAG.sequence, ...items);
export const field = (n: number, inner: Buffer): Buffer => tlv(ctx(n), inner);

export function integer(v: number): Buffer {
  const bytes: number[] = [];
  let x = v;
  do {
    bytes.unshift(((x % 256) + 256) % 256);
    x = Math.floor(x / 256);
  } while (x !== 0 && x !== -1);
  if (v >= 0 && bytes[0]! & 0x80) bytes.unshift(0);
  if (v < 0 && !(bytes[0]! & 0x80)) bytes.unshift(0xff);
  return tlv(TAG.integer, Buffer.from(bytes));
}

export const octets = (b: Buffer): Buffer => tlv(TAG.octetString, b);
export const generalString = (s: string): Buffer => tlv(TAG.generalString, Buffer.from(s, 'utf8'));

export function kerberosTime(d: Date): Buffer {
  const s = d
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return tlv(TAG.generalizedTime, Buffer.from(s, 'latin1'));
}

/** DER of an OBJECT IDENTIFIER's content from dotted form. */
export function oidContent(oid: string): Buffer {
  const parts = oid.split('.').map(Number);
  const out: number[] = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const b: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) b.unshift(0x80 | (v & 0x7f));
    out.push(...b);
  }
  return Buffer.from(out);
}

export function oidFromContent(c: Buffer): string {
  if (c.length === 0) throw new DerError('empty OID');
  const parts = [Math.floor(c[0]! / 40), c[0]! % 40];
  let v = 0;
  for (const b of c.subarray(1)) {
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** A BIT STRING of up to 32 bits (KDCOptions, TicketFlags) as a number: bit 0 is the most significant. */
export function bitStringValue(t: Tlv): number {
  if (t.tag !== TAG.bitString || t.content.length < 1) throw new DerError('not a BIT STRING');
  const bits = Buffer.alloc(4);
  t.content.subarray(1, 5).copy(bits);
  return bits.readUInt32BE(0);
}
