/**
 * WinRM message encryption framing ([MS-WSMV] 2.2.9.1): a SOAP body sealed by an SSP (NTLM, Kerberos) travels as
 * a two-part `multipart/encrypted` document. Shared by the client transport and the mock endpoint.
 *
 *   --Encrypted Boundary
 *   	Content-Type: application/HTTP-SPNEGO-session-encrypted
 *   	OriginalContent: type=application/soap+xml;charset=UTF-8;Length=<plaintext bytes>
 *   --Encrypted Boundary
 *   	Content-Type: application/octet-stream
 *   <uint32 LE signature length><signature><sealed bytes>--Encrypted Boundary--
 *
 * Readers accept the variants seen in the field: header lines with or without the leading tab, a space after the
 * dashes (`-- Encrypted Boundary`), any letter case in header names, and CRLF or LF line ends.
 */
import { ProtocolError } from '../errors.ts';

export const ENCRYPTED_PROTOCOLS = {
  spnego: 'application/HTTP-SPNEGO-session-encrypted',
  kerberos: 'application/HTTP-Kerberos-session-encrypted',
} as const;
export type EncryptedProtocol = (typeof ENCRYPTED_PROTOCOLS)[keyof typeof ENCRYPTED_PROTOCOLS];

const BOUNDARY = 'Encrypted Boundary';

/** The Content-Type header value of an encrypted message. */
export function encryptedContentType(protocol: EncryptedProtocol = ENCRYPTED_PROTOCOLS.spnego): string {
  return `multipart/encrypted;protocol="${protocol}";boundary="${BOUNDARY}"`;
}

export function isEncryptedContentType(contentType: string | undefined): boolean {
  return /^\s*multipart\/encrypted\b/i.test(contentType ?? '');
}

/** Frame a sealed payload (`uint32 LE length ‖ signature ‖ sealed`, as NtlmSession.wrap makes it). */
export function frameEncrypted(
  payload: Buffer,
  plaintextLength: number,
  protocol: EncryptedProtocol = ENCRYPTED_PROTOCOLS.spnego,
): Buffer {
  const head =
    `--${BOUNDARY}\r\n` +
    `\tContent-Type: ${protocol}\r\n` +
    `\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=${plaintextLength}\r\n` +
    `--${BOUNDARY}\r\n` +
    '\tContent-Type: application/octet-stream\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), payload, Buffer.from(`--${BOUNDARY}--\r\n`, 'latin1')]);
}

export interface EncryptedParts {
  protocol: string;
  /** Declared plaintext length from OriginalContent. */
  length: number;
  /** `uint32 LE length ‖ signature ‖ sealed`. */
  payload: Buffer;
}

const HEADER_LINE = /^[\t ]*([A-Za-z-]+)[\t ]*:[\t ]*(.*?)\r?$/;

/** Split an encrypted body into its declared length and sealed payload. Any structural problem is a ProtocolError. */
export function parseEncrypted(body: Buffer): EncryptedParts {
  const text = body.toString('latin1');
  const boundary = /--[ ]?Encrypted Boundary/gi;
  const marks: number[] = [];
  for (let m = boundary.exec(text); m; m = boundary.exec(text)) marks.push(m.index, m.index + m[0].length);
  if (marks.length < 6)
    throw new ProtocolError('The encrypted message has fewer than three "Encrypted Boundary" markers');
  // Part 1: headers between the first and second marker.
  const part1 = text.slice(marks[1], marks[2]);
  let protocol = '';
  let length = Number.NaN;
  for (const line of part1.split('\n')) {
    const h = HEADER_LINE.exec(line);
    if (!h) continue;
    const name = h[1]!.toLowerCase();
    if (name === 'content-type') protocol = h[2]!.trim();
    if (name === 'originalcontent') {
      const l = /Length=(\d+)/i.exec(h[2]!);
      if (l) length = Number(l[1]);
    }
  }
  if (!Number.isSafeInteger(length))
    throw new ProtocolError('The encrypted message has no OriginalContent Length');
  // Part 2: one header line (octet-stream), then binary up to the closing marker.
  const start2 = marks[3]!;
  const nl1 = text.indexOf('\n', start2);
  const nl2 = nl1 < 0 ? -1 : text.indexOf('\n', nl1 + 1);
  if (nl2 < 0 || !/octet-stream/i.test(text.slice(nl1, nl2))) {
    throw new ProtocolError('The encrypted message has no application/octet-stream part');
  }
  const closing = text.lastIndexOf('--', text.search(/--[ ]?Encrypted Boundary--\s*$/i) + 2);
  const end = text.search(/--[ ]?Encrypted Boundary--\s*$/i);
  if (end < 0 || closing < 0)
    throw new ProtocolError('The encrypted message is not terminated by its boundary');
  const payload = body.subarray(nl2 + 1, end);
  if (payload.length < 4) throw new ProtocolError('The encrypted payload is truncated');
  const sigLen = payload.readUInt32LE(0);
  if (sigLen > payload.length - 4)
    throw new ProtocolError('The encrypted payload is shorter than its signature');
  if (payload.length - 4 - sigLen !== length) {
    throw new ProtocolError(
      `The encrypted payload holds ${payload.length - 4 - sigLen} bytes but OriginalContent declares ${length}`,
    );
  }
  return { protocol, length, payload };
}
