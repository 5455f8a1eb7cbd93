/**
 * The GSS-API krb5 mechanism's tokens ([RFC 4121]) for the acceptor side: the framing of the context tokens
 * (4.1: APPLICATION 0, mech OID, TOK_ID), and the per-message tokens with their sequence numbers:
 * Wrap with confidentiality (4.2.6.2, TOK_ID 05 04) and MIC (4.2.6.1, TOK_ID 04 04).
 *
 * Per-message keys (4.2.4): the acceptor's subkey when the AP-REP carried one (flag AcceptorSubkey), else the
 * initiator's subkey, else the ticket's session key. Key usages (4.2.4): acceptor seal 22, acceptor sign 23,
 * initiator seal 24, initiator sign 25.
 */
import { checksum, decrypt, encrypt, type KrbKey, verifyChecksum } from '../../../krb5/crypto.ts';
import { DerError, DerReader, oidContent, oidFromContent, TAG, tlv } from '../../../krb5/der.ts';

export const KRB5_OID = '1.2.840.113554.1.2.2';
/** The OID Windows' own initiator lists first under SPNEGO (a historical misencoding, [MS-SPNG] 3.1.5.1). */
export const KRB5_MS_OID = '1.2.840.48018.1.2.2';

export const TOK_ID = { apReq: 0x0100, apRep: 0x0200, error: 0x0300 } as const;

export const KEY_USAGE = {
  ticket: 2,
  authenticator: 11,
  apRepEncPart: 12,
  acceptorSeal: 22,
  acceptorSign: 23,
  initiatorSeal: 24,
  initiatorSign: 25,
} as const;

const FLAG_SENT_BY_ACCEPTOR = 0x01;
const FLAG_SEALED = 0x02;
const FLAG_ACCEPTOR_SUBKEY = 0x04;

/**
 * RRC (Right Rotation Count) of the acceptor's Wrap tokens: Windows sends 28 for AES in WinRM: the encrypted
 * header copy (16 bytes) and the HMAC (12) rotated to the front, behind the 16-byte token header, so the WinRM
 * header is 16 + 28 + 16 (confounder) = 60 bytes and the data exactly as long as the plaintext (EC 0). This is
 * the layout gss_wrap_iov produces for DCE-style callers and what pywinrm / pypsrp split at.
 */
export const WINDOWS_RRC = 28;

/** A token this acceptor cannot take: the reason is for the request log. */
export class GssError extends Error {}

/** Unwraps `60 len 06 len OID TOK_ID message`; returns the mech OID, the TOK_ID and the inner message. */
export function decodeContextToken(token: Buffer): { oid: string; tokId: number; message: Buffer } {
  try {
    const outer = DerReader.of(token).enter(0x60, 'InitialContextToken');
    const oid = oidFromContent(outer.read(TAG.oid, 'thisMech').content);
    const rest = outer.rest();
    if (rest.length < 2) throw new GssError('context token has no TOK_ID');
    return { oid, tokId: rest.readUInt16BE(0), message: rest.subarray(2) };
  } catch (err) {
    if (err instanceof DerError) throw new GssError(`malformed GSS-API token: ${err.message}`);
    throw err;
  }
}

export function encodeContextToken(tokId: number, message: Buffer, oid = KRB5_OID): Buffer {
  const id = Buffer.alloc(2);
  id.writeUInt16BE(tokId, 0);
  return tlv(0x60, tlv(TAG.oid, oidContent(oid)), id, message);
}

function rotateRight(data: Buffer, n: number): Buffer {
  if (data.length === 0) return data;
  const r = n % data.length;
  return r === 0
    ? Buffer.from(data)
    : Buffer.concat([data.subarray(data.length - r), data.subarray(0, data.length - r)]);
}

function rotateLeft(data: Buffer, n: number): Buffer {
  if (data.length === 0) return data;
  return rotateRight(data, data.length - (n % data.length));
}

function seqBytes(seq: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(seq & 0xffff_ffff_ffff_ffffn, 0);
  return b;
}

/** The per-message half of an established context, acceptor side. */
export class AcceptorContext {
  #sendSeq: bigint;
  #recvSeq: bigint;

  /**
   * @param key the per-message key (see the module comment)
   * @param acceptorSubkey whether `key` is the acceptor's subkey (flag AcceptorSubkey in every token)
   */
  constructor(
    private readonly key: KrbKey,
    private readonly acceptorSubkey: boolean,
    initiatorSeq: number,
    acceptorSeq: number,
    /** Rotation of the Wrap tokens this side sends. Default: {@link WINDOWS_RRC}. */
    private readonly rrc = WINDOWS_RRC,
  ) {
    this.#recvSeq = BigInt(initiatorSeq);
    this.#sendSeq = BigInt(acceptorSeq);
  }

  private header(tokId: number, flags: number, ec: number, rrc: number, seq: bigint): Buffer {
    const h = Buffer.alloc(16);
    h.writeUInt16BE(tokId, 0);
    h[2] = flags;
    h[3] = 0xff;
    if (tokId === 0x0404) {
      h.fill(0xff, 3, 8);
    } else {
      h.writeUInt16BE(ec, 4);
      h.writeUInt16BE(rrc, 6);
    }
    seqBytes(seq).copy(h, 8);
    return h;
  }

  private flags(sealed: boolean): number {
    return (
      FLAG_SENT_BY_ACCEPTOR | (sealed ? FLAG_SEALED : 0) | (this.acceptorSubkey ? FLAG_ACCEPTOR_SUBKEY : 0)
    );
  }

  /** GSS_Wrap with confidentiality: EC 0 (AES-CTS needs no padding), RRC as configured. */
  wrap(plain: Buffer): Buffer {
    const seq = this.#sendSeq++;
    const flags = this.flags(true);
    const sealed = encrypt(
      this.key,
      KEY_USAGE.acceptorSeal,
      Buffer.concat([plain, this.header(0x0504, flags, 0, 0, seq)]),
    );
    return Buffer.concat([this.header(0x0504, flags, 0, this.rrc, seq), rotateRight(sealed, this.rrc)]);
  }

  /** GSS_Unwrap of an initiator's sealed Wrap token, any RRC; checks the header copy and the sequence number. */
  unwrap(token: Buffer): Buffer {
    if (token.length < 16 + 16 + 12) throw new GssError('Wrap token is too short');
    if (token.readUInt16BE(0) !== 0x0504) {
      throw new GssError(`not an RFC 4121 Wrap token (TOK_ID ${token.subarray(0, 2).toString('hex')})`);
    }
    const flags = token[2]!;
    if (token[3] !== 0xff) throw new GssError('Wrap token filler is not 0xFF');
    if (flags & FLAG_SENT_BY_ACCEPTOR)
      throw new GssError('Wrap token claims to come from the acceptor (reflected)');
    if (!(flags & FLAG_SEALED))
      throw new GssError('Wrap token is not sealed (WinRM message encryption needs confidentiality)');
    if (Boolean(flags & FLAG_ACCEPTOR_SUBKEY) !== this.acceptorSubkey) {
      throw new GssError('Wrap token AcceptorSubkey flag does not match the context');
    }
    const ec = token.readUInt16BE(4);
    const rrc = token.readUInt16BE(6);
    const seq = token.readBigUInt64BE(8);
    const body = rotateLeft(token.subarray(16), rrc);
    let plain: Buffer;
    try {
      plain = decrypt(this.key, KEY_USAGE.initiatorSeal, body);
    } catch (err) {
      throw new GssError(`Wrap token does not decrypt: ${(err as Error).message}`);
    }
    if (plain.length < 16 + ec) throw new GssError('Wrap token plaintext is shorter than its trailer');
    const copy = plain.subarray(plain.length - 16);
    const expected = Buffer.from(token.subarray(0, 16));
    expected.writeUInt16BE(0, 6); // the encrypted copy carries RRC 0 (4.2.5)
    if (!copy.equals(expected)) throw new GssError('Wrap token header does not match its encrypted copy');
    if (seq !== this.#recvSeq) {
      throw new GssError(
        `Wrap token sequence number ${seq} where ${this.#recvSeq} was expected (replayed or lost message)`,
      );
    }
    this.#recvSeq++;
    return plain.subarray(0, plain.length - 16 - ec);
  }

  /** GSS_GetMIC (TOK_ID 04 04), acceptor sign usage 23. */
  getMic(data: Buffer): Buffer {
    const h = this.header(0x0404, this.flags(false), 0, 0, this.#sendSeq++);
    return Buffer.concat([h, checksum(this.key, KEY_USAGE.acceptorSign, Buffer.concat([data, h]))]);
  }

  /** GSS_VerifyMIC of an initiator's MIC token (usage 25); throws GssError. */
  verifyMic(data: Buffer, token: Buffer): void {
    if (token.length !== 28 || token.readUInt16BE(0) !== 0x0404)
      throw new GssError('not an RFC 4121 MIC token');
    if (token[2]! & FLAG_SENT_BY_ACCEPTOR) throw new GssError('MIC token claims to come from the acceptor');
    const h = token.subarray(0, 16);
    if (!verifyChecksum(this.key, KEY_USAGE.initiatorSign, Buffer.concat([data, h]), token.subarray(16))) {
      throw new GssError('MIC does not verify');
    }
    const seq = token.readBigUInt64BE(8);
    if (seq !== this.#recvSeq)
      throw new GssError(`MIC sequence number ${seq} where ${this.#recvSeq} was expected`);
    this.#recvSeq++;
  }
}
