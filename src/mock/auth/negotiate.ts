/**
 * Negotiate carrying NTLM, as WinRM answers it, in the form the client asked: raw NTLM (NEGOTIATE → 401
 * `WWW-Authenticate: Negotiate <CHALLENGE>` → AUTHENTICATE) or NTLM wrapped in SPNEGO (spnego.ts), on one TCP
 * connection; the connection is then authenticated and messages travel sealed in the [MS-WSMV] 2.2.9.1
 * multipart/encrypted framing. Kerberos (a raw krb5 AP-REQ, or an SPNEGO offer with Kerberos first and its
 * token) goes to the mock's Kerberos acceptor when a keytab is configured (kerberos/scheme.ts), else is refused.
 */
import {
  ENCRYPTED_PROTOCOLS,
  encryptedContentType,
  frameEncrypted,
  parseEncrypted,
} from '../../auth/message-encryption.ts';
import {
  createNtlmServer,
  MessageType,
  type NtlmServer,
  peekMessageType,
  tlsServerEndPointApplicationData,
  tlsServerEndPointHash,
} from '../../auth/ntlm/index.ts';
import type { NtlmSession } from '../../auth/ntlm/session.ts';
import {
  decodeNegTokenInit,
  detectTokenKind,
  encodeNegTokenResp,
  NegState,
  OID,
  SpnegoError,
} from '../../auth/spnego.ts';
import { ProtocolError } from '../../errors.ts';
import { type KerberosMechanism, kerberosSecurity } from './kerberos/scheme.ts';
import { acceptInit, acceptResp, type NtlmSteps, type SpnegoPending } from './spnego.ts';
import type { AuthAttempt, AuthOutcome, AuthScheme, AuthUser, SecurityContext } from './types.ts';

const PROFILE = 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile';
const PENDING = 'Negotiate';

export interface NegotiateSchemeOptions {
  /** NetBIOS name the CHALLENGE names as target (the machine for local accounts). */
  machineName: string;
  /**
   * Extended Protection (CbtHardeningLevel): 'strict' requires matching tls-server-end-point channel bindings
   * over HTTPS; 'none' ignores them. Windows' default, 'Relaxed' (check only when sent), is treated as 'none'.
   * Default: 'none'.
   */
  channelBinding?: 'strict' | 'none';
  /** DER of the HTTPS certificate, for channel bindings. */
  certificateDer?: Buffer;
  /** The Kerberos acceptor, when a keytab is configured. Default: none (Kerberos tokens are refused). */
  kerberos?: KerberosMechanism;
}

/** The security context of one authenticated connection. */
function ntlmSecurity(session: NtlmSession): SecurityContext {
  return {
    protocol: ENCRYPTED_PROTOCOLS.spnego,
    unwrap(body: Buffer): Buffer {
      const parts = parseEncrypted(body);
      return session.unseal(parts.data, parts.header);
    },
    wrap(body: Buffer) {
      const { signature, sealed } = session.seal(body);
      return {
        body: frameEncrypted({ header: signature, data: sealed }, body.length),
        contentType: encryptedContentType(),
      };
    },
  };
}

/** Map the names NTLM carries onto configured users: `DOMAIN\user`, `user@dns.domain` (domain ''), `.\user`. */
function resolveUser(attempt: AuthAttempt, user: string, domain: string): AuthUser | undefined {
  const at = user.indexOf('@');
  if (domain === '' && at > 0) {
    // A UPN travels whole in the user field with an empty domain ([MS-NLMP] 3.1.5.1.2, Windows' own client).
    return attempt.findUser(user.slice(0, at), user.slice(at + 1));
  }
  return attempt.findUser(user, domain === '' || domain === '.' ? undefined : domain);
}

type Pending = { form: 'ntlm'; server: NtlmServer } | SpnegoPending;

export function negotiateScheme(options: NegotiateSchemeOptions): AuthScheme {
  const bindings =
    options.channelBinding === 'strict' && options.certificateDer
      ? tlsServerEndPointApplicationData(tlsServerEndPointHash(options.certificateDer))
      : undefined;
  /** The configured user each acceptor's lookupPassword matched. */
  const users = new WeakMap<NtlmServer, () => AuthUser | undefined>();

  function steps(attempt: AuthAttempt): NtlmSteps {
    return {
      challenge(negotiate: Buffer) {
        let found: AuthUser | undefined;
        const server = createNtlmServer({
          targetName: options.machineName.toUpperCase(),
          channelBindings: attempt.https ? bindings : undefined,
          lookupPassword: (user, domain) => {
            found = resolveUser(attempt, user, domain);
            return found?.password;
          },
        });
        users.set(server, () => found);
        return { server, challenge: server.challenge(negotiate) };
      },
      verify(server: NtlmServer, authenticate: Buffer) {
        const result = server.verify(authenticate);
        return { session: result.session, micPresent: result.micVerified };
      },
    };
  }

  function success(server: NtlmServer, session: NtlmSession, responseHeader?: string): AuthOutcome {
    const user = users.get(server)?.();
    if (!user) {
      session.destroy();
      return { kind: 'failure', reason: `unknown user "${session.user}"` };
    }
    return {
      kind: 'success',
      user,
      security: ntlmSecurity(session),
      ...(responseHeader ? { responseHeader } : {}),
    };
  }

  function raw(attempt: AuthAttempt, token: Buffer, pending: Pending | undefined): AuthOutcome {
    const type = peekMessageType(token);
    const ntlm = steps(attempt);
    if (type === MessageType.negotiate) {
      try {
        const { server, challenge } = ntlm.challenge(token);
        attempt.connection.pending.set(PENDING, { form: 'ntlm', server } satisfies Pending);
        return { kind: 'continue', responseHeader: `Negotiate ${challenge.toString('base64')}` };
      } catch (err) {
        return { kind: 'failure', reason: `bad NEGOTIATE: ${(err as Error).message}` };
      }
    }
    if (type === MessageType.authenticate) {
      if (pending?.form !== 'ntlm' || !pending.server) {
        return {
          kind: 'failure',
          reason:
            pending?.form === 'spnego'
              ? 'raw NTLM AUTHENTICATE in an SPNEGO handshake'
              : 'AUTHENTICATE without a challenge on this connection',
        };
      }
      try {
        return success(pending.server, ntlm.verify(pending.server, token).session);
      } catch (err) {
        return { kind: 'failure', reason: `NTLM refused: ${(err as Error).message}` };
      }
    }
    return { kind: 'failure', reason: `unexpected NTLM message type ${type}` };
  }

  /** Windows' Negotiate takes a raw krb5 token too and answers with the raw AP-REP. */
  function kerberosRaw(attempt: AuthAttempt, token: Buffer, kerberos: KerberosMechanism): AuthOutcome {
    const result = kerberos.accept(token, attempt);
    if (result.kind === 'failure') return result;
    const { accepted } = result;
    return {
      kind: 'success',
      user: result.user,
      security: kerberosSecurity(accepted.context, ENCRYPTED_PROTOCOLS.spnego),
      ...(accepted.responseToken
        ? { responseHeader: `Negotiate ${accepted.responseToken.toString('base64')}` }
        : {}),
    };
  }

  /**
   * SPNEGO with Kerberos as the initiator's first choice and its optimistic AP-REQ: one leg. The answer is
   * accept-completed, supportedMech the OID the initiator listed (Windows echoes the MS OID to Windows clients),
   * responseToken the AP-REP. No mechListMIC: the preferred mechanism was chosen and its token accepted, so
   * RFC 4178 5 makes the MIC exchange optional, and MIT's initiator completes without one.
   */
  function kerberosSpnego(
    attempt: AuthAttempt,
    mechToken: Buffer,
    oid: string,
    kerberos: KerberosMechanism,
  ): AuthOutcome {
    const result = kerberos.accept(mechToken, attempt);
    if (result.kind === 'failure') return result;
    const { accepted } = result;
    const answer = encodeNegTokenResp({
      negState: NegState.acceptCompleted,
      supportedMech: oid,
      ...(accepted.responseToken ? { responseToken: accepted.responseToken } : {}),
    });
    return {
      kind: 'success',
      user: result.user,
      security: kerberosSecurity(accepted.context, ENCRYPTED_PROTOCOLS.spnego),
      responseHeader: `Negotiate ${answer.toString('base64')}`,
    };
  }

  return {
    name: 'Negotiate',
    providesEncryption: true,
    challenge: () => 'Negotiate',
    available: () => true,
    securityProfile: (https) => `${PROFILE}/${https ? 'https' : 'http'}/spnego-kerberos`,
    authenticate(attempt: AuthAttempt): AuthOutcome {
      const token = Buffer.from(attempt.token.trim(), 'base64');
      const pending = attempt.connection.pending.get(PENDING) as Pending | undefined;
      // Every leg consumes the state; a leg that continues stores the next one.
      attempt.connection.pending.delete(PENDING);
      const kind = detectTokenKind(token);
      try {
        if (kind === 'ntlm') return raw(attempt, token, pending);
        if (kind === 'kerberos' && options.kerberos) return kerberosRaw(attempt, token, options.kerberos);
        if (kind === 'spnego-init' && options.kerberos) {
          const init = decodeNegTokenInit(token);
          const first = init.mechTypes[0];
          if ((first === OID.kerberos || first === OID.kerberosMs) && init.mechToken) {
            return kerberosSpnego(attempt, init.mechToken, first, options.kerberos);
          }
        }
        if (kind === 'spnego-init' || kind === 'spnego-resp') {
          const ntlm = steps(attempt);
          const step =
            kind === 'spnego-init'
              ? acceptInit(token, ntlm)
              : acceptResp(token, pending?.form === 'spnego' ? pending : undefined, ntlm);
          if (step.kind === 'failure') return step;
          const header = `Negotiate ${step.token.toString('base64')}`;
          if (step.kind === 'continue') {
            attempt.connection.pending.set(PENDING, step.pending);
            return { kind: 'continue', responseHeader: header };
          }
          const server = pending?.form === 'spnego' ? pending.server : undefined;
          if (!server) return { kind: 'failure', reason: 'SPNEGO completed without an NTLM acceptor' };
          return success(server, step.session, header);
        }
      } catch (err) {
        if (err instanceof SpnegoError || err instanceof ProtocolError) {
          return { kind: 'failure', reason: (err as Error).message };
        }
        throw err;
      }
      return {
        kind: 'failure',
        reason: `not an NTLM or SPNEGO token (${kind}${options.kerberos ? '' : '; no Kerberos keytab configured'})`,
      };
    },
  };
}
