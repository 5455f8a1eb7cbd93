/**
 * Kerberos as an AuthMechanism through the optional `kerberos` addon (GSSAPI): HTTP schemes 'Negotiate' (SPNEGO
 * with the Kerberos mechanism) and 'Kerberos' (raw RFC 4121 tokens). Mutual authentication is always asked for
 * and the server's AP-REP is stepped: a missing or bad one is an error.
 *
 * Legs: with message encryption the first token goes with an empty body (as pywinrm does), the server answers
 * with its mutual-authentication token, and only then are bodies sealed (gss_wrap needs the complete context,
 * and the acceptor's subkey from the AP-REP). Without encryption (HTTPS) the token goes with the first message
 * and the server's token on the answer is checked before the answer is read.
 */
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';
import { type Account, forKerberos } from '../../account.ts';
import { AuthenticationError, InvalidArgumentError, ProtocolError } from '../../errors.ts';
import type { KerberosConfig } from '../../options/auth.ts';
import { describeAccount } from '../basic.ts';
import type { AsyncSecurityContext, AuthContext, AuthMechanism, StepResult } from '../mechanism.ts';
import { type KerberosAddon, type KerberosClientLike, loadKerberos } from './addon.ts';
import { type CredentialSource, passwordCredentials, ticketCacheCredentials } from './credentials.ts';
import { kerberosError, kerberosFailureKind } from './errors.ts';
import {
  CHECKSUM_BYTES,
  CONFOUNDER_BYTES,
  fromWinRmLayout,
  TOKEN_HEADER_BYTES,
  toWinRmLayout,
} from './layout.ts';

/** What the wrap check names: the addon release whose Unix wrap seals a SASL reply instead of the message. */
const ADDON_WRAP_BUG = '7.0.0 on Unix applies its SASL security-layer step to every wrap';

export interface KerberosMechanismOptions {
  account: Account;
  /** Undefined: the ticket cache (single sign-on). */
  password: string | undefined;
  encrypt: boolean;
  host: string;
  port: number;
  kerberos: KerberosConfig;
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

  /** The client principal, e.g. alice@CORP.EXAMPLE.COM. */
  get principal(): string {
    return this.#principal;
  }

  begin(): AuthContext {
    let client: KerberosClientLike | undefined;
    let spn = '';
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
          o.password === undefined ? ticketCacheCredentials() : passwordCredentials(o.password);
        const credentials = this.#credentials;
        const first = async (): Promise<StepResult> => {
          phase = 'acquire';
          try {
            client = await credentials.use(this.#principal, () =>
              addon.initializeClient(hostBasedName(spn), {
                principal: this.#principal,
                // The native code reads `flags` (7.0.0's index.d.ts documents `gssFlag`, which it ignores).
                flags: flags(addon, o.kerberos.delegate),
                mechOID:
                  o.kerberos.scheme === 'Kerberos' ? addon.GSS_MECH_OID_KRB5 : addon.GSS_MECH_OID_SPNEGO,
              }),
            );
            const token = await client.step(''); // MIT looks the ticket up here, not at gss_acquire_cred
            phase = 'token';
            return { token: Buffer.from(token, 'base64'), done: !encrypts };
          } catch (err) {
            throw failure(err);
          }
        };
        try {
          return await first();
        } catch (err) {
          // A password TGT that expired (a long-lived connection): kinit again, once.
          if (kerberosFailureKind(err) !== 'expired' || !credentials.renew()) throw err;
          return first();
        }
      },
      step: async (serverToken: Buffer): Promise<StepResult> => {
        if (!client) throw new ProtocolError('Kerberos step before init');
        let out: string;
        try {
          out = await client.step(serverToken.toString('base64'));
        } catch (err) {
          throw mutualFailure('the server token did not verify', failure(err));
        }
        return { token: out ? Buffer.from(out, 'base64') : undefined, done: client.contextComplete };
      },
      complete: async (serverToken: Buffer | undefined): Promise<void> => {
        if (!client || client.contextComplete) return;
        if (!serverToken) throw mutualFailure('the server sent no token (WWW-Authenticate) with its answer');
        try {
          await client.step(serverToken.toString('base64'));
        } catch (err) {
          throw mutualFailure('the server token did not verify', failure(err));
        }
        if (!client.contextComplete) throw mutualFailure('the server asked for another round trip');
      },
      securityContext: () =>
        client?.contextComplete ? kerberosSecurityContext(client, encrypts) : undefined,
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

/** gss_wrap / gss_unwrap in WinRM's layout (./layout.ts). One socket sends one message at a time. */
export function kerberosSecurityContext(client: KerberosClientLike, encrypts: boolean): AsyncSecurityContext {
  return {
    encrypts,
    asynchronous: true,
    async wrap(plaintext) {
      let token: Buffer;
      try {
        token = Buffer.from(await client.wrap(plaintext.toString('base64'), { protect: true }), 'base64');
      } catch (err) {
        throw new ProtocolError(`gss_wrap failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      const overhead = TOKEN_HEADER_BYTES + CONFOUNDER_BYTES + TOKEN_HEADER_BYTES + CHECKSUM_BYTES;
      if (
        token.length >= TOKEN_HEADER_BYTES &&
        token.length - overhead - token.readUInt16BE(4) !== plaintext.length
      ) {
        // kerberos 7.0.0 on Unix passes `user` as a non-NULL empty string to authenticate_gss_client_wrap, which
        // then replaces the message by a 4-byte SASL security-layer reply before gss_wrap
        // (src/unix/kerberos_gss.cc: `if (user) { ... }`): the token seals 4 bytes, whatever was given.
        throw new InvalidArgumentError(
          `The kerberos addon's wrap sealed ${token.length - overhead - token.readUInt16BE(4)} bytes of a ` +
            `${plaintext.length}-byte message: this build cannot encrypt WinRM messages (kerberos ${ADDON_WRAP_BUG})`,
          {
            argument: 'encryption',
            remedy:
              "connect over HTTPS (https: true, port 5986; encryption 'auto' seals nothing inside TLS), or use a " +
              'kerberos addon whose client wrap passes no SASL user on Unix',
          },
        );
      }
      return toWinRmLayout(token);
    },
    async unwrap(header, data) {
      const token = fromWinRmLayout(header, data);
      let plain: string;
      try {
        plain = await client.unwrap(token.toString('base64'));
      } catch (err) {
        throw new ProtocolError(
          `The server's Kerberos-sealed message did not verify: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      if (client.responseConf === 0) {
        throw new ProtocolError('The server sent a Kerberos message that is signed but not encrypted');
      }
      return Buffer.from(plain, 'base64');
    },
  };
}
