/**
 * Kerberos on the mock's HTTP side: the `Kerberos` scheme (a raw krb5 GSS token, [MS-WSMV] 2.2.9.1's
 * `HTTP-Kerberos-session-encrypted`), and the Kerberos half of `Negotiate` (negotiate.ts calls
 * {@link KerberosMechanism.accept} for a raw krb5 token or an SPNEGO offer with Kerberos first). On success the
 * AP-REP goes back in `WWW-Authenticate` on the 200, and the context seals messages both ways.
 *
 * Failures answer 401 with the plain challenge list and no token: [MS-WSMV] documents no KRB_ERROR in
 * WWW-Authenticate, and a client cannot act on one (curl, MIT and pywinrm stop at the 401). The KRB_AP_ERR code
 * goes to the request log.
 */
import {
  ENCRYPTED_PROTOCOLS,
  type EncryptedProtocol,
  encryptedContentType,
  frameEncrypted,
  parseEncrypted,
} from '../../../auth/message-encryption.ts';
import { tlsServerEndPointApplicationData, tlsServerEndPointHash } from '../../../auth/ntlm/index.ts';
import type { AuthAttempt, AuthOutcome, AuthScheme, AuthUser, SecurityContext } from '../types.ts';
import { type AcceptedContext, channelBindingsHash, KerberosAcceptor, KrbApError } from './acceptor.ts';
import { type AcceptorContext, GssError } from './gss.ts';
import type { KeytabEntry } from './keytab.ts';

const PROFILE = 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile';

export interface KerberosMechanismOptions {
  /** The service keys, from the keytab (see {@link loadKeytab}). */
  keys: readonly KeytabEntry[];
  /** Configured users, for the principal mapping. */
  users: readonly AuthUser[];
  /** Allowed clock skew. Default: 300,000 ms. */
  maxClockSkewMs?: number;
  /** 'strict': over HTTPS the 0x8003 checksum must carry tls-server-end-point bindings. Default: 'none'. */
  channelBinding?: 'strict' | 'none';
  certificateDer?: Buffer;
  /** The mock's clock, for tests. Default: Date.now. */
  now?: () => number;
}

/** The message protection of a Kerberos-authenticated connection ([MS-WSMV] 2.2.9.1 with RFC 4121 Wrap tokens). */
export function kerberosSecurity(context: AcceptorContext, protocol: EncryptedProtocol): SecurityContext {
  return {
    protocol,
    unwrap(body: Buffer): Buffer {
      const parts = parseEncrypted(body);
      // The header is the token header plus its rotated part; the token is header ‖ data again.
      const plain = context.unwrap(Buffer.concat([parts.header, parts.data]));
      if (plain.length !== parts.length) {
        throw new GssError(`the plaintext has ${plain.length} bytes, OriginalContent says ${parts.length}`);
      }
      return plain;
    },
    wrap(body: Buffer) {
      const token = context.wrap(body);
      const split = token.length - body.length;
      return {
        body: frameEncrypted(
          { header: token.subarray(0, split), data: token.subarray(split) },
          body.length,
          protocol,
        ),
        contentType: encryptedContentType(protocol),
      };
    },
  };
}

export type KerberosResult =
  | { kind: 'success'; user: AuthUser; accepted: AcceptedContext }
  | { kind: 'failure'; reason: string };

export class KerberosMechanism {
  readonly acceptor: KerberosAcceptor;
  readonly #users: readonly AuthUser[];
  readonly #bindings: Buffer | undefined;

  constructor(options: KerberosMechanismOptions) {
    this.acceptor = new KerberosAcceptor({
      keys: options.keys,
      ...(options.maxClockSkewMs !== undefined ? { maxClockSkewMs: options.maxClockSkewMs } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    this.#users = options.users;
    this.#bindings =
      options.channelBinding === 'strict' && options.certificateDer
        ? channelBindingsHash(tlsServerEndPointApplicationData(tlsServerEndPointHash(options.certificateDer)))
        : undefined;
  }

  /** Accepts a raw krb5 initial context token and maps its client to a configured user. */
  accept(token: Buffer, attempt: AuthAttempt): KerberosResult {
    let accepted: AcceptedContext;
    try {
      accepted = this.acceptor.accept(token, attempt.https ? this.#bindings : undefined);
    } catch (err) {
      if (err instanceof KrbApError) return { kind: 'failure', reason: `Kerberos refused: ${err.message}` };
      throw err;
    }
    const user = this.#userOf(accepted.client, attempt);
    if (!user) {
      return {
        kind: 'failure',
        reason: `Kerberos principal ${accepted.client.name}@${accepted.client.realm} maps to no mock user`,
      };
    }
    return { kind: 'success', user, accepted };
  }

  /**
   * A user whose `kerberos` field names the principal (realm compared case-insensitively, as AD does), else the
   * user whose name is the principal's single component in a domain matching the realm (alice@CORP.EXAMPLE is
   * CORP\alice), as a domain controller maps a UPN.
   */
  #userOf(client: { name: string; realm: string }, attempt: AuthAttempt): AuthUser | undefined {
    const full = `${client.name}@${client.realm}`.toLowerCase();
    const explicit = this.#users.find((u) => u.kerberos?.toLowerCase() === full);
    if (explicit) return explicit;
    if (client.name.includes('/')) return undefined;
    const byName = attempt.findUser(client.name, client.realm);
    return byName && byName.kerberos === undefined ? byName : undefined;
  }
}

/** The `Kerberos` scheme (raw krb5 tokens, no SPNEGO). */
export function kerberosScheme(mechanism: KerberosMechanism): AuthScheme {
  return {
    name: 'Kerberos',
    providesEncryption: true,
    challenge: () => 'Kerberos',
    available: () => true,
    securityProfile: (https) => `${PROFILE}/${https ? 'https' : 'http'}/spnego-kerberos`,
    authenticate(attempt: AuthAttempt): AuthOutcome {
      const token = Buffer.from(attempt.token.trim(), 'base64');
      const result = mechanism.accept(token, attempt);
      if (result.kind === 'failure') return result;
      const { accepted } = result;
      return {
        kind: 'success',
        user: result.user,
        security: kerberosSecurity(accepted.context, ENCRYPTED_PROTOCOLS.kerberos),
        ...(accepted.responseToken
          ? { responseHeader: `Kerberos ${accepted.responseToken.toString('base64')}` }
          : {}),
      };
    },
  };
}
