/**
 * NTLMv2 authentication and session security (sealing/signing) for WinRM: a pure core with no I/O,
 * shared by the HTTP transport (client) and the mock WinRM endpoint (server). See docs/ntlm.md.
 */

export {
  CLIENT_NEGOTIATE_FLAGS,
  createNtlmClient,
  DEFAULT_CLIENT_VERSION,
  type NtlmAuthenticateResult,
  NtlmClient,
  type NtlmClientOptions,
  parseUserName,
} from './client.ts';
export {
  channelBindingsHash,
  filetimeNow,
  type NtlmDirection,
  tlsServerEndPointApplicationData,
  tlsServerEndPointHash,
} from './crypto.ts';
export { NtlmIntegrityError, type NtlmIntegrityFailure } from './errors.ts';
export {
  type AuthenticateMessage,
  AvFlag,
  AvId,
  type AvPair,
  type ChallengeMessage,
  decodeAuthenticate,
  decodeChallenge,
  decodeNegotiate,
  describeFlags,
  MessageType,
  NegotiateFlag,
  type NegotiateMessage,
  type NtlmVersion,
  peekMessageType,
} from './messages.ts';
export { createNtlmServer, NtlmServer, type NtlmServerOptions, type NtlmServerResult } from './server.ts';
export { NtlmSession, type NtlmSessionInit, type SealedMessage, SIGNATURE_LENGTH } from './session.ts';
