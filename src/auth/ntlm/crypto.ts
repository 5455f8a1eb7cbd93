/**
 * NTLMv2 key derivation and response computation ([MS-NLMP] 3.3.2, 3.4.5). HMAC-MD5 and MD5 come from
 * node:crypto; MD4 and RC4 are our own (OpenSSL 3 refuses them). Every function is pure.
 *
 *   NT hash            = MD4(UTF-16LE(password))
 *   ResponseKeyNT      = NTOWFv2 = HMAC_MD5(NT hash, UTF-16LE(Upcase(user) + domain))   (= ResponseKeyLM)
 *   temp               = NTLMv2_CLIENT_CHALLENGE(time, client challenge, AV pairs)
 *   NTProofStr         = HMAC_MD5(ResponseKeyNT, server challenge + temp)
 *   NtChallengeResponse= NTProofStr + temp
 *   SessionBaseKey     = HMAC_MD5(ResponseKeyNT, NTProofStr)
 *   KeyExchangeKey     = SessionBaseKey                                   (KXKEY for NTLMv2)
 *   ExportedSessionKey = random 16 bytes, sent as RC4(KeyExchangeKey, it)  (with NTLMSSP_NEGOTIATE_KEY_EXCH)
 *                      = KeyExchangeKey                                   (without)
 *   Sign/seal keys     = MD5(ExportedSessionKey + magic constant)          (extended session security)
 *   MIC                = HMAC_MD5(ExportedSessionKey, NEGOTIATE + CHALLENGE + AUTHENTICATE with MIC zeroed)
 */

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidArgumentError } from '../../errors.ts';
import { md4 } from './md4.ts';
import { encodeNtlmV2ClientBlob, hasFlag, NegotiateFlag } from './messages.ts';
import { rc4 } from './rc4.ts';

/** Which side's keys: `client` = client-to-server, `server` = server-to-client. */
export type NtlmDirection = 'client' | 'server';

const MAGIC = {
  sign: {
    client: 'session key to client-to-server signing key magic constant\0',
    server: 'session key to server-to-client signing key magic constant\0',
  },
  seal: {
    client: 'session key to client-to-server sealing key magic constant\0',
    server: 'session key to server-to-client sealing key magic constant\0',
  },
} as const;

/** Milliseconds between 1601-01-01 (FILETIME epoch) and 1970-01-01 (Unix epoch). */
const FILETIME_UNIX_EPOCH_MS = 11_644_473_600_000n;

export function md5(...parts: Uint8Array[]): Buffer {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
}

export function hmacMd5(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac('md5', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Constant-time equality for equal-length secrets; false for different lengths. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Default random source: node:crypto CSPRNG. */
export function defaultRandom(size: number): Buffer {
  return randomBytes(size);
}

/** Current time as a FILETIME (100 ns intervals since 1601-01-01 UTC). */
export function filetimeNow(): bigint {
  return (BigInt(Date.now()) + FILETIME_UNIX_EPOCH_MS) * 10_000n;
}

/**
 * Upper-cases the way Windows does for NTOWFv2: one character at a time, never changing the length
 * (JavaScript would turn "ß" into "SS"; Windows leaves it).
 */
export function upcase(text: string): string {
  let out = '';
  for (const ch of text) {
    const upper = ch.toUpperCase();
    out += upper.length === ch.length ? upper : ch;
  }
  return out;
}

/** NTOWFv1: the NT hash, MD4(UTF-16LE(password)). */
export function ntHash(password: string): Buffer {
  return md4(Buffer.from(password, 'utf16le'));
}

/** NTOWFv2 from an NT hash: HMAC_MD5(hash, UTF-16LE(Upcase(user) + domain)). Also LMOWFv2. */
export function ntowfv2FromHash(hash: Uint8Array, user: string, domain: string): Buffer {
  return hmacMd5(hash, Buffer.from(upcase(user) + domain, 'utf16le'));
}

/** NTOWFv2(password, user, domain) ([MS-NLMP] 3.3.2). */
export function ntowfv2(password: string, user: string, domain: string): Buffer {
  const hash = ntHash(password);
  try {
    return ntowfv2FromHash(hash, user, domain);
  } finally {
    hash.fill(0);
  }
}

/** NTProofStr = HMAC_MD5(ResponseKeyNT, ServerChallenge + temp). */
export function computeNtProofStr(
  responseKeyNT: Uint8Array,
  serverChallenge: Uint8Array,
  clientBlob: Uint8Array,
): Buffer {
  return hmacMd5(responseKeyNT, serverChallenge, clientBlob);
}

/** LMv2 response = HMAC_MD5(ResponseKeyLM, ServerChallenge + ClientChallenge) + ClientChallenge. */
export function computeLmV2Response(
  responseKeyLM: Uint8Array,
  serverChallenge: Uint8Array,
  clientChallenge: Uint8Array,
): Buffer {
  return Buffer.concat([hmacMd5(responseKeyLM, serverChallenge, clientChallenge), clientChallenge]);
}

/** SessionBaseKey = HMAC_MD5(ResponseKeyNT, NTProofStr). */
export function computeSessionBaseKey(responseKeyNT: Uint8Array, ntProofStr: Uint8Array): Buffer {
  return hmacMd5(responseKeyNT, ntProofStr);
}

/** KXKEY for NTLMv2 ([MS-NLMP] 3.4.5.1): the session base key itself. */
export function keyExchangeKeyV2(sessionBaseKey: Buffer): Buffer {
  return Buffer.from(sessionBaseKey);
}

export interface NtlmV2ResponseInput {
  responseKeyNT: Uint8Array;
  serverChallenge: Buffer;
  clientChallenge: Buffer;
  /** FILETIME placed in the blob: the server's MsvAvTimestamp when it sent one. */
  timestamp: bigint;
  /** Encoded AV pairs for the blob (with EOL). */
  targetInfo: Buffer;
  /** Send Z(24) instead of the LMv2 response (required when the server sent MsvAvTimestamp). */
  omitLmResponse?: boolean;
}

export interface NtlmV2ResponseOutput {
  ntChallengeResponse: Buffer;
  lmChallengeResponse: Buffer;
  ntProofStr: Buffer;
  sessionBaseKey: Buffer;
}

/** ComputeResponse for NTLMv2 ([MS-NLMP] 3.3.2). */
export function computeNtlmV2Response(input: NtlmV2ResponseInput): NtlmV2ResponseOutput {
  const blob = encodeNtlmV2ClientBlob(input.timestamp, input.clientChallenge, input.targetInfo);
  const ntProofStr = computeNtProofStr(input.responseKeyNT, input.serverChallenge, blob);
  return {
    ntProofStr,
    ntChallengeResponse: Buffer.concat([ntProofStr, blob]),
    lmChallengeResponse: input.omitLmResponse
      ? Buffer.alloc(24)
      : computeLmV2Response(input.responseKeyNT, input.serverChallenge, input.clientChallenge),
    sessionBaseKey: computeSessionBaseKey(input.responseKeyNT, ntProofStr),
  };
}

/** EncryptedRandomSessionKey = RC4K(KeyExchangeKey, ExportedSessionKey). RC4 is its own inverse. */
export function encryptRandomSessionKey(keyExchangeKey: Uint8Array, exportedSessionKey: Uint8Array): Buffer {
  if (exportedSessionKey.length !== 16) {
    throw new InvalidArgumentError('The random session key must be 16 bytes', { argument: 'random' });
  }
  return rc4(keyExchangeKey, exportedSessionKey);
}

/** Recovers ExportedSessionKey from EncryptedRandomSessionKey (server side). */
export function decryptRandomSessionKey(keyExchangeKey: Uint8Array, encrypted: Uint8Array): Buffer {
  return rc4(keyExchangeKey, encrypted);
}

/**
 * SIGNKEY ([MS-NLMP] 3.4.5.2). Only defined with extended session security; without it NTLM signs with
 * the session key directly, which this module refuses to negotiate.
 */
export function signKey(flags: number, exportedSessionKey: Uint8Array, direction: NtlmDirection): Buffer {
  if (!hasFlag(flags, NegotiateFlag.EXTENDED_SESSIONSECURITY)) {
    throw new InvalidArgumentError('SIGNKEY requires NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY');
  }
  return md5(exportedSessionKey, Buffer.from(MAGIC.sign[direction], 'latin1'));
}

/** SEALKEY ([MS-NLMP] 3.4.5.3) with extended session security: 128, 56 or 40 bits of the exported key. */
export function sealKey(flags: number, exportedSessionKey: Uint8Array, direction: NtlmDirection): Buffer {
  if (!hasFlag(flags, NegotiateFlag.EXTENDED_SESSIONSECURITY)) {
    throw new InvalidArgumentError('SEALKEY requires NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY');
  }
  const length = hasFlag(flags, NegotiateFlag.NEGOTIATE_128)
    ? 16
    : hasFlag(flags, NegotiateFlag.NEGOTIATE_56)
      ? 7
      : 5;
  return md5(exportedSessionKey.subarray(0, length), Buffer.from(MAGIC.seal[direction], 'latin1'));
}

/** MIC = HMAC_MD5(ExportedSessionKey, NEGOTIATE + CHALLENGE + AUTHENTICATE), the last with its MIC field zeroed. */
export function computeMic(
  exportedSessionKey: Uint8Array,
  negotiate: Uint8Array,
  challenge: Uint8Array,
  authenticateWithZeroMic: Uint8Array,
): Buffer {
  return hmacMd5(exportedSessionKey, negotiate, challenge, authenticateWithZeroMic);
}

/**
 * MsvAvChannelBindings value: MD5 of a gss_channel_bindings_struct ([RFC 2744] 3.11, [MS-NLMP] 2.2.2.1)
 * with no addresses and `applicationData` as its application data. For WinRM over HTTPS the application
 * data is `tls-server-end-point:` + hash of the server certificate ([RFC 5929] 4.1), see
 * {@link tlsServerEndPointApplicationData}.
 */
export function channelBindingsHash(applicationData: Uint8Array): Buffer {
  const struct = Buffer.alloc(20);
  // initiator_addrtype, initiator_address.length, acceptor_addrtype, acceptor_address.length: all 0.
  struct.writeUInt32LE(applicationData.length, 16);
  return md5(struct, applicationData);
}

/** Application data for `tls-server-end-point` channel bindings: the prefix and the certificate hash. */
export function tlsServerEndPointApplicationData(certificateHash: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from('tls-server-end-point:', 'latin1'), certificateHash]);
}

/**
 * Hash of a DER certificate for `tls-server-end-point` ([RFC 5929] 4.1): the certificate's signature hash,
 * except MD5 and SHA-1 become SHA-256. Pass the hash name the certificate uses (`sha256` when unsure:
 * that is what almost every WinRM listener certificate uses).
 */
export function tlsServerEndPointHash(certificateDer: Uint8Array, signatureHash = 'sha256'): Buffer {
  const name = signatureHash.toLowerCase().replace('-', '');
  const algorithm = name === 'md5' || name === 'sha1' ? 'sha256' : name;
  return createHash(algorithm).update(certificateDer).digest();
}
