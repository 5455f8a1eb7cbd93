/**
 * NTLMv2 initiator (client side of [MS-NLMP] 3.1): builds the NEGOTIATE_MESSAGE, answers the server's
 * CHALLENGE_MESSAGE with an AUTHENTICATE_MESSAGE (NTLMv2 response, MIC, channel bindings, key exchange) and
 * hands back the {@link NtlmSession} used to seal WinRM messages. No I/O: the transport moves the bytes.
 *
 * The password is turned into NTOWFv2 when the client is created and then dropped; neither the password,
 * the hash nor any session key appears in errors, `toString`, `JSON.stringify` or `util.inspect` output.
 */

import { inspect } from 'node:util';
import { AuthenticationError, InvalidArgumentError } from '../../errors.ts';
import {
  channelBindingsHash,
  computeMic,
  computeNtlmV2Response,
  defaultRandom,
  encryptRandomSessionKey,
  filetimeNow,
  keyExchangeKeyV2,
  ntowfv2,
} from './crypto.ts';
import {
  AvFlag,
  AvId,
  type AvPair,
  type ChallengeMessage,
  decodeChallenge,
  encodeAuthenticate,
  encodeAvPairs,
  encodeNegotiate,
  findAvPair,
  hasFlag,
  NegotiateFlag,
  type NtlmVersion,
  setMic,
  summarizeAvPairs,
  textAvPair,
} from './messages.ts';
import { NtlmSession } from './session.ts';

/** Flags this client asks for: Unicode, NTLM, NTLMv2-style (extended) session security, 128-bit keys,
 *  key exchange, signing and sealing. [MS-NLMP] 4.2.4 uses exactly this set (0xe2888235). */
export const CLIENT_NEGOTIATE_FLAGS: number =
  (NegotiateFlag.UNICODE |
    NegotiateFlag.REQUEST_TARGET |
    NegotiateFlag.SIGN |
    NegotiateFlag.SEAL |
    NegotiateFlag.NTLM |
    NegotiateFlag.ALWAYS_SIGN |
    NegotiateFlag.EXTENDED_SESSIONSECURITY |
    NegotiateFlag.TARGET_INFO |
    NegotiateFlag.VERSION |
    NegotiateFlag.NEGOTIATE_128 |
    NegotiateFlag.KEY_EXCH |
    NegotiateFlag.NEGOTIATE_56) >>>
  0;

/** VERSION we send: Windows Server 2022 (10.0.20348), NTLM revision 15. Informational only. */
export const DEFAULT_CLIENT_VERSION: NtlmVersion = { major: 10, minor: 0, build: 20348, revision: 15 };

export interface NtlmClientOptions {
  /** `user`, `DOMAIN\user` or a UPN `user@realm` (a UPN is sent with an empty domain, as Windows does). */
  user: string;
  /** NetBIOS or DNS domain; omit with a UPN or a local account (`.\user` style is `domain: '.'`). */
  domain?: string;
  password: string;
  /** Workstation name sent in AUTHENTICATE_MESSAGE; '' by default (it is informational). */
  workstation?: string;
  /**
   * Channel-binding application data, e.g. `tlsServerEndPointApplicationData(hash)` for HTTPS.
   * Its MD5'd gss_channel_bindings_struct goes into MsvAvChannelBindings.
   */
  channelBindings?: Buffer;
  /** SPN for MsvAvTargetName, e.g. `HTTP/host.example.com`. */
  targetSpn?: string;
  /** Random source; called for the 8-byte client challenge, then the 16-byte session key. For test vectors. */
  random?: (size: number) => Buffer;
  /** Current FILETIME, used when the challenge carries no MsvAvTimestamp. For test vectors. */
  now?: () => bigint;
  /** VERSION structure to send. */
  version?: NtlmVersion;
}

export interface NtlmAuthenticateResult {
  /** AUTHENTICATE_MESSAGE to send (base64 it into `Authorization: Negotiate ...`). */
  message: Buffer;
  /** Security context for sealing and unsealing the messages that follow. */
  session: NtlmSession;
}

/** Splits `DOMAIN\user` and UPNs the way Windows does for NTLM. */
export function parseUserName(user: string, domain?: string): { user: string; domain: string } {
  if (typeof user !== 'string' || user.length === 0) {
    throw new InvalidArgumentError('NTLM user name is empty', { argument: 'user' });
  }
  const slash = user.indexOf('\\');
  if (slash >= 0) {
    const fromUser = user.slice(0, slash);
    const name = user.slice(slash + 1);
    if (name.length === 0)
      throw new InvalidArgumentError(`NTLM user name "${user}" has no user part`, { argument: 'user' });
    if (domain !== undefined && domain !== '' && domain.toUpperCase() !== fromUser.toUpperCase()) {
      throw new InvalidArgumentError(`user "${user}" names domain "${fromUser}" but domain is "${domain}"`, {
        argument: 'domain',
        remedy: 'give the domain once, either as DOMAIN\\user or in the domain option',
      });
    }
    return { user: name, domain: fromUser };
  }
  return { user, domain: domain ?? '' };
}

type ClientState = 'initial' | 'negotiated' | 'done';

/** NTLMv2 client context. One handshake per instance; `negotiate()` starts over. */
export class NtlmClient {
  readonly user: string;
  readonly domain: string;
  readonly workstation: string;
  readonly #responseKeyNT: Buffer;
  readonly #channelBindings: Buffer | undefined;
  readonly #targetSpn: string | undefined;
  readonly #random: (size: number) => Buffer;
  readonly #now: () => bigint;
  readonly #version: NtlmVersion;
  #negotiateMessage: Buffer | undefined;
  #state: ClientState = 'initial';

  constructor(options: NtlmClientOptions) {
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError('NTLM client options are required', { argument: 'options' });
    }
    if (typeof options.password !== 'string') {
      throw new InvalidArgumentError('NTLM password must be a string', { argument: 'password' });
    }
    const { user, domain } = parseUserName(options.user, options.domain);
    this.user = user;
    this.domain = domain;
    this.workstation = options.workstation ?? '';
    if (options.channelBindings !== undefined && !Buffer.isBuffer(options.channelBindings)) {
      throw new InvalidArgumentError('channelBindings must be a Buffer of application data', {
        argument: 'channelBindings',
      });
    }
    this.#channelBindings = options.channelBindings;
    this.#targetSpn = options.targetSpn;
    this.#random = options.random ?? defaultRandom;
    this.#now = options.now ?? filetimeNow;
    this.#version = options.version ?? DEFAULT_CLIENT_VERSION;
    this.#responseKeyNT = ntowfv2(options.password, user, domain);
  }

  /** The NEGOTIATE_MESSAGE (type 1). Kept for the MIC; calling it again restarts the handshake. */
  negotiate(): Buffer {
    this.#negotiateMessage = encodeNegotiate({ flags: CLIENT_NEGOTIATE_FLAGS, version: this.#version });
    this.#state = 'negotiated';
    return Buffer.from(this.#negotiateMessage);
  }

  /**
   * Answers a CHALLENGE_MESSAGE (type 2). Throws ProtocolError on a malformed challenge and
   * AuthenticationError when the server only offers something weaker than NTLMv2 with 128-bit
   * extended session security.
   */
  authenticate(challengeMessage: Buffer): NtlmAuthenticateResult {
    if (this.#state !== 'negotiated' || !this.#negotiateMessage) {
      throw new InvalidArgumentError(
        this.#state === 'done'
          ? 'This NTLM handshake is finished; call negotiate() to start another'
          : 'Call negotiate() before authenticate()',
      );
    }
    const challenge = decodeChallenge(challengeMessage);
    checkChallengeFlags(challenge.flags);

    // Flags of the AUTHENTICATE_MESSAGE: what both sides agreed on, plus our REQUEST_TARGET (4.2.4.3).
    const flags = ((challenge.flags & CLIENT_NEGOTIATE_FLAGS) | NegotiateFlag.REQUEST_TARGET) >>> 0;
    const serverTime = summarizeAvPairs(challenge.targetInfo).timestamp;
    const useMic = serverTime !== undefined;
    const timestamp = serverTime ?? this.#now();
    const targetInfo = this.#clientTargetInfo(challenge, useMic);

    const clientChallenge = this.#take(8, 'client challenge');
    const response = computeNtlmV2Response({
      responseKeyNT: this.#responseKeyNT,
      serverChallenge: challenge.serverChallenge,
      clientChallenge,
      timestamp,
      targetInfo,
      // [MS-NLMP] 3.1.5.1.2: with MsvAvTimestamp the client sends Z(24) instead of LMv2.
      omitLmResponse: useMic,
    });
    const keyExchangeKey = keyExchangeKeyV2(response.sessionBaseKey);
    let exportedSessionKey: Buffer;
    let encryptedRandomSessionKey: Buffer;
    if (hasFlag(flags, NegotiateFlag.KEY_EXCH)) {
      exportedSessionKey = this.#take(16, 'session key');
      encryptedRandomSessionKey = encryptRandomSessionKey(keyExchangeKey, exportedSessionKey);
    } else {
      exportedSessionKey = Buffer.from(keyExchangeKey);
      encryptedRandomSessionKey = Buffer.alloc(0);
    }

    let message = encodeAuthenticate({
      flags,
      lmChallengeResponse: response.lmChallengeResponse,
      ntChallengeResponse: response.ntChallengeResponse,
      domain: this.domain,
      user: this.user,
      workstation: this.workstation,
      encryptedRandomSessionKey,
      version: this.#version,
      ...(useMic ? { mic: Buffer.alloc(16) } : {}),
    });
    if (useMic) {
      message = setMic(
        message,
        computeMic(exportedSessionKey, this.#negotiateMessage, challengeMessage, message),
      );
    }
    const session = new NtlmSession({
      role: 'client',
      flags,
      exportedSessionKey,
      user: this.user,
      domain: this.domain,
    });
    for (const secret of [exportedSessionKey, keyExchangeKey, response.sessionBaseKey]) secret.fill(0);
    this.#state = 'done';
    return { message, session };
  }

  /**
   * The AV pairs we put in our NTLMv2 blob. Unchanged from the server's when there is nothing to add
   * (which reproduces [MS-NLMP] 4.2.4); otherwise MsvAvFlags (MIC present), MsvAvChannelBindings
   * (zeros when we have none, as Windows sends) and MsvAvTargetName are added or replaced.
   */
  #clientTargetInfo(challenge: ChallengeMessage, useMic: boolean): Buffer {
    if (!useMic && this.#channelBindings === undefined && this.#targetSpn === undefined) {
      return challenge.targetInfoRaw.length > 0 ? challenge.targetInfoRaw : encodeAvPairs([]);
    }
    const replaced: number[] = [AvId.FLAGS, AvId.CHANNEL_BINDINGS, AvId.TARGET_NAME];
    const pairs: AvPair[] = challenge.targetInfo.filter((p) => !replaced.includes(p.id));
    const serverFlags = findAvPair(challenge.targetInfo, AvId.FLAGS);
    let avFlags = serverFlags && serverFlags.value.length === 4 ? serverFlags.value.readUInt32LE(0) : 0;
    if (useMic) avFlags |= AvFlag.MIC_PRESENT;
    if (avFlags !== 0) {
      const value = Buffer.alloc(4);
      value.writeUInt32LE(avFlags >>> 0, 0);
      pairs.push({ id: AvId.FLAGS, value });
    }
    if (useMic || this.#channelBindings !== undefined) {
      const value = this.#channelBindings ? channelBindingsHash(this.#channelBindings) : Buffer.alloc(16);
      pairs.push({ id: AvId.CHANNEL_BINDINGS, value });
    }
    if (this.#targetSpn !== undefined) pairs.push(textAvPair(AvId.TARGET_NAME, this.#targetSpn));
    return encodeAvPairs(pairs);
  }

  #take(size: number, what: string): Buffer {
    const bytes = this.#random(size);
    if (!Buffer.isBuffer(bytes) || bytes.length !== size) {
      throw new InvalidArgumentError(`random() must return ${size} bytes for the ${what}`, {
        argument: 'random',
      });
    }
    return Buffer.from(bytes);
  }

  toJSON(): Record<string, unknown> {
    return {
      user: this.user,
      domain: this.domain,
      workstation: this.workstation,
      state: this.#state,
      channelBindings: this.#channelBindings !== undefined,
      credentials: '<redacted>',
    };
  }

  toString(): string {
    return `NtlmClient(${this.domain ? `${this.domain}\\` : ''}${this.user})`;
  }

  [inspect.custom](_depth: number, options: Parameters<typeof inspect>[1]): string {
    return `NtlmClient ${inspect(this.toJSON(), options)}`;
  }
}

/** Refuses challenges that would downgrade below NTLMv2 with 128-bit extended session security. */
function checkChallengeFlags(flags: number): void {
  const missing: string[] = [];
  if (!hasFlag(flags, NegotiateFlag.UNICODE)) missing.push('UNICODE');
  if (!hasFlag(flags, NegotiateFlag.EXTENDED_SESSIONSECURITY)) missing.push('EXTENDED_SESSIONSECURITY');
  if (!hasFlag(flags, NegotiateFlag.NEGOTIATE_128)) missing.push('NEGOTIATE_128');
  if (missing.length > 0) {
    throw new AuthenticationError(
      `The server's NTLM challenge does not grant ${missing.join(', ')}; refusing a weaker NTLM variant`,
      { remedy: 'allow NTLMv2 with 128-bit session security on the server (LmCompatibilityLevel 3 or more)' },
    );
  }
}

/** Creates an NTLMv2 client context. */
export function createNtlmClient(options: NtlmClientOptions): NtlmClient {
  return new NtlmClient(options);
}
