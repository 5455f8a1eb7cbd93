/**
 * NTLM message encoding and decoding ([MS-NLMP] 2.2): NEGOTIATE (type 1), CHALLENGE (type 2),
 * AUTHENTICATE (type 3), AV_PAIR lists (2.2.2.1), VERSION (2.2.2.10) and the NTLMv2 client blob
 * (NTLMv2_CLIENT_CHALLENGE, 2.2.2.7). Pure functions over Buffers; decoders validate every offset and throw
 * {@link ProtocolError} on malformed input.
 */

import { InvalidArgumentError, ProtocolError } from '../../errors.ts';

/** "NTLMSSP\0", the first 8 bytes of every NTLM message. */
export const NTLMSSP_SIGNATURE: Buffer = Buffer.from('NTLMSSP\0', 'latin1');

/** MessageType field values. */
export const MessageType = { negotiate: 1, challenge: 2, authenticate: 3 } as const;
export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];

/** NegotiateFlags bits ([MS-NLMP] 2.2.2.5). Combine with `|` and normalise with `>>> 0`. */
export const NegotiateFlag = {
  UNICODE: 0x00000001,
  OEM: 0x00000002,
  REQUEST_TARGET: 0x00000004,
  SIGN: 0x00000010,
  SEAL: 0x00000020,
  DATAGRAM: 0x00000040,
  LM_KEY: 0x00000080,
  NTLM: 0x00000200,
  ANONYMOUS: 0x00000800,
  OEM_DOMAIN_SUPPLIED: 0x00001000,
  OEM_WORKSTATION_SUPPLIED: 0x00002000,
  ALWAYS_SIGN: 0x00008000,
  TARGET_TYPE_DOMAIN: 0x00010000,
  TARGET_TYPE_SERVER: 0x00020000,
  EXTENDED_SESSIONSECURITY: 0x00080000,
  IDENTIFY: 0x00100000,
  REQUEST_NON_NT_SESSION_KEY: 0x00400000,
  TARGET_INFO: 0x00800000,
  VERSION: 0x02000000,
  NEGOTIATE_128: 0x20000000,
  KEY_EXCH: 0x40000000,
  NEGOTIATE_56: 0x80000000,
} as const;
export type NegotiateFlagName = keyof typeof NegotiateFlag;

/** True when every bit of `flag` is set in `flags`. */
export function hasFlag(flags: number, flag: number): boolean {
  return (flags & flag) >>> 0 === flag >>> 0;
}

/** Names of the bits set in `flags`, for logs and error messages. */
export function describeFlags(flags: number): NegotiateFlagName[] {
  return (Object.keys(NegotiateFlag) as NegotiateFlagName[]).filter((name) =>
    hasFlag(flags, NegotiateFlag[name]),
  );
}

/** AV_PAIR AvId values ([MS-NLMP] 2.2.2.1). */
export const AvId = {
  EOL: 0,
  NB_COMPUTER_NAME: 1,
  NB_DOMAIN_NAME: 2,
  DNS_COMPUTER_NAME: 3,
  DNS_DOMAIN_NAME: 4,
  DNS_TREE_NAME: 5,
  FLAGS: 6,
  TIMESTAMP: 7,
  SINGLE_HOST: 8,
  TARGET_NAME: 9,
  CHANNEL_BINDINGS: 10,
} as const;

/** MsvAvFlags bits. */
export const AvFlag = {
  /** The server's account authentication is constrained. */
  CONSTRAINED: 0x1,
  /** The AUTHENTICATE_MESSAGE carries a MIC. */
  MIC_PRESENT: 0x2,
  /** The SPN in MsvAvTargetName came from an untrusted source. */
  UNTRUSTED_SPN: 0x4,
} as const;

/** NTLMSSP_REVISION_W2K3, the only NTLM revision in use. */
export const NTLMSSP_REVISION_W2K3 = 15;

/** VERSION structure ([MS-NLMP] 2.2.2.10): the sender's OS version, for debugging only. */
export interface NtlmVersion {
  major: number;
  minor: number;
  build: number;
  /** NTLMRevisionCurrent; 15 unless told otherwise. */
  revision?: number;
}

export interface AvPair {
  readonly id: number;
  readonly value: Buffer;
}

export interface NegotiateMessage {
  flags: number;
  /** OEM domain name, when NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED was set; otherwise ''. */
  domain: string;
  /** OEM workstation name, when NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED was set; otherwise ''. */
  workstation: string;
  version: NtlmVersion | undefined;
}

export interface ChallengeMessage {
  flags: number;
  /** 8-byte nonce. */
  serverChallenge: Buffer;
  targetName: string;
  /** Decoded AV pairs without the terminating MsvAvEOL. */
  targetInfo: AvPair[];
  /** TargetInfo bytes exactly as received (empty when absent). */
  targetInfoRaw: Buffer;
  version: NtlmVersion | undefined;
}

export interface AuthenticateMessage {
  flags: number;
  lmChallengeResponse: Buffer;
  ntChallengeResponse: Buffer;
  domain: string;
  user: string;
  workstation: string;
  /** Empty when NTLMSSP_NEGOTIATE_KEY_EXCH was not negotiated. */
  encryptedRandomSessionKey: Buffer;
  version: NtlmVersion | undefined;
  /**
   * The 16 bytes where a MIC lives, when the header has room for one (payload starts at or after 88).
   * Whether they are a MIC is told by MsvAvFlags in the NTLMv2 response, not by the header.
   */
  mic: Buffer | undefined;
}

/** Parsed NTLMv2_RESPONSE ([MS-NLMP] 2.2.2.8): NTProofStr followed by the client blob ("temp"). */
export interface NtlmV2Response {
  ntProofStr: Buffer;
  /** Everything after NTProofStr: the NTLMv2_CLIENT_CHALLENGE that NTProofStr was computed over. */
  clientBlob: Buffer;
  /** FILETIME: 100 ns intervals since 1601-01-01 UTC. */
  timestamp: bigint;
  clientChallenge: Buffer;
  avPairs: AvPair[];
}

/** Offset of the MIC field in an AUTHENTICATE_MESSAGE that has one. */
export const MIC_OFFSET = 72;
const AUTHENTICATE_HEADER = 64;
const VERSION_LENGTH = 8;
const MIC_LENGTH = 16;
/** Length of the fixed part of NTLMv2_CLIENT_CHALLENGE before its AvPairs. */
const CLIENT_BLOB_HEADER = 28;

// ---------------------------------------------------------------------------------------------------
// Small readers and writers

interface FieldRef {
  length: number;
  offset: number;
}

function fail(what: string): never {
  throw new ProtocolError(`Malformed NTLM message: ${what}`);
}

function readField(buf: Buffer, at: number, name: string): FieldRef {
  if (at + 8 > buf.length) fail(`${name} field header is truncated`);
  const length = buf.readUInt16LE(at);
  const offset = buf.readUInt32LE(at + 4);
  if (length > 0 && offset + length > buf.length) {
    fail(`${name} (offset ${offset}, length ${length}) runs past the end of the ${buf.length}-byte message`);
  }
  return { length, offset };
}

function sliceField(buf: Buffer, field: FieldRef): Buffer {
  return field.length === 0
    ? Buffer.alloc(0)
    : Buffer.from(buf.subarray(field.offset, field.offset + field.length));
}

function decodeText(bytes: Buffer, unicode: boolean, name: string): string {
  if (!unicode) return bytes.toString('latin1');
  if (bytes.length % 2 !== 0) fail(`${name} has an odd length for UTF-16`);
  return bytes.toString('utf16le');
}

function encodeText(text: string, unicode: boolean): Buffer {
  return Buffer.from(text, unicode ? 'utf16le' : 'latin1');
}

function checkHeader(buf: Buffer, expected: MessageTypeValue, minLength: number): void {
  if (!Buffer.isBuffer(buf)) throw new InvalidArgumentError('An NTLM message must be a Buffer');
  if (buf.length < minLength) fail(`${buf.length} bytes is too short for message type ${expected}`);
  if (!buf.subarray(0, 8).equals(NTLMSSP_SIGNATURE)) fail('missing NTLMSSP signature');
  const type = buf.readUInt32LE(8);
  if (type !== expected) fail(`expected message type ${expected}, got ${type}`);
}

/** Which NTLM message `buf` is (1, 2 or 3); throws ProtocolError when it is not an NTLM message. */
export function peekMessageType(buf: Buffer): MessageTypeValue {
  if (buf.length < 12 || !buf.subarray(0, 8).equals(NTLMSSP_SIGNATURE)) fail('missing NTLMSSP signature');
  const type = buf.readUInt32LE(8);
  if (type !== 1 && type !== 2 && type !== 3) fail(`unknown message type ${type}`);
  return type;
}

function encodeVersion(version: NtlmVersion | undefined): Buffer {
  const out = Buffer.alloc(VERSION_LENGTH);
  if (version) {
    out.writeUInt8(version.major & 0xff, 0);
    out.writeUInt8(version.minor & 0xff, 1);
    out.writeUInt16LE(version.build & 0xffff, 2);
    out.writeUInt8((version.revision ?? NTLMSSP_REVISION_W2K3) & 0xff, 7);
  }
  return out;
}

function decodeVersion(buf: Buffer, at: number): NtlmVersion {
  return {
    major: buf.readUInt8(at),
    minor: buf.readUInt8(at + 1),
    build: buf.readUInt16LE(at + 2),
    revision: buf.readUInt8(at + 7),
  };
}

function writeField(header: Buffer, at: number, length: number, offset: number): void {
  if (length > 0xffff) throw new InvalidArgumentError(`NTLM field of ${length} bytes exceeds 65535`);
  header.writeUInt16LE(length, at);
  header.writeUInt16LE(length, at + 2);
  header.writeUInt32LE(offset, at + 4);
}

/** Smallest offset of a non-empty payload field, or the message length when every field is empty. */
function payloadStart(buf: Buffer, fields: readonly FieldRef[]): number {
  let start = buf.length;
  for (const f of fields) if (f.length > 0 && f.offset < start) start = f.offset;
  return start;
}

// ---------------------------------------------------------------------------------------------------
// AV pairs

/** Decodes an AV_PAIR list up to MsvAvEOL (the EOL is not returned). A missing EOL at the very end is tolerated. */
export function decodeAvPairs(buf: Buffer): AvPair[] {
  const pairs: AvPair[] = [];
  let at = 0;
  while (at < buf.length) {
    if (at + 4 > buf.length) fail('AV_PAIR header is truncated');
    const id = buf.readUInt16LE(at);
    const length = buf.readUInt16LE(at + 2);
    at += 4;
    if (id === AvId.EOL) return pairs;
    if (at + length > buf.length) fail(`AV_PAIR ${id} value is truncated`);
    pairs.push({ id, value: Buffer.from(buf.subarray(at, at + length)) });
    at += length;
  }
  return pairs;
}

/** Encodes AV pairs and appends MsvAvEOL. Any EOL in `pairs` is skipped. */
export function encodeAvPairs(pairs: readonly AvPair[]): Buffer {
  const parts: Buffer[] = [];
  for (const pair of pairs) {
    if (pair.id === AvId.EOL) continue;
    if (pair.value.length > 0xffff) throw new InvalidArgumentError(`AV_PAIR ${pair.id} value is too long`);
    const head = Buffer.alloc(4);
    head.writeUInt16LE(pair.id, 0);
    head.writeUInt16LE(pair.value.length, 2);
    parts.push(head, pair.value);
  }
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

/** An AV pair whose value is a UTF-16LE string (the name pairs and MsvAvTargetName). */
export function textAvPair(id: number, text: string): AvPair {
  return { id, value: Buffer.from(text, 'utf16le') };
}

export function findAvPair(pairs: readonly AvPair[], id: number): AvPair | undefined {
  return pairs.find((p) => p.id === id);
}

/** The well-known AV pairs of a list, decoded. */
export interface TargetInfoSummary {
  nbComputerName?: string;
  nbDomainName?: string;
  dnsComputerName?: string;
  dnsDomainName?: string;
  dnsTreeName?: string;
  /** MsvAvFlags. */
  flags?: number;
  /** MsvAvTimestamp (FILETIME). */
  timestamp?: bigint;
  /** MsvAvTargetName (SPN). */
  targetName?: string;
  /** MsvAvChannelBindings (16-byte MD5). */
  channelBindings?: Buffer;
}

export function summarizeAvPairs(pairs: readonly AvPair[]): TargetInfoSummary {
  const out: TargetInfoSummary = {};
  for (const { id, value } of pairs) {
    switch (id) {
      case AvId.NB_COMPUTER_NAME:
        out.nbComputerName = value.toString('utf16le');
        break;
      case AvId.NB_DOMAIN_NAME:
        out.nbDomainName = value.toString('utf16le');
        break;
      case AvId.DNS_COMPUTER_NAME:
        out.dnsComputerName = value.toString('utf16le');
        break;
      case AvId.DNS_DOMAIN_NAME:
        out.dnsDomainName = value.toString('utf16le');
        break;
      case AvId.DNS_TREE_NAME:
        out.dnsTreeName = value.toString('utf16le');
        break;
      case AvId.FLAGS:
        if (value.length !== 4) fail('MsvAvFlags must be 4 bytes');
        out.flags = value.readUInt32LE(0);
        break;
      case AvId.TIMESTAMP:
        if (value.length !== 8) fail('MsvAvTimestamp must be 8 bytes');
        out.timestamp = value.readBigUInt64LE(0);
        break;
      case AvId.TARGET_NAME:
        out.targetName = value.toString('utf16le');
        break;
      case AvId.CHANNEL_BINDINGS:
        if (value.length !== 16) fail('MsvAvChannelBindings must be 16 bytes');
        out.channelBindings = value;
        break;
      default:
        break;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// NEGOTIATE_MESSAGE (2.2.1.1)

export interface NegotiateMessageInput {
  flags: number;
  /** OEM domain name; sets NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED when non-empty. */
  domain?: string;
  /** OEM workstation name; sets NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED when non-empty. */
  workstation?: string;
  version?: NtlmVersion;
}

export function encodeNegotiate(input: NegotiateMessageInput): Buffer {
  const domain = Buffer.from(input.domain ?? '', 'latin1');
  const workstation = Buffer.from(input.workstation ?? '', 'latin1');
  let flags = input.flags >>> 0;
  if (domain.length > 0) flags = (flags | NegotiateFlag.OEM_DOMAIN_SUPPLIED) >>> 0;
  if (workstation.length > 0) flags = (flags | NegotiateFlag.OEM_WORKSTATION_SUPPLIED) >>> 0;
  const headerLength = input.version ? 40 : 32;
  const header = Buffer.alloc(headerLength);
  NTLMSSP_SIGNATURE.copy(header, 0);
  header.writeUInt32LE(MessageType.negotiate, 8);
  header.writeUInt32LE(flags, 12);
  writeField(header, 16, domain.length, headerLength);
  writeField(header, 24, workstation.length, headerLength + domain.length);
  if (input.version) encodeVersion(input.version).copy(header, 32);
  return Buffer.concat([header, domain, workstation]);
}

export function decodeNegotiate(buf: Buffer): NegotiateMessage {
  checkHeader(buf, MessageType.negotiate, 16);
  const flags = buf.readUInt32LE(12);
  let domain = '';
  let workstation = '';
  let version: NtlmVersion | undefined;
  if (buf.length >= 32) {
    const domainField = readField(buf, 16, 'DomainName');
    const workstationField = readField(buf, 24, 'Workstation');
    if (hasFlag(flags, NegotiateFlag.OEM_DOMAIN_SUPPLIED))
      domain = sliceField(buf, domainField).toString('latin1');
    if (hasFlag(flags, NegotiateFlag.OEM_WORKSTATION_SUPPLIED)) {
      workstation = sliceField(buf, workstationField).toString('latin1');
    }
    if (hasFlag(flags, NegotiateFlag.VERSION) && payloadStart(buf, [domainField, workstationField]) >= 40) {
      version = decodeVersion(buf, 32);
    }
  }
  return { flags, domain, workstation, version };
}

// ---------------------------------------------------------------------------------------------------
// CHALLENGE_MESSAGE (2.2.1.2)

export interface ChallengeMessageInput {
  flags: number;
  serverChallenge: Buffer;
  targetName: string;
  /** AV pairs (EOL appended) or the exact bytes to send. */
  targetInfo: readonly AvPair[] | Buffer;
  version?: NtlmVersion;
}

export function encodeChallenge(input: ChallengeMessageInput): Buffer {
  if (input.serverChallenge.length !== 8) {
    throw new InvalidArgumentError('serverChallenge must be 8 bytes', { argument: 'serverChallenge' });
  }
  const flags = input.flags >>> 0;
  const unicode = hasFlag(flags, NegotiateFlag.UNICODE);
  const targetName = encodeText(input.targetName, unicode);
  const targetInfo = Buffer.isBuffer(input.targetInfo) ? input.targetInfo : encodeAvPairs(input.targetInfo);
  const headerLength = input.version ? 56 : 48;
  const header = Buffer.alloc(headerLength);
  NTLMSSP_SIGNATURE.copy(header, 0);
  header.writeUInt32LE(MessageType.challenge, 8);
  writeField(header, 12, targetName.length, headerLength);
  header.writeUInt32LE(flags, 20);
  input.serverChallenge.copy(header, 24);
  writeField(header, 40, targetInfo.length, headerLength + targetName.length);
  if (input.version) encodeVersion(input.version).copy(header, 48);
  return Buffer.concat([header, targetName, targetInfo]);
}

export function decodeChallenge(buf: Buffer): ChallengeMessage {
  checkHeader(buf, MessageType.challenge, 32);
  const targetNameField = readField(buf, 12, 'TargetName');
  const flags = buf.readUInt32LE(20);
  const serverChallenge = Buffer.from(buf.subarray(24, 32));
  let targetInfoField: FieldRef = { length: 0, offset: 0 };
  if (buf.length >= 48) targetInfoField = readField(buf, 40, 'TargetInfo');
  else if (hasFlag(flags, NegotiateFlag.TARGET_INFO))
    fail('NTLMSSP_NEGOTIATE_TARGET_INFO is set but TargetInfo is absent');
  const start = payloadStart(buf, [targetNameField, targetInfoField]);
  const version = hasFlag(flags, NegotiateFlag.VERSION) && start >= 56 ? decodeVersion(buf, 48) : undefined;
  const targetInfoRaw = sliceField(buf, targetInfoField);
  return {
    flags,
    serverChallenge,
    targetName: decodeText(
      sliceField(buf, targetNameField),
      hasFlag(flags, NegotiateFlag.UNICODE),
      'TargetName',
    ),
    targetInfo: decodeAvPairs(targetInfoRaw),
    targetInfoRaw,
    version,
  };
}

// ---------------------------------------------------------------------------------------------------
// AUTHENTICATE_MESSAGE (2.2.1.3)

export interface AuthenticateMessageInput {
  flags: number;
  lmChallengeResponse: Buffer;
  ntChallengeResponse: Buffer;
  domain: string;
  user: string;
  workstation: string;
  encryptedRandomSessionKey?: Buffer;
  version?: NtlmVersion;
  /** 16 bytes to put in the MIC field (pass zeros to reserve room, then {@link setMic}); omit for no MIC field. */
  mic?: Buffer;
}

export function encodeAuthenticate(input: AuthenticateMessageInput): Buffer {
  const flags = input.flags >>> 0;
  const unicode = hasFlag(flags, NegotiateFlag.UNICODE);
  const domain = encodeText(input.domain, unicode);
  const user = encodeText(input.user, unicode);
  const workstation = encodeText(input.workstation, unicode);
  const sessionKey = input.encryptedRandomSessionKey ?? Buffer.alloc(0);
  if (input.mic && input.mic.length !== MIC_LENGTH) {
    throw new InvalidArgumentError('mic must be 16 bytes', { argument: 'mic' });
  }
  const headerLength = input.mic
    ? AUTHENTICATE_HEADER + VERSION_LENGTH + MIC_LENGTH
    : input.version
      ? AUTHENTICATE_HEADER + VERSION_LENGTH
      : AUTHENTICATE_HEADER;
  const header = Buffer.alloc(headerLength);
  NTLMSSP_SIGNATURE.copy(header, 0);
  header.writeUInt32LE(MessageType.authenticate, 8);
  // Payload order follows the examples in [MS-NLMP] 4.2: domain, user, workstation, LM, NT, session key.
  let at = headerLength;
  const place = (fieldAt: number, bytes: Buffer): void => {
    writeField(header, fieldAt, bytes.length, at);
    at += bytes.length;
  };
  place(28, domain);
  place(36, user);
  place(44, workstation);
  place(12, input.lmChallengeResponse);
  place(20, input.ntChallengeResponse);
  place(52, sessionKey);
  header.writeUInt32LE(flags, 60);
  if (headerLength > AUTHENTICATE_HEADER) encodeVersion(input.version).copy(header, AUTHENTICATE_HEADER);
  if (input.mic) input.mic.copy(header, MIC_OFFSET);
  return Buffer.concat([
    header,
    domain,
    user,
    workstation,
    input.lmChallengeResponse,
    input.ntChallengeResponse,
    sessionKey,
  ]);
}

export function decodeAuthenticate(buf: Buffer): AuthenticateMessage {
  checkHeader(buf, MessageType.authenticate, AUTHENTICATE_HEADER);
  const lm = readField(buf, 12, 'LmChallengeResponse');
  const nt = readField(buf, 20, 'NtChallengeResponse');
  const domainField = readField(buf, 28, 'DomainName');
  const userField = readField(buf, 36, 'UserName');
  const workstationField = readField(buf, 44, 'Workstation');
  const keyField = readField(buf, 52, 'EncryptedRandomSessionKey');
  const flags = buf.readUInt32LE(60);
  const unicode = hasFlag(flags, NegotiateFlag.UNICODE);
  const start = payloadStart(buf, [lm, nt, domainField, userField, workstationField, keyField]);
  const version =
    hasFlag(flags, NegotiateFlag.VERSION) && start >= AUTHENTICATE_HEADER + VERSION_LENGTH
      ? decodeVersion(buf, AUTHENTICATE_HEADER)
      : undefined;
  const mic =
    start >= MIC_OFFSET + MIC_LENGTH
      ? Buffer.from(buf.subarray(MIC_OFFSET, MIC_OFFSET + MIC_LENGTH))
      : undefined;
  return {
    flags,
    lmChallengeResponse: sliceField(buf, lm),
    ntChallengeResponse: sliceField(buf, nt),
    domain: decodeText(sliceField(buf, domainField), unicode, 'DomainName'),
    user: decodeText(sliceField(buf, userField), unicode, 'UserName'),
    workstation: decodeText(sliceField(buf, workstationField), unicode, 'Workstation'),
    encryptedRandomSessionKey: sliceField(buf, keyField),
    version,
    mic,
  };
}

/** A copy of an encoded AUTHENTICATE_MESSAGE with `mic` written into its MIC field. */
export function setMic(authenticate: Buffer, mic: Buffer): Buffer {
  if (mic.length !== MIC_LENGTH) throw new InvalidArgumentError('mic must be 16 bytes', { argument: 'mic' });
  if (authenticate.length < MIC_OFFSET + MIC_LENGTH) fail('AUTHENTICATE_MESSAGE has no room for a MIC');
  const out = Buffer.from(authenticate);
  mic.copy(out, MIC_OFFSET);
  return out;
}

// ---------------------------------------------------------------------------------------------------
// NTLMv2 response (2.2.2.7 / 2.2.2.8)

/**
 * NTLMv2_CLIENT_CHALLENGE, called "temp" in [MS-NLMP] 3.3.2:
 * RespType 1, HiRespType 1, Z(6), TimeStamp, ChallengeFromClient, Z(4), AvPairs, Z(4).
 */
export function encodeNtlmV2ClientBlob(timestamp: bigint, clientChallenge: Buffer, avPairs: Buffer): Buffer {
  if (clientChallenge.length !== 8) {
    throw new InvalidArgumentError('clientChallenge must be 8 bytes', { argument: 'clientChallenge' });
  }
  const head = Buffer.alloc(CLIENT_BLOB_HEADER);
  head.writeUInt8(1, 0);
  head.writeUInt8(1, 1);
  head.writeBigUInt64LE(timestamp, 8);
  clientChallenge.copy(head, 16);
  return Buffer.concat([head, avPairs, Buffer.alloc(4)]);
}

/** Splits an NTLMv2 NtChallengeResponse; throws ProtocolError when it is not one (e.g. an NTLMv1 response). */
export function decodeNtlmV2Response(buf: Buffer): NtlmV2Response {
  if (buf.length < 16 + CLIENT_BLOB_HEADER)
    fail(`${buf.length}-byte NtChallengeResponse is not an NTLMv2 response`);
  const clientBlob = Buffer.from(buf.subarray(16));
  if (clientBlob[0] !== 1 || clientBlob[1] !== 1) fail('NTLMv2 response has an unknown RespType');
  return {
    ntProofStr: Buffer.from(buf.subarray(0, 16)),
    clientBlob,
    timestamp: clientBlob.readBigUInt64LE(8),
    clientChallenge: Buffer.from(clientBlob.subarray(16, 24)),
    avPairs: decodeAvPairs(clientBlob.subarray(CLIENT_BLOB_HEADER)),
  };
}

/**
 * Whether an AUTHENTICATE_MESSAGE announces a MIC (MsvAvFlags bit 0x2 in its NTLMv2 blob). Under SPNEGO this makes
 * the mechListMIC exchange mandatory ([MS-SPNG] 3.1.5.1). False for NTLMv1 responses; ProtocolError when the
 * message is malformed.
 */
export function authenticateHasMic(authenticateMessage: Buffer): boolean {
  const auth = decodeAuthenticate(authenticateMessage);
  if (auth.ntChallengeResponse.length <= 24) return false;
  const flags = summarizeAvPairs(decodeNtlmV2Response(auth.ntChallengeResponse).avPairs).flags ?? 0;
  return (flags & AvFlag.MIC_PRESENT) !== 0;
}
