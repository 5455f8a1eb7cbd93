/**
 * WinRM message encryption framing ([MS-WSMV] 2.2.9.1) for any security context: a SOAP body sealed by an SSP
 * travels as a two-part `multipart/encrypted` document.
 *
 *   --Encrypted Boundary
 *   	Content-Type: application/HTTP-SPNEGO-session-encrypted
 *   	OriginalContent: type=application/soap+xml;charset=UTF-8;Length=<plaintext bytes>
 *   --Encrypted Boundary
 *   	Content-Type: application/octet-stream
 *   <uint32 LE header length><header><encrypted data>--Encrypted Boundary--
 *
 * For NTLM the header is the 16-byte signature and the data is as long as the plaintext; for Kerberos (RFC 4121
 * wrap tokens) the header is the token header plus its rotated part and the data may be longer (padding), so
 * only `data.length >= Length` is required here and the unwrapped plaintext must have exactly `Length` bytes.
 * Readers accept the variants seen in the field: header lines with or without the leading tab, a space after
 * the dashes (`-- Encrypted Boundary`), any letter case in header names, and CRLF or LF line ends.
 */
import { ProtocolError } from '../errors.ts';
import type { SecurityContext } from './mechanism.ts';

export const ENCRYPTED_PROTOCOLS = {
  spnego: 'application/HTTP-SPNEGO-session-encrypted',
  kerberos: 'application/HTTP-Kerberos-session-encrypted',
} as const;
export type EncryptedProtocol = (typeof ENCRYPTED_PROTOCOLS)[keyof typeof ENCRYPTED_PROTOCOLS];

export const SOAP_CONTENT_TYPE = 'application/soap+xml;charset=UTF-8';
const BOUNDARY = 'Encrypted Boundary';

/** The Content-Type header value of an encrypted message. */
export function encryptedContentType(protocol: EncryptedProtocol = ENCRYPTED_PROTOCOLS.spnego): string {
  return `multipart/encrypted;protocol="${protocol}";boundary="${BOUNDARY}"`;
}

export function isEncryptedContentType(contentType: string | undefined): boolean {
  return /^\s*multipart\/encrypted\b/i.test(contentType ?? '');
}

/** Frame one wrapped message; `plaintextLength` goes into `Length=`. */
export function frameEncrypted(
  wrapped: { header: Buffer; data: Buffer },
  plaintextLength: number,
  protocol: EncryptedProtocol = ENCRYPTED_PROTOCOLS.spnego,
): Buffer {
  const head =
    `--${BOUNDARY}\r\n` +
    `\tContent-Type: ${protocol}\r\n` +
    `\tOriginalContent: type=${SOAP_CONTENT_TYPE};Length=${plaintextLength}\r\n` +
    `--${BOUNDARY}\r\n` +
    '\tContent-Type: application/octet-stream\r\n';
  const length = Buffer.alloc(4);
  length.writeUInt32LE(wrapped.header.length, 0);
  return Buffer.concat([
    Buffer.from(head, 'latin1'),
    length,
    wrapped.header,
    wrapped.data,
    Buffer.from(`--${BOUNDARY}--\r\n`, 'latin1'),
  ]);
}

export interface EncryptedParts {
  protocol: string;
  /** Declared plaintext length from OriginalContent. */
  length: number;
  header: Buffer;
  data: Buffer;
}

const HEADER_LINE = /^[\t ]*([A-Za-z-]+)[\t ]*:[\t ]*(.*?)\r?$/;
const CLOSING = /--[ ]?Encrypted Boundary--\s*$/i;

/** Split an encrypted body into its parts. Any structural problem is a ProtocolError. */
export function parseEncrypted(body: Buffer): EncryptedParts {
  const text = body.toString('latin1');
  const boundary = /--[ ]?Encrypted Boundary/gi;
  const marks: number[] = [];
  for (let m = boundary.exec(text); m; m = boundary.exec(text)) marks.push(m.index, m.index + m[0].length);
  if (marks.length < 6) {
    throw new ProtocolError('The encrypted message has fewer than three "Encrypted Boundary" markers');
  }
  let protocol = '';
  let length = Number.NaN;
  for (const line of text.slice(marks[1], marks[2]).split('\n')) {
    const h = HEADER_LINE.exec(line);
    if (!h) continue;
    const name = h[1]!.toLowerCase();
    if (name === 'content-type') protocol = h[2]!.trim();
    if (name === 'originalcontent') {
      const l = /Length=(\d+)/i.exec(h[2]!);
      if (l) length = Number(l[1]);
    }
  }
  if (!Number.isSafeInteger(length)) {
    throw new ProtocolError('The encrypted message has no OriginalContent Length');
  }
  // Part 2: one header line (octet-stream), then binary up to the closing marker.
  const start2 = marks[3]!;
  const nl1 = text.indexOf('\n', start2);
  const nl2 = nl1 < 0 ? -1 : text.indexOf('\n', nl1 + 1);
  if (nl2 < 0 || !/octet-stream/i.test(text.slice(nl1, nl2))) {
    throw new ProtocolError('The encrypted message has no application/octet-stream part');
  }
  const end = text.search(CLOSING);
  if (end < 0 || end < nl2 + 1)
    throw new ProtocolError('The encrypted message is not terminated by its boundary');
  const payload = body.subarray(nl2 + 1, end);
  if (payload.length < 4) throw new ProtocolError('The encrypted payload is truncated');
  const headerLength = payload.readUInt32LE(0);
  if (headerLength > payload.length - 4) {
    throw new ProtocolError('The encrypted payload is shorter than its header');
  }
  const data = payload.subarray(4 + headerLength);
  if (data.length < length) {
    throw new ProtocolError(
      `The encrypted payload holds ${data.length} bytes but OriginalContent declares ${length}`,
    );
  }
  return { protocol, length, header: payload.subarray(4, 4 + headerLength), data };
}

/** Seal a SOAP body with `context` and frame it. */
export function encryptMessage(context: SecurityContext, soap: Buffer, protocol?: EncryptedProtocol): Buffer {
  return frameEncrypted(context.wrap(soap), soap.length, protocol);
}

/** Parse, verify and decrypt a framed body; the plaintext must have the declared length. */
export function decryptMessage(context: SecurityContext, body: Buffer): Buffer {
  const parts = parseEncrypted(body);
  const plain = context.unwrap(parts.header, parts.data);
  if (plain.length !== parts.length) {
    throw new ProtocolError(
      `The decrypted message has ${plain.length} bytes but OriginalContent declares ${parts.length}`,
    );
  }
  return plain;
}
