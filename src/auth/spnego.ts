/**
 * SPNEGO ([RFC 4178], [MS-SPNG]) token codec: the GSS-API InitialContextToken wrapper ([RFC 2743] 3.1,
 * APPLICATION 0 with OID 1.3.6.1.5.5.2), NegTokenInit and NegTokenResp, in DER. Pure: no HTTP, no I/O, and no
 * knowledge of the mechanism inside; the mechListMIC helpers take any context that can sign and verify.
 *
 * Every decoder checks every length against the bytes it has before reading, accepts DER only (definite,
 * minimal lengths; fields in order, each once; nothing after the token) and throws {@link SpnegoError} for
 * anything else. Decoding is linear in the input: no recursion beyond the fixed structure.
 */
import { ProtocolError } from '../errors.ts';

/** Mechanism OIDs seen under SPNEGO. */
export const OID = {
  spnego: '1.3.6.1.5.5.2',
  ntlm: '1.3.6.1.4.1.311.2.2.10',
  kerberos: '1.2.840.113554.1.2.2',
  /** The OID Windows lists first: a historical misencoding of the Kerberos OID ([MS-SPNG] 3.1.5.1). */
  kerberosMs: '1.2.840.48018.1.2.2',
  kerberosUserToUser: '1.2.840.113554.1.2.2.3',
  negoex: '1.3.6.1.4.1.311.2.2.30',
} as const;

/** NegTokenResp negState ([RFC 4178] 4.2.2). */
export const NegState = { acceptCompleted: 0, acceptIncomplete: 1, reject: 2, requestMic: 3 } as const;
export type NegStateValue = (typeof NegState)[keyof typeof NegState];

/** ContextFlags bits of NegTokenInit reqFlags ([RFC 4178] 4.2.1); bit 0 is the first bit of the BIT STRING. */
export const ContextFlag = {
  deleg: 1 << 0,
  mutual: 1 << 1,
  replay: 1 << 2,
  sequence: 1 << 3,
  anon: 1 << 4,
  conf: 1 << 5,
  integ: 1 << 6,
} as const;

export interface NegTokenInit {
  /** Mechanism OIDs in dotted form, the initiator's preferred first. */
  mechTypes: string[];
  /** ContextFlags as a bit mask of {@link ContextFlag}; absent when not sent. */
  reqFlags?: number;
  /** The optimistic token of `mechTypes[0]`. */
  mechToken?: Buffer;
  mechListMIC?: Buffer;
}

export interface DecodedNegTokenInit extends NegTokenInit {
  /** The DER of the MechTypeList exactly as received: what the mechListMIC covers ([RFC 4178] 5). */
  mechTypesDer: Buffer;
}

export interface NegTokenResp {
  negState?: NegStateValue;
  supportedMech?: string;
  responseToken?: Buffer;
  mechListMIC?: Buffer;
}

/** What an `Authorization: Negotiate` / `WWW-Authenticate: Negotiate` token is, from its first bytes. */
export type TokenKind = 'ntlm' | 'spnego-init' | 'spnego-resp' | 'kerberos' | 'unknown';

/** A malformed or unacceptable SPNEGO token. `code` is `WINRM_PROTOCOL`. */
export class SpnegoError extends ProtocolError {}

// ---------------------------------------------------------------------------------------------------------------
// DER primitives

const TAG = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  enumerated: 0x0a,
  generalString: 0x1b,
  sequence: 0x30,
  application0: 0x60,
} as const;
const context = (n: number): number => 0xa0 | n;
/** Longest length field accepted: 4 bytes (tokens are far smaller; this keeps arithmetic exact). */
const MAX_LENGTH_OCTETS = 4;

function fail(message: string): never {
  throw new SpnegoError(`Malformed SPNEGO token: ${message}`);
}

interface Tlv {
  tag: number;
  /** The content octets (a view into the input). */
  content: Buffer;
  /** Tag, length and content (a view into the input). */
  raw: Buffer;
}

/** Reads consecutive TLVs from `buf[start, end)`; never reads outside it. */
class DerReader {
  #pos: number;
  constructor(
    private readonly buf: Buffer,
    private readonly end = buf.length,
    start = 0,
  ) {
    this.#pos = start;
  }

  get done(): boolean {
    return this.#pos >= this.end;
  }

  peekTag(): number | undefined {
    return this.#pos < this.end ? this.buf[this.#pos] : undefined;
  }

  read(expected?: number, what = 'element'): Tlv {
    const start = this.#pos;
    if (start >= this.end) fail(`${what} is missing (token truncated)`);
    const tag = this.buf[start]!;
    if ((tag & 0x1f) === 0x1f) fail(`${what} uses a high tag number form, which SPNEGO never needs`);
    if (expected !== undefined && tag !== expected) {
      fail(`${what} has tag 0x${hex(tag)}, expected 0x${hex(expected)}`);
    }
    let p = start + 1;
    if (p >= this.end) fail(`${what} has no length (token truncated)`);
    const first = this.buf[p++]!;
    let length: number;
    if (first < 0x80) {
      length = first;
    } else {
      const n = first & 0x7f;
      if (n === 0) fail(`${what} has an indefinite length, which DER forbids`);
      if (n > MAX_LENGTH_OCTETS) fail(`${what} has a ${n}-byte length field`);
      if (p + n > this.end) fail(`${what} length field is truncated`);
      length = 0;
      for (let i = 0; i < n; i++) length = length * 256 + this.buf[p + i]!;
      if (this.buf[p] === 0 || length < 0x80) fail(`${what} length is not minimally encoded (DER)`);
      p += n;
    }
    if (length > this.end - p) fail(`${what} claims ${length} bytes but only ${this.end - p} remain`);
    this.#pos = p + length;
    return { tag, content: this.buf.subarray(p, p + length), raw: this.buf.subarray(start, p + length) };
  }

  /** A reader over the content of the next element. */
  enter(expected: number, what: string): DerReader {
    const { content } = this.read(expected, what);
    return new DerReader(content);
  }

  finish(what: string): void {
    if (!this.done) fail(`unexpected bytes after the ${what}`);
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function encodeLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let l = length; l > 0; l = Math.floor(l / 256)) bytes.unshift(l & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), encodeLength(body.length), body]);
}

/** DER of an OBJECT IDENTIFIER (tag, length, content) from dotted form. */
export function encodeOid(oid: string): Buffer {
  const arcs = oid.split('.').map((a) => (/^(0|[1-9]\d*)$/.test(a) ? Number(a) : Number.NaN));
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a)) || arcs[0]! > 2) {
    throw new SpnegoError(`"${oid}" is not a dotted object identifier`);
  }
  if (arcs[0]! < 2 && arcs[1]! > 39) throw new SpnegoError(`"${oid}": second arc must be below 40`);
  const out: number[] = [];
  for (const arc of [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)]) {
    const septets = [arc % 128];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) septets.unshift(0x80 | (v % 128));
    out.push(...septets);
  }
  return tlv(TAG.oid, Buffer.from(out));
}

/** Dotted form of OBJECT IDENTIFIER content octets. */
export function decodeOidContent(content: Buffer): string {
  if (content.length === 0) fail('empty object identifier');
  if (content[content.length - 1]! & 0x80) fail('object identifier ends inside an arc');
  const arcs: number[] = [];
  let value = 0;
  let startOfArc = true;
  for (const byte of content) {
    if (startOfArc && byte === 0x80) fail('object identifier arc is not minimally encoded');
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER) fail('object identifier arc is too large');
    startOfArc = (byte & 0x80) === 0;
    if (startOfArc) {
      arcs.push(value);
      value = 0;
    }
  }
  const first = arcs[0]!;
  const head = first < 80 ? [Math.floor(first / 40), first % 40] : [2, first - 80];
  return [...head, ...arcs.slice(1)].join('.');
}

function encodeMechTypes(mechTypes: readonly string[]): Buffer {
  if (mechTypes.length === 0) throw new SpnegoError('A NegTokenInit needs at least one mechanism');
  return tlv(TAG.sequence, ...mechTypes.map(encodeOid));
}

function encodeFlags(flags: number): Buffer {
  if (!Number.isInteger(flags) || flags < 0 || flags > 0x7f) {
    throw new SpnegoError('reqFlags must be a combination of ContextFlag bits');
  }
  if (flags === 0) return tlv(TAG.bitString, Buffer.from([0]));
  // Bit i of the mask is BIT STRING bit i: the most significant bit of the first octet is bit 0.
  let octet = 0;
  for (let i = 0; i < 7; i++) if (flags & (1 << i)) octet |= 0x80 >> i;
  let unused = 0;
  while (((octet >> unused) & 1) === 0) unused++;
  return tlv(TAG.bitString, Buffer.from([unused, octet]));
}

function decodeFlags(content: Buffer): number {
  if (content.length === 0) fail('reqFlags BIT STRING has no unused-bits octet');
  const unused = content[0]!;
  if (unused > 7 || (content.length === 1 && unused !== 0)) fail('reqFlags BIT STRING is malformed');
  let flags = 0;
  for (let i = 0; i < Math.min(7, (content.length - 1) * 8 - unused); i++) {
    if (content[1 + (i >> 3)]! & (0x80 >> (i & 7))) flags |= 1 << i;
  }
  return flags;
}

// ---------------------------------------------------------------------------------------------------------------
// Tokens

const SPNEGO_OID_DER = encodeOid(OID.spnego);

/** Reads `[n] EXPLICIT` fields of a SEQUENCE in increasing tag order, each at most once. */
function fields(seq: DerReader, allowed: number, what: string): Map<number, Tlv> {
  const out = new Map<number, Tlv>();
  let last = -1;
  while (!seq.done) {
    const tag = seq.peekTag()!;
    const n = tag & 0x1f;
    if ((tag & 0xe0) !== 0xa0 || n >= allowed) fail(`${what} has an unknown field 0x${hex(tag)}`);
    if (n <= last) fail(`${what} fields are repeated or out of order`);
    last = n;
    const inner = new DerReader(seq.read(tag, `${what} [${n}]`).content);
    const value = inner.read(undefined, `${what} [${n}] value`);
    inner.finish(`${what} [${n}] value`);
    out.set(n, value);
  }
  return out;
}

function expectTag(t: Tlv, tag: number, what: string): Tlv {
  if (t.tag !== tag) fail(`${what} has tag 0x${hex(t.tag)}, expected 0x${hex(tag)}`);
  return t;
}

/** The initiator's first token: `60 len 06 06 2b0601050502 a0 len NegTokenInit`. */
export function encodeNegTokenInit(init: NegTokenInit): Buffer {
  const parts = [tlv(context(0), encodeMechTypes(init.mechTypes))];
  if (init.reqFlags !== undefined) parts.push(tlv(context(1), encodeFlags(init.reqFlags)));
  if (init.mechToken) parts.push(tlv(context(2), tlv(TAG.octetString, init.mechToken)));
  if (init.mechListMIC) parts.push(tlv(context(3), tlv(TAG.octetString, init.mechListMIC)));
  return tlv(TAG.application0, SPNEGO_OID_DER, tlv(context(0), tlv(TAG.sequence, ...parts)));
}

/**
 * Decodes an InitialContextToken carrying a NegTokenInit. Also accepts [MS-SPNG] NegTokenInit2 (negHints in [3],
 * mechListMIC in [4]); the hints are checked for shape and dropped.
 */
export function decodeNegTokenInit(token: Uint8Array): DecodedNegTokenInit {
  const buf = asBuffer(token);
  const outer = new DerReader(buf);
  const app = outer.enter(TAG.application0, 'InitialContextToken');
  outer.finish('InitialContextToken');
  const mech = decodeOidContent(app.read(TAG.oid, 'thisMech').content);
  if (mech !== OID.spnego) fail(`thisMech is ${mech}, not SPNEGO (${OID.spnego})`);
  const choice = app.enter(context(0), 'NegotiationToken negTokenInit');
  app.finish('NegotiationToken');
  const seq = choice.enter(TAG.sequence, 'NegTokenInit');
  choice.finish('NegTokenInit');
  const f = fields(seq, 5, 'NegTokenInit');
  const list = f.get(0);
  if (!list) fail('NegTokenInit has no mechTypes');
  expectTag(list, TAG.sequence, 'mechTypes');
  const mechTypes: string[] = [];
  const items = new DerReader(list.content);
  while (!items.done) mechTypes.push(decodeOidContent(items.read(TAG.oid, 'mechTypes entry').content));
  if (mechTypes.length === 0) fail('mechTypes is empty');
  const out: DecodedNegTokenInit = { mechTypes, mechTypesDer: Buffer.from(list.raw) };
  const flags = f.get(1);
  if (flags) out.reqFlags = decodeFlags(expectTag(flags, TAG.bitString, 'reqFlags').content);
  const mechToken = f.get(2);
  if (mechToken) out.mechToken = Buffer.from(expectTag(mechToken, TAG.octetString, 'mechToken').content);
  const third = f.get(3);
  if (third?.tag === TAG.sequence) checkNegHints(third.content);
  else if (third) out.mechListMIC = Buffer.from(expectTag(third, TAG.octetString, 'mechListMIC').content);
  const fourth = f.get(4);
  if (fourth) {
    if (third?.tag !== TAG.sequence) fail('NegTokenInit [4] is only valid after negHints (NegTokenInit2)');
    out.mechListMIC = Buffer.from(expectTag(fourth, TAG.octetString, 'mechListMIC').content);
  }
  return out;
}

function checkNegHints(content: Buffer): void {
  const f = fields(new DerReader(content), 2, 'negHints');
  const name = f.get(0);
  if (name) expectTag(name, TAG.generalString, 'hintName');
  const address = f.get(1);
  if (address) expectTag(address, TAG.octetString, 'hintAddress');
}

/** A NegTokenResp as it travels after the first leg: `a1 len 30 len ...` (no GSS wrapper, [RFC 4178] 4.2). */
export function encodeNegTokenResp(resp: NegTokenResp): Buffer {
  const parts: Buffer[] = [];
  if (resp.negState !== undefined) {
    if (!Object.values(NegState).includes(resp.negState)) throw new SpnegoError('negState must be 0 to 3');
    parts.push(tlv(context(0), tlv(TAG.enumerated, Buffer.from([resp.negState]))));
  }
  if (resp.supportedMech !== undefined) parts.push(tlv(context(1), encodeOid(resp.supportedMech)));
  if (resp.responseToken) parts.push(tlv(context(2), tlv(TAG.octetString, resp.responseToken)));
  if (resp.mechListMIC) parts.push(tlv(context(3), tlv(TAG.octetString, resp.mechListMIC)));
  return tlv(context(1), tlv(TAG.sequence, ...parts));
}

export function decodeNegTokenResp(token: Uint8Array): NegTokenResp {
  const outer = new DerReader(asBuffer(token));
  const choice = outer.enter(context(1), 'NegotiationToken negTokenResp');
  outer.finish('NegTokenResp');
  const seq = choice.enter(TAG.sequence, 'NegTokenResp');
  choice.finish('NegTokenResp');
  const f = fields(seq, 4, 'NegTokenResp');
  const out: NegTokenResp = {};
  const state = f.get(0);
  if (state) {
    const c = expectTag(state, TAG.enumerated, 'negState').content;
    if (c.length !== 1 || c[0]! > 3)
      fail('negState is not one of accept-completed, accept-incomplete, reject, request-mic');
    out.negState = c[0] as NegStateValue;
  }
  const mech = f.get(1);
  if (mech) out.supportedMech = decodeOidContent(expectTag(mech, TAG.oid, 'supportedMech').content);
  const response = f.get(2);
  if (response)
    out.responseToken = Buffer.from(expectTag(response, TAG.octetString, 'responseToken').content);
  const mic = f.get(3);
  if (mic) out.mechListMIC = Buffer.from(expectTag(mic, TAG.octetString, 'mechListMIC').content);
  return out;
}

/**
 * Classifies a Negotiate token by its first bytes, without decoding it fully: raw NTLMSSP, an SPNEGO
 * InitialContextToken, a NegTokenResp, a raw Kerberos (or other GSS mechanism) initial token, or unknown.
 */
export function detectTokenKind(token: Uint8Array): TokenKind {
  const buf = asBuffer(token);
  if (buf.length >= 8 && buf.subarray(0, 8).toString('latin1') === 'NTLMSSP\0') return 'ntlm';
  if (buf[0] === context(1)) return 'spnego-resp';
  if (buf[0] !== TAG.application0) return 'unknown';
  try {
    const app = new DerReader(buf).enter(TAG.application0, 'InitialContextToken');
    const mech = decodeOidContent(app.read(TAG.oid, 'thisMech').content);
    if (mech === OID.spnego) return 'spnego-init';
    if (mech === OID.kerberos || mech === OID.kerberosMs || mech === OID.kerberosUserToUser)
      return 'kerberos';
  } catch (err) {
    if (!(err instanceof SpnegoError)) throw err;
  }
  return 'unknown';
}

function asBuffer(token: Uint8Array): Buffer {
  if (!(token instanceof Uint8Array)) throw new SpnegoError('An SPNEGO token must be a Buffer or Uint8Array');
  return Buffer.isBuffer(token) ? token : Buffer.from(token.buffer, token.byteOffset, token.byteLength);
}

// ---------------------------------------------------------------------------------------------------------------
// mechListMIC ([RFC 4178] 5, [MS-SPNG] 3.1.5.1, 3.2.5.1, 3.3.5.1)

/**
 * What the mechListMIC needs from a mechanism's security context: GSS_GetMIC / GSS_VerifyMIC, and for NTLM the
 * re-keying of the RC4 handle afterwards. {@link NtlmSession} fits as is.
 */
export interface MicContext {
  sign(message: Uint8Array): Buffer;
  /** Throws when the signature does not verify. */
  verify(message: Uint8Array, signature: Uint8Array): void;
  resetSealingState?(direction: 'send' | 'receive'): void;
}

/**
 * The sender's mechListMIC over the DER of the MechTypeList the initiator sent. With NTLM: a GSS_GetMIC with the
 * sender's sign key and its sequence number 0 (so its first sealed message carries 1), after which its sending
 * RC4 handle is re-keyed ([MS-SPNG] 3.3.5.1; pyspnego and MIT's SPNEGO do the same).
 */
export function signMechList(ctx: MicContext, mechTypesDer: Uint8Array): Buffer {
  const mic = ctx.sign(mechTypesDer);
  ctx.resetSealingState?.('send');
  return mic;
}

/** Verifies the peer's mechListMIC, then re-keys the receiving RC4 handle; throws SpnegoError when it fails. */
export function verifyMechList(ctx: MicContext, mechTypesDer: Uint8Array, mic: Uint8Array): void {
  try {
    ctx.verify(mechTypesDer, mic);
  } catch (err) {
    throw new SpnegoError(
      'The SPNEGO mechListMIC does not verify: the mechanism list was altered (downgrade attempt) or the keys differ',
      { cause: err },
    );
  }
  ctx.resetSealingState?.('receive');
}
