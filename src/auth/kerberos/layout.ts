/**
 * WinRM's layout of Kerberos wrap tokens ([MS-WSMV] 2.2.9.1.1, RFC 4121 4.2.4-4.2.5), derived from a plain
 * `gss_wrap` token, since the `kerberos` addon offers no `gss_wrap_iov`.
 *
 * An RFC 4121 sealed wrap token (TOK_ID 05 04, Sealed flag set) is
 *
 *   header(16) = 05 04 | flags | FF | EC (uint16 BE) | RRC (uint16 BE) | SND_SEQ (uint64 BE)
 *   body       = E(confounder(16) | plaintext | filler(EC bytes) | copy of header with RRC = 0) | HMAC(12)
 *
 * for the AES enctypes (aes128/aes256-cts-hmac-sha1-96: 16-byte confounder, 12-byte checksum). MIT's `gss_wrap`
 * writes EC = 0 and RRC = 0. Windows' SSPI (EncryptMessage with a TOKEN buffer before the DATA buffer, which is
 * what WinRM uses) sends the body rotated right by RRC = 28 = 16 (encrypted header copy) + 12 (checksum), with
 * EC = 16, so that everything the DATA buffer does not hold comes first:
 *
 *   rotated body = E-header-copy(16) | HMAC(12) | E-confounder(16) | E-plaintext | E-filler(EC)
 *
 * WinRM's `header` is the token header plus the part before the encrypted plaintext, i.e. 16 + RRC + 16 = 60
 * bytes, and `data` is the rest: plaintext length + EC bytes (CTS keeps the byte count of the plaintext; which
 * cipher bytes sit where inside the last two blocks does not matter for the split). Rotation is outside the
 * checksum (the encrypted header copy carries RRC = 0, RFC 4121 4.2.5), so the sender may choose RRC and the
 * receiver un-rotates by the RRC it reads; MIT's gss_unwrap accepts any RRC, so the client sends Windows' layout
 * and, to unwrap, simply joins `header | data` back into one token.
 */
import { ProtocolError } from '../../errors.ts';

/** Bytes of the RFC 4121 token header. */
export const TOKEN_HEADER_BYTES = 16;
/** AES confounder: one cipher block. */
export const CONFOUNDER_BYTES = 16;
/** HMAC-SHA1-96 checksum of the AES enctypes. */
export const CHECKSUM_BYTES = 12;
/** What Windows rotates: the encrypted header copy (16) and the checksum (12). */
export const WINDOWS_RRC = TOKEN_HEADER_BYTES + CHECKSUM_BYTES;

const TOK_ID_WRAP = 0x0504;
const FLAG_SEALED = 0x02;

export interface WrapTokenHeader {
  flags: number;
  ec: number;
  rrc: number;
  sequence: bigint;
}

/** Read an RFC 4121 wrap token header; a token that is not one is a ProtocolError. */
export function readWrapHeader(token: Buffer): WrapTokenHeader {
  if (token.length < TOKEN_HEADER_BYTES || token.readUInt16BE(0) !== TOK_ID_WRAP || token[3] !== 0xff) {
    throw new ProtocolError(
      'The Kerberos message is not an RFC 4121 wrap token (TOK_ID 05 04); only AES enctypes (RFC 4121) are supported',
      {
        remedy:
          'make sure the account and the server use AES keys (msDS-SupportedEncryptionTypes), not RC4 or DES',
      },
    );
  }
  return {
    flags: token[2]!,
    ec: token.readUInt16BE(4),
    rrc: token.readUInt16BE(6),
    sequence: token.readBigUInt64BE(8),
  };
}

/** Rotate `body` right by `count` bytes (RFC 4121 4.2.5): the last `count` bytes move to the front. */
export function rotateRight(body: Buffer, count: number): Buffer {
  if (body.length === 0) return Buffer.from(body);
  const n = count % body.length;
  if (n === 0) return Buffer.from(body);
  return Buffer.concat([body.subarray(body.length - n), body.subarray(0, body.length - n)]);
}

/**
 * Split a plain (RRC = 0) `gss_wrap` token into WinRM's `{ header, data }`: the body rotated right by 28 with
 * RRC = 28 written into the header; header = 16 + 28 + 16 bytes, data = the rest (plaintext length + EC).
 */
export function toWinRmLayout(token: Buffer): { header: Buffer; data: Buffer } {
  const h = readWrapHeader(token);
  if (!(h.flags & FLAG_SEALED)) {
    throw new ProtocolError('gss_wrap returned a token without confidentiality (the Sealed flag is clear)', {
      remedy:
        'the Kerberos context must offer confidentiality (GSS_C_CONF_FLAG) for WinRM message encryption',
    });
  }
  if (h.rrc !== 0) throw new ProtocolError(`gss_wrap returned a token already rotated (RRC ${h.rrc})`);
  const body = token.subarray(TOKEN_HEADER_BYTES);
  const minimum = CONFOUNDER_BYTES + h.ec + TOKEN_HEADER_BYTES + CHECKSUM_BYTES;
  if (body.length < minimum)
    throw new ProtocolError('The Kerberos wrap token is shorter than its own overhead');
  const header = Buffer.from(token.subarray(0, TOKEN_HEADER_BYTES));
  header.writeUInt16BE(WINDOWS_RRC, 6);
  const rotated = rotateRight(body, WINDOWS_RRC);
  const split = WINDOWS_RRC + CONFOUNDER_BYTES;
  return {
    header: Buffer.concat([header, rotated.subarray(0, split)]),
    data: rotated.subarray(split),
  };
}

/**
 * Join WinRM's `{ header, data }` back into one wrap token for gss_unwrap (which un-rotates by the RRC in the
 * header). Checks only the framing: the header must hold a wrap token header and its rotated part.
 */
export function fromWinRmLayout(header: Buffer, data: Buffer): Buffer {
  const h = readWrapHeader(header);
  if (!(h.flags & FLAG_SEALED)) {
    throw new ProtocolError(
      'The server sent a Kerberos wrap token without confidentiality (Sealed flag clear)',
    );
  }
  if (header.length < TOKEN_HEADER_BYTES + h.rrc) {
    throw new ProtocolError(
      `The Kerberos wrap header is ${header.length} bytes, shorter than its token header and RRC ${h.rrc}`,
    );
  }
  return Buffer.concat([header, data]);
}
