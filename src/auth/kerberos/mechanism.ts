/**
 * Kerberos as an AuthMechanism through the optional `kerberos` addon (GSSAPI): HTTP schemes 'Negotiate' (SPNEGO
 * with the Kerberos mechanism) and 'Kerberos' (raw RFC 4121 tokens). Mutual authentication is always asked for
 * and the server's AP-REP is stepped: a missing or bad one is an error.
 *
 * Legs: with message encryption the first token goes with an empty body (as pywinrm does), the server answers
 * with its mutual-authentication token, and only then are bodies sealed (sealing needs the complete context,
 * and the acceptor's subkey from the AP-REP). Without encryption (HTTPS) the token goes with the first message
 * and the server's token on the answer is checked before the answer is read.
 *
 * Sealing is not the addon's (its Unix wrap seals a 4-byte SASL reply): the keys come from the AP-REQ, the
 * AP-REP and the FILE ticket cache (./session-keys.ts), the RFC 4121 tokens from ./wrap.ts.
 */
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { type Account, forKerberos } from '../../account.ts';
import { AuthenticationError, ProtocolError } from '../../errors.ts';
import type { KerberosConfig } from '../../options/auth.ts';
import { describeAccount } from '../basic.ts';
import type { AsyncSecurityContext, AuthContext, AuthMechanism, StepResult } from '../mechanism.ts';
import { type KerberosAddon, type KerberosClientLike, loadKerberos } from './addon.ts';
import { DEFAULT_KDC_TIMEOUT_MS } from './as-exchange.ts';
import { ccacheName } from './ccache.ts';
import { type CredentialSource, passwordCredentials, ticketCacheCredentials } from './credentials.ts';
import { kerberosError, kerberosFailureKind } from './errors.ts';
import { recoverSessionKeys } from './session-keys.ts';
import { InitiatorWrap } from './wrap.ts';

export interface KerberosMechanismOptions {
  account: Account;
  /** Undefined: the ticket cache (single sign-on). */
  password: string | undefined;
  encrypt: boolean;
  host: string;
  port: number;
  kerberos: KerberosConfig;
  /**
   * Bound on reaching and hearing from each KDC in the password path's AS exchange, ms (the connection's
   * connectTimeout). Default 15000.
   */
  connectTimeoutMs?: number;
}

/** The SPN for a host: `<class>/<host>[:<port>]`, or the explicit one. Host canonicalised when asked. */
export async function servicePrincipal(
  o: Pick<KerberosMechanismOptions, 'host' | 'port' | 'kerberos'>,
  resolver: { resolveCname(h: string): Promise<string[]>; reverse(ip: string): Promise<string[]> } = dns,
): Promise<string> {
  const k = o.kerberos;
  if (k.spn) return k.spn;
  let host = o.host.replace(/^\[|\]$/g, '');
  if (k.canonicalizeHostname) host = await canonicalHost(host, resolver);
  return `${k.serviceClass}/${host}${k.addPortToSpn ? `:${o.port}` : ''}`;
}

async function canonicalHost(
  host: string,
  resolver: { resolveCname(h: string): Promise<string[]>; reverse(ip: string): Promise<string[]> },
): Promise<string> {
  if (isIP(host)) {
    const names = await resolver.reverse(host).catch(() => []);
    return (names[0] ?? host).toLowerCase();
  }
  let name = host;
  for (let hop = 0; hop < 8; hop++) {
    const next = await resolver.resolveCname(name).catch(() => []);
    if (!next[0]) break;
    name = next[0];
  }
  return name.replace(/\.$/, '').toLowerCase();
}

/** `WSMAN/host:5985` as GSSAPI's host-based service name `WSMAN@host:5985`. */
export function hostBasedName(spn: string): string {
  const slash = spn.indexOf('/');
  return `${spn.slice(0, slash)}@${spn.slice(slash + 1)}`;
}

export class KerberosMechanism implements AuthMechanism {
  readonly schemes: readonly string[];
  readonly connectionBound = true;
  readonly encrypts: boolean;
  readonly #o: KerberosMechanismOptions;
  readonly #principal: string;
  #credentials: CredentialSource | undefined;

  constructor(o: KerberosMechanismOptions) {
    this.#o = o;
    this.#principal = forKerberos(o.account);
    this.encrypts = o.encrypt;
    this.schemes = [o.kerberos.scheme];
  }

  /** The private cache of a password TGT (`FILE:...`), once obtained; undefined with the user's ticket cache. */
  get passwordTicketCache(): string | undefined {
    return this.#credentials?.cache;
  }

  /**
   * Remove the password path's private ticket cache now (it is removed at process exit anyway); a later
   * handshake obtains a new TGT. Nothing for the user's ticket cache.
   */
  close(): void {
    this.#credentials?.close?.();
    this.#credentials = undefined;
  }

  /** The client principal, e.g. alice@CORP.EXAMPLE.COM. */
  get principal(): string {
    return this.#principal;
  }

  begin(): AuthContext {
    let client: KerberosClientLike | undefined;
    let spn = '';
    // For message encryption (./session-keys.ts): the cache the addon used, our first token, the server's last.
    let ccache = '';
    let clientToken: Buffer | undefined;
    let serverToken: Buffer | undefined;
    let clientFinal: Buffer | undefined;
    let security: AsyncSecurityContext | undefined;
    let sealer: InitiatorWrap | undefined;
    const makeSealer = (): InitiatorWrap => {
      if (!clientToken || !serverToken) {
        throw new ProtocolError(
          'Kerberos message encryption needs the mutual-authentication token, and the server sent none',
        );
      }
      sealer ??= new InitiatorWrap(recoverSessionKeys(clientToken, serverToken, ccache, clientFinal));
      return sealer;
    };
    let phase: 'acquire' | 'token' = 'acquire';
    const failure = (err: unknown) =>
      kerberosError(err, { principal: this.#principal, spn, realm: this.#principal.split('@')[1], phase });
    const mutualFailure = (why: string, cause?: unknown) =>
      new AuthenticationError(`Mutual authentication with ${spn} failed: ${why}`, {
        remedy:
          'the server could not prove it holds the key of that service principal; check that the SPN belongs to ' +
          'this server (setspn -Q), and for a proxy or load balancer in between',
        cause,
      });
    const encrypts = this.encrypts;
    const o = this.#o;
    return {
      init: async (): Promise<StepResult> => {
        const addon = await loadKerberos();
        spn = await servicePrincipal(o);
        this.#credentials ??=
          o.password === undefined
            ? ticketCacheCredentials()
            : passwordCredentials(o.password, {
                forwardable: o.kerberos.delegate,
                timeoutMs: o.connectTimeoutMs ?? DEFAULT_KDC_TIMEOUT_MS,
              });
        const credentials = this.#credentials;
        const first = async (): Promise<StepResult> => {
          phase = 'acquire';
          try {
            client = await credentials.use(this.#principal, () => {
              ccache = ccacheName(process.env); // inside the lock: the password path's private cache is in effect
              return addon.initializeClient(hostBasedName(spn), {
                principal: this.#principal,
                // The native code reads `flags` (7.0.0's index.d.ts documents `gssFlag`, which it ignores).
                flags: flags(addon, o.kerberos.delegate),
                mechOID:
                  o.kerberos.scheme === 'Kerberos' ? addon.GSS_MECH_OID_KRB5 : addon.GSS_MECH_OID_SPNEGO,
              });
            });
            const token = await client.step(''); // MIT looks the ticket up here, not at gss_acquire_cred
            phase = 'token';
            clientToken = Buffer.from(token, 'base64');
            return { token: clientToken, done: !encrypts };
          } catch (err) {
            throw failure(err);
          }
        };
        try {
          return await first();
        } catch (err) {
          // A password TGT that expired (a long-lived connection): a new AS exchange, once.
          if (kerberosFailureKind(err) !== 'expired' || !credentials.renew()) throw err;
          return first();
        }
      },
      step: async (token: Buffer): Promise<StepResult> => {
        if (!client) throw new ProtocolError('Kerberos step before init');
        let out: string;
        try {
          out = await client.step(token.toString('base64'));
        } catch (err) {
          throw mutualFailure('the server token did not verify', failure(err));
        }
        serverToken = token;
        const next = out ? Buffer.from(out, 'base64') : undefined;
        if (client.contextComplete) {
          clientFinal = next;
          // Read the keys now, while the cache certainly holds this ticket (not at the first wrap).
          if (encrypts) makeSealer();
        }
        return { token: next, done: client.contextComplete };
      },
      complete: async (token: Buffer | undefined): Promise<void> => {
        if (!client || client.contextComplete) return;
        if (!token) throw mutualFailure('the server sent no token (WWW-Authenticate) with its answer');
        try {
          await client.step(token.toString('base64'));
        } catch (err) {
          throw mutualFailure('the server token did not verify', failure(err));
        }
        serverToken = token;
        if (!client.contextComplete) throw mutualFailure('the server asked for another round trip');
        if (encrypts) makeSealer();
      },
      securityContext: () => {
        if (!client?.contextComplete) return undefined;
        security ??= lazySecurityContext(encrypts, makeSealer);
        return security;
      },
    };
  }

  describeAccount(): string {
    return `${describeAccount(this.#o.account)} (Kerberos ${this.#principal}${this.#o.password === undefined ? ', ticket cache' : ''})`;
  }

  refusedRemedy(offered: readonly string[]): string {
    const scheme = this.#o.kerberos.scheme;
    if (!offered.some((s) => s.toLowerCase() === scheme.toLowerCase())) {
      return `the service does not offer ${scheme}; enable it: winrm set winrm/config/service/Auth @{Kerberos="true"}`;
    }
    return (
      'the server refused the Kerberos ticket: check that the account may log on to the server (local ' +
      "Administrators or Remote Management Users) and that the SPN is the server's (kerberosUseHttpSpn, kerberosSpn)"
    );
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `KerberosMechanism { principal: ${JSON.stringify(this.#principal)}, encrypt: ${this.encrypts} }`;
  }

  toJSON(): object {
    return { schemes: this.schemes, encrypts: this.encrypts, principal: this.#principal };
  }
}

function flags(addon: KerberosAddon, delegate: boolean): number {
  return (
    addon.GSS_C_MUTUAL_FLAG |
    addon.GSS_C_SEQUENCE_FLAG |
    addon.GSS_C_REPLAY_FLAG |
    addon.GSS_C_CONF_FLAG |
    addon.GSS_C_INTEG_FLAG |
    (delegate ? addon.GSS_C_DELEG_FLAG : 0)
  );
}

/**
 * The per-message protection, built at the first wrap or unwrap: keys recovered from the tokens and the
 * credential cache (./session-keys.ts), RFC 4121 tokens in TypeScript (./wrap.ts). The addon's own client wrap
 * is not used: kerberos 7.0.0 on Unix passes `user` as a non-NULL "" to authenticate_gss_client_wrap, which then
 * seals a 4-byte SASL security-layer reply instead of the message (docs/kerberos.md).
 */
function lazySecurityContext(encrypts: boolean, make: () => InitiatorWrap): AsyncSecurityContext {
  let wrap: InitiatorWrap | undefined;
  const get = () => {
    wrap ??= make();
    return wrap;
  };
  return {
    encrypts,
    asynchronous: true,
    wrap: async (plaintext) => get().wrap(plaintext),
    unwrap: async (header, data) => get().unwrap(header, data),
  };
}
