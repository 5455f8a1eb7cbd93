/**
 * NTLMv2 acceptor (server side of [MS-NLMP] 3.2) for the mock WinRM endpoint: issues a CHALLENGE_MESSAGE,
 * verifies the AUTHENTICATE_MESSAGE against a password looked up by user and domain (NTProofStr, MIC,
 * optional channel bindings), and derives the server-direction session so it can unseal client messages
 * and seal responses. No I/O, no domain controller: the password table is the caller's.
 *
 * One instance handles one handshake at a time (create one per connection). A challenge can be answered
 * once: verify() consumes it whether or not it succeeds.
 */

import { inspect } from 'node:util';
import { AuthenticationError, InvalidArgumentError } from '../../errors.ts';
import {
  channelBindingsHash,
  computeMic,
  computeNtProofStr,
  computeSessionBaseKey,
  constantTimeEqual,
  decryptRandomSessionKey,
  defaultRandom,
  filetimeNow,
  keyExchangeKeyV2,
  ntowfv2,
} from './crypto.ts';
import {
  AvFlag,
  AvId,
  type AvPair,
  decodeAuthenticate,
  decodeNegotiate,
  decodeNtlmV2Response,
  encodeChallenge,
  hasFlag,
  MIC_OFFSET,
  NegotiateFlag,
  type NtlmVersion,
  setMic,
  summarizeAvPairs,
  textAvPair,
} from './messages.ts';
import { NtlmSession } from './session.ts';

/** Flags the server grants when the client asks for them. */
const SERVER_SUPPORTED_FLAGS =
  (NegotiateFlag.UNICODE |
    NegotiateFlag.REQUEST_TARGET |
    NegotiateFlag.SIGN |
    NegotiateFlag.SEAL |
    NegotiateFlag.NTLM |
    NegotiateFlag.ALWAYS_SIGN |
    NegotiateFlag.EXTENDED_SESSIONSECURITY |
    NegotiateFlag.VERSION |
    NegotiateFlag.NEGOTIATE_128 |
    NegotiateFlag.KEY_EXCH |
    NegotiateFlag.NEGOTIATE_56) >>>
  0;

/** VERSION the mock server sends: Windows Server 2022. */
export const DEFAULT_SERVER_VERSION: NtlmVersion = { major: 10, minor: 0, build: 20348, revision: 15 };

export interface NtlmServerOptions {
  /**
   * Password of `user` in `domain`, exactly as the client sent them (domain is '' for UPN logons), or
   * undefined when there is no such account. Matching is the caller's choice (e.g. case-insensitive).
   */
  lookupPassword(user: string, domain: string): string | undefined;
  /** TargetName of the CHALLENGE_MESSAGE: the server's NetBIOS name (or its domain's). */
  targetName: string;
  /** MsvAvNbDomainName; defaults to targetName. */
  netbiosDomainName?: string;
  /** MsvAvNbComputerName; defaults to targetName. */
  netbiosComputerName?: string;
  dnsDomainName?: string;
  dnsComputerName?: string;
  /** Random source for the 8-byte server challenge. */
  random?: (size: number) => Buffer;
  /** Current FILETIME for MsvAvTimestamp. */
  now?: () => bigint;
  /** Send MsvAvTimestamp (which makes clients send a MIC). Default true, as every Windows server does. */
  includeTimestamp?: boolean;
  /** Refuse AUTHENTICATE messages without a MIC. Default false. */
  requireMic?: boolean;
  /**
   * Expected channel-binding application data (e.g. `tls-server-end-point:` + certificate hash). When set,
   * the client must send a matching MsvAvChannelBindings (Extended Protection "Strict").
   */
  channelBindings?: Buffer;
  version?: NtlmVersion;
}

export interface NtlmServerResult {
  /** User and domain as the client sent them. */
  user: string;
  domain: string;
  workstation: string;
  /** Whether a MIC was present and verified. */
  micVerified: boolean;
  /** Server-direction security context: unseal client messages, seal responses. */
  session: NtlmSession;
}

interface Pending {
  negotiate: Buffer;
  challenge: Buffer;
  serverChallenge: Buffer;
  flags: number;
}

/** Mock NTLMv2 acceptor. */
export class NtlmServer {
  readonly targetName: string;
  readonly #options: NtlmServerOptions;
  readonly #random: (size: number) => Buffer;
  readonly #now: () => bigint;
  #pending: Pending | undefined;

  constructor(options: NtlmServerOptions) {
    if (options === null || typeof options !== 'object' || typeof options.lookupPassword !== 'function') {
      throw new InvalidArgumentError('NTLM server options need a lookupPassword(user, domain) function', {
        argument: 'lookupPassword',
      });
    }
    if (typeof options.targetName !== 'string' || options.targetName.length === 0) {
      throw new InvalidArgumentError('NTLM server targetName must be a non-empty string', {
        argument: 'targetName',
      });
    }
    this.#options = options;
    this.targetName = options.targetName;
    this.#random = options.random ?? defaultRandom;
    this.#now = options.now ?? filetimeNow;
  }

  /** Answers a NEGOTIATE_MESSAGE with a CHALLENGE_MESSAGE and remembers both for verify(). */
  challenge(negotiateMessage: Buffer): Buffer {
    const negotiate = decodeNegotiate(negotiateMessage);
    const requested = negotiate.flags;
    const missing: string[] = [];
    // [MS-NLMP] 3.2.5.1.1: UNICODE when asked for, else OEM. Windows accepts OEM-only clients (python's
    // ntlm-auth, which pywinrm uses, sends OEM), so the mock must too.
    const unicode = hasFlag(requested, NegotiateFlag.UNICODE);
    if (!unicode && !hasFlag(requested, NegotiateFlag.OEM)) missing.push('UNICODE or OEM');
    if (!hasFlag(requested, NegotiateFlag.EXTENDED_SESSIONSECURITY)) missing.push('EXTENDED_SESSIONSECURITY');
    if (!hasFlag(requested, NegotiateFlag.NEGOTIATE_128)) missing.push('NEGOTIATE_128');
    if (missing.length > 0) {
      throw new AuthenticationError(
        `NTLM client did not request ${missing.join(', ')}; only NTLMv2 with 128-bit session security is accepted`,
      );
    }
    const charset = unicode ? NegotiateFlag.UNICODE : NegotiateFlag.OEM;
    const flags =
      ((requested & SERVER_SUPPORTED_FLAGS & ~(NegotiateFlag.UNICODE | NegotiateFlag.OEM)) |
        charset |
        NegotiateFlag.TARGET_INFO |
        NegotiateFlag.TARGET_TYPE_SERVER |
        NegotiateFlag.NTLM) >>>
      0;
    const serverChallenge = this.#random(8);
    if (!Buffer.isBuffer(serverChallenge) || serverChallenge.length !== 8) {
      throw new InvalidArgumentError('random() must return 8 bytes for the server challenge', {
        argument: 'random',
      });
    }
    const o = this.#options;
    const pairs: AvPair[] = [
      textAvPair(AvId.NB_DOMAIN_NAME, o.netbiosDomainName ?? o.targetName),
      textAvPair(AvId.NB_COMPUTER_NAME, o.netbiosComputerName ?? o.targetName),
    ];
    if (o.dnsDomainName) pairs.push(textAvPair(AvId.DNS_DOMAIN_NAME, o.dnsDomainName));
    if (o.dnsComputerName) pairs.push(textAvPair(AvId.DNS_COMPUTER_NAME, o.dnsComputerName));
    if (o.includeTimestamp ?? true) {
      const value = Buffer.alloc(8);
      value.writeBigUInt64LE(this.#now(), 0);
      pairs.push({ id: AvId.TIMESTAMP, value });
    }
    const challenge = encodeChallenge({
      flags,
      serverChallenge,
      targetName: o.targetName,
      targetInfo: pairs,
      ...(hasFlag(flags, NegotiateFlag.VERSION) ? { version: o.version ?? DEFAULT_SERVER_VERSION } : {}),
    });
    this.#pending = {
      negotiate: Buffer.from(negotiateMessage),
      challenge,
      serverChallenge: Buffer.from(serverChallenge),
      flags,
    };
    return Buffer.from(challenge);
  }

  /**
   * Verifies an AUTHENTICATE_MESSAGE. Throws AuthenticationError for an unknown user, a wrong password,
   * a bad MIC, missing or wrong channel bindings, anonymous or NTLMv1 logons and flag downgrades;
   * ProtocolError for malformed messages.
   */
  verify(authenticateMessage: Buffer): NtlmServerResult {
    const pending = this.#pending;
    this.#pending = undefined;
    if (!pending) {
      throw new InvalidArgumentError(
        'No NTLM challenge is pending: call challenge() first (a challenge is single-use)',
      );
    }
    const auth = decodeAuthenticate(authenticateMessage);
    const who = `${auth.domain ? `${auth.domain}\\` : ''}${auth.user}`;
    if (
      hasFlag(auth.flags, NegotiateFlag.ANONYMOUS) ||
      (auth.user === '' && auth.ntChallengeResponse.length === 0)
    ) {
      throw new AuthenticationError('Anonymous NTLM logons are not accepted');
    }
    if (auth.ntChallengeResponse.length <= 24) {
      throw new AuthenticationError(`NTLM logon of ${who} used an NTLMv1 response; only NTLMv2 is accepted`, {
        remedy: 'set LmCompatibilityLevel to 3 or more on the client',
      });
    }
    const response = decodeNtlmV2Response(auth.ntChallengeResponse);
    const refused = (): AuthenticationError =>
      new AuthenticationError(`NTLM authentication failed for ${who}: unknown user or wrong password`);

    const password = this.#options.lookupPassword(auth.user, auth.domain);
    if (typeof password !== 'string') throw refused();
    const responseKeyNT = ntowfv2(password, auth.user, auth.domain);
    try {
      const proof = computeNtProofStr(responseKeyNT, pending.serverChallenge, response.clientBlob);
      if (!constantTimeEqual(proof, response.ntProofStr)) throw refused();

      const flags = (auth.flags & pending.flags) >>> 0;
      for (const [flag, name] of [
        [NegotiateFlag.EXTENDED_SESSIONSECURITY, 'EXTENDED_SESSIONSECURITY'],
        [NegotiateFlag.NEGOTIATE_128, 'NEGOTIATE_128'],
      ] as const) {
        if (!hasFlag(flags, flag)) {
          throw new AuthenticationError(
            `NTLM AUTHENTICATE_MESSAGE of ${who} dropped ${name}; refusing a downgrade`,
          );
        }
      }

      const blobInfo = summarizeAvPairs(response.avPairs);
      this.#checkChannelBindings(blobInfo.channelBindings, who);

      const sessionBaseKey = computeSessionBaseKey(responseKeyNT, response.ntProofStr);
      const keyExchangeKey = keyExchangeKeyV2(sessionBaseKey);
      let exportedSessionKey: Buffer;
      if (hasFlag(flags, NegotiateFlag.KEY_EXCH)) {
        if (auth.encryptedRandomSessionKey.length !== 16) {
          throw new AuthenticationError(
            `NTLM AUTHENTICATE_MESSAGE of ${who} has no 16-byte EncryptedRandomSessionKey`,
          );
        }
        exportedSessionKey = decryptRandomSessionKey(keyExchangeKey, auth.encryptedRandomSessionKey);
      } else {
        exportedSessionKey = Buffer.from(keyExchangeKey);
      }

      const micPresent = ((blobInfo.flags ?? 0) & AvFlag.MIC_PRESENT) !== 0;
      if (micPresent) {
        if (!auth.mic)
          throw new AuthenticationError(`NTLM logon of ${who} announces a MIC but has no room for one`);
        const zeroed = setMic(authenticateMessage, Buffer.alloc(16));
        const expected = computeMic(exportedSessionKey, pending.negotiate, pending.challenge, zeroed);
        if (!constantTimeEqual(expected, authenticateMessage.subarray(MIC_OFFSET, MIC_OFFSET + 16))) {
          throw new AuthenticationError(
            `NTLM message integrity check (MIC) failed for ${who}: the handshake messages were altered`,
          );
        }
      } else if (this.#options.requireMic) {
        throw new AuthenticationError(`NTLM logon of ${who} has no MIC and this server requires one`);
      }

      const session = new NtlmSession({
        role: 'server',
        flags,
        exportedSessionKey,
        user: auth.user,
        domain: auth.domain,
      });
      for (const secret of [exportedSessionKey, keyExchangeKey, sessionBaseKey]) secret.fill(0);
      return {
        user: auth.user,
        domain: auth.domain,
        workstation: auth.workstation,
        micVerified: micPresent,
        session,
      };
    } finally {
      responseKeyNT.fill(0);
    }
  }

  #checkChannelBindings(received: Buffer | undefined, who: string): void {
    const expected = this.#options.channelBindings;
    if (expected === undefined) return;
    if (!received || received.equals(Buffer.alloc(16))) {
      throw new AuthenticationError(
        `NTLM logon of ${who} carries no channel bindings and this server requires them`,
        {
          remedy: 'send tls-server-end-point channel bindings (Extended Protection for Authentication)',
        },
      );
    }
    if (!constantTimeEqual(channelBindingsHash(expected), received)) {
      throw new AuthenticationError(
        `NTLM channel bindings of ${who} do not match this TLS connection (possible man in the middle)`,
      );
    }
  }

  toJSON(): Record<string, unknown> {
    return { targetName: this.targetName, pendingChallenge: this.#pending !== undefined };
  }

  toString(): string {
    return `NtlmServer(${this.targetName})`;
  }

  [inspect.custom](_depth: number, options: Parameters<typeof inspect>[1]): string {
    return `NtlmServer ${inspect(this.toJSON(), options)}`;
  }
}

/** Creates a mock NTLMv2 acceptor. */
export function createNtlmServer(options: NtlmServerOptions): NtlmServer {
  return new NtlmServer(options);
}
