/**
 * Negotiate carrying NTLM, as WinRM answers it: NEGOTIATE → 401 `WWW-Authenticate: Negotiate <CHALLENGE>` →
 * AUTHENTICATE, on one TCP connection; the connection is then authenticated and messages travel sealed in the
 * [MS-WSMV] 2.2.9.1 multipart/encrypted framing. Kerberos tokens (SPNEGO / AP-REQ) are refused: the mock has no
 * KDC (see docs/mock.md).
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
    const name = user.slice(0, at);
    const dns = user.slice(at + 1).toLowerCase();
    const u = attempt.findUser(name);
    return u && (dns === u.domain.toLowerCase() || dns.split('.')[0] === u.domain.toLowerCase())
      ? u
      : undefined;
  }
  return attempt.findUser(user, domain === '' || domain === '.' ? undefined : domain);
}

export function negotiateScheme(options: NegotiateSchemeOptions): AuthScheme {
  const bindings =
    options.channelBinding === 'strict' && options.certificateDer
      ? tlsServerEndPointApplicationData(tlsServerEndPointHash(options.certificateDer))
      : undefined;
  return {
    name: 'Negotiate',
    providesEncryption: true,
    challenge: () => 'Negotiate',
    available: () => true,
    securityProfile: (https) => `${PROFILE}/${https ? 'https' : 'http'}/spnego-kerberos`,
    authenticate(attempt: AuthAttempt): AuthOutcome {
      const token = Buffer.from(attempt.token.trim(), 'base64');
      let type: number;
      try {
        type = peekMessageType(token);
      } catch {
        return { kind: 'failure', reason: 'not an NTLM token (Kerberos is not emulated)' };
      }
      if (type === MessageType.negotiate) {
        let found: AuthUser | undefined;
        const server = createNtlmServer({
          targetName: options.machineName.toUpperCase(),
          channelBindings: attempt.https ? bindings : undefined,
          lookupPassword: (user, domain) => {
            found = resolveUser(attempt, user, domain);
            return found?.password;
          },
        });
        try {
          const challenge = server.challenge(token);
          attempt.connection.pending.set(PENDING, { server, user: () => found });
          return { kind: 'continue', responseHeader: `Negotiate ${challenge.toString('base64')}` };
        } catch (err) {
          return { kind: 'failure', reason: `bad NEGOTIATE: ${(err as Error).message}` };
        }
      }
      if (type === MessageType.authenticate) {
        const pending = attempt.connection.pending.get(PENDING) as
          | { server: NtlmServer; user: () => AuthUser | undefined }
          | undefined;
        attempt.connection.pending.delete(PENDING);
        if (!pending)
          return { kind: 'failure', reason: 'AUTHENTICATE without a challenge on this connection' };
        try {
          const result = pending.server.verify(token);
          const user = pending.user();
          if (!user) return { kind: 'failure', reason: `unknown user "${result.user}"` };
          return { kind: 'success', user, security: ntlmSecurity(result.session) };
        } catch (err) {
          return { kind: 'failure', reason: `NTLM refused: ${(err as Error).message}` };
        }
      }
      return { kind: 'failure', reason: `unexpected NTLM message type ${type}` };
    },
  };
}
