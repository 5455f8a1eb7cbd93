/**
 * Authentication options: the mechanism, message encryption, the plain-HTTP opt-in, channel binding, and the
 * Kerberos choices (service principal, header scheme, delegation).
 */
import { type NegotiateForm, resolveNegotiateForm } from '../auth/spnego-initiator.ts';
import { Secret } from '../debug.ts';
import { bad, oneOf } from './check.ts';

export type AuthMechanism = 'basic' | 'ntlm' | 'kerberos';
const MECHANISMS = ['basic', 'ntlm', 'kerberos'] as const satisfies readonly AuthMechanism[];
const ENCRYPTION = ['auto', 'always', 'never'] as const;

export interface AuthOptions {
  /**
   * Authentication. 'basic' (local accounts; HTTPS or allowUnencrypted), 'ntlm' (local and domain accounts,
   * encrypts messages over HTTP so servers at their secure defaults accept it), 'kerberos' (domain accounts
   * `USER@FULL.DOMAIN` through the optional `kerberos` npm addon: the ticket cache when no password is given,
   * single sign-on; encrypts over HTTP like NTLM; see docs/kerberos.md). Default: 'basic'.
   */
  auth?: AuthMechanism;
  /**
   * Message encryption with NTLM/Kerberos ([MS-WSMV] 2.2.9.1): 'auto' encrypts over HTTP and not inside HTTPS,
   * 'always' encrypts over both, 'never' sends SOAP in the clear (over HTTP only with allowUnencrypted).
   * Basic cannot encrypt. Default: 'auto'.
   */
  encryption?: 'auto' | 'always' | 'never';
  /**
   * Allow credentials and messages in the clear over plain HTTP (Basic over HTTP). The server must allow it
   * too: `winrm set winrm/config/service @{AllowUnencrypted="true"}`. Default: false.
   */
  allowUnencrypted?: boolean;
  /**
   * Over HTTPS, bind NTLM/Kerberos authentication to the server certificate (channel binding token,
   * RFC 5929 tls-server-end-point), as Windows' CbtHardeningLevel=Strict requires. Default: true.
   */
  channelBinding?: boolean;
  /**
   * How NTLM tokens travel under `Authorization: Negotiate`: 'ntlm' sends raw NTLMSSP tokens, 'spnego' wraps
   * them in SPNEGO ([MS-SPNG]) with a mechListMIC, as pypsrp and Ansible do. Windows accepts both. Default: 'ntlm'.
   */
  negotiateForm?: NegotiateForm;
  /**
   * Kerberos: ask for the service principal `HTTP/<host>` instead of `WSMAN/<host>` (Overthere's
   * winrmKerberosUseHttpSpn; some servers register only HTTP/). Ignored when kerberosSpn is given. Default: false.
   */
  kerberosUseHttpSpn?: boolean;
  /**
   * Kerberos: put the port into the service principal (`WSMAN/<host>:<port>`), for servers registered that way
   * (a non-default port with setspn). Default: false.
   */
  kerberosAddPortToSpn?: boolean;
  /**
   * Kerberos: the service principal to use, exactly, e.g. `WSMAN/web01.corp.example.com` or
   * `HTTP/web01.corp.example.com:5985` (no @REALM: the realm comes from krb5.conf's [domain_realm] for that
   * host); replaces the three SPN options. Default: derived from host.
   */
  kerberosSpn?: string;
  /**
   * Kerberos: replace the host by its canonical DNS name (CNAME target) before building the SPN, as Windows'
   * client does, for connections through an alias; an IP address is looked up in reverse DNS. Off, the SPN uses
   * the host exactly as given (and krb5.conf's `dns_canonicalize_hostname` decides what MIT does). Default: false.
   */
  kerberosCanonicalizeHostname?: boolean;
  /**
   * Kerberos: delegate the user's credentials (a forwardable TGT, GSS_C_DELEG_FLAG) to the server, for a second
   * hop from the remote command (winrs -allowdelegate; the server account must be trusted for delegation, and
   * the TGT must be forwardable: kinit -f). Default: false.
   */
  kerberosDelegate?: boolean;
  /**
   * Kerberos: the HTTP scheme: 'Negotiate' (SPNEGO with the Kerberos mechanism, what Windows' client sends;
   * bodies as application/HTTP-SPNEGO-session-encrypted) or 'Kerberos' (raw Kerberos tokens;
   * application/HTTP-Kerberos-session-encrypted). Default: 'Negotiate'.
   */
  kerberosScheme?: 'Negotiate' | 'Kerberos';
}

/** The Kerberos choices, resolved (defaults applied). */
export interface KerberosConfig {
  serviceClass: 'WSMAN' | 'HTTP';
  addPortToSpn: boolean;
  /** Explicit SPN, when given. */
  spn: string | undefined;
  canonicalizeHostname: boolean;
  delegate: boolean;
  scheme: 'Negotiate' | 'Kerberos';
}

export const KERBEROS_DEFAULTS: KerberosConfig = {
  serviceClass: 'WSMAN',
  addPortToSpn: false,
  spn: undefined,
  canonicalizeHostname: false,
  delegate: false,
  scheme: 'Negotiate',
};

export interface AuthConfig {
  mechanism: AuthMechanism;
  /** Whether SOAP bodies are sealed by the mechanism. */
  encrypt: boolean;
  allowUnencrypted: boolean;
  channelBinding: boolean;
  negotiateForm: NegotiateForm;
  /**
   * The password the mechanism uses, held so that `console.log`, `util.inspect` and `JSON.stringify` of the
   * options (or of a connection holding them) print `[redacted]`; `password.reveal()` gives the value.
   */
  password: Secret;
  /** Whether a password was given (Kerberos without one uses the ticket cache). */
  hasPassword: boolean;
  kerberos: KerberosConfig;
}

/** What the transport tells the auth resolver: HTTPS or not, and where (for messages). */
export interface AuthTransportFacts {
  https: boolean;
  /** host:port, for messages. */
  where: string;
  password: string | undefined;
}

const ALLOW_UNENCRYPTED_ON_SERVER = 'winrm set winrm/config/service @{AllowUnencrypted="true"}';

export function resolveAuth(o: AuthOptions, t: AuthTransportFacts): AuthConfig {
  const mechanism = oneOf('auth', o.auth, MECHANISMS, 'basic');
  const encryption = oneOf('encryption', o.encryption, ENCRYPTION, 'auto');
  for (const flag of [
    'allowUnencrypted',
    'channelBinding',
    'kerberosUseHttpSpn',
    'kerberosAddPortToSpn',
    'kerberosCanonicalizeHostname',
    'kerberosDelegate',
  ] as const) {
    if (o[flag] !== undefined && typeof o[flag] !== 'boolean') {
      bad(flag, `Option ${flag} must be true or false, got ${String(o[flag])}`);
    }
  }
  if (t.password === undefined && mechanism !== 'kerberos') {
    bad('password', `Option password is required for auth '${mechanism}'`, 'give password (a string)');
  }
  const allowUnencrypted = o.allowUnencrypted ?? false;
  if (mechanism === 'basic' && encryption === 'always') {
    bad(
      'encryption',
      "Basic authentication cannot encrypt messages (encryption: 'always')",
      "use auth 'ntlm', or HTTPS",
    );
  }
  const encrypt = mechanism !== 'basic' && (encryption === 'always' || (encryption === 'auto' && !t.https));
  if (!t.https && mechanism !== 'basic' && !encrypt && !allowUnencrypted) {
    bad(
      'allowUnencrypted',
      `encryption 'never' over plain HTTP (${t.where}) would send every message in the clear`,
      "keep encryption 'auto', or opt in with allowUnencrypted: true and allow it on the server: " +
        ALLOW_UNENCRYPTED_ON_SERVER,
    );
  }
  if (!t.https && mechanism === 'basic' && !allowUnencrypted) {
    bad(
      'allowUnencrypted',
      `Basic authentication over plain HTTP (${t.where}) would send the password and all traffic unencrypted`,
      'use HTTPS (https: true, port 5986), or opt in with allowUnencrypted: true and allow it on the server: ' +
        ALLOW_UNENCRYPTED_ON_SERVER,
    );
  }
  return {
    mechanism,
    encrypt,
    allowUnencrypted,
    channelBinding: o.channelBinding ?? true,
    negotiateForm: resolveNegotiateForm(o.negotiateForm),
    password: new Secret(t.password ?? ''),
    hasPassword: t.password !== undefined,
    kerberos: resolveKerberos(o),
  };
}

function resolveKerberos(o: AuthOptions): KerberosConfig {
  const scheme = oneOf('kerberosScheme', o.kerberosScheme, ['Negotiate', 'Kerberos'] as const, 'Negotiate');
  if (o.kerberosSpn !== undefined) {
    // SERVICE/host[:port], as setspn -L lists it; the realm comes from krb5.conf's [domain_realm] for the host.
    if (typeof o.kerberosSpn !== 'string' || !/^[A-Za-z][\w-]*\/[^/@\s]+$/.test(o.kerberosSpn)) {
      bad(
        'kerberosSpn',
        `Option kerberosSpn must be a service principal SERVICE/host[:port] (no @REALM), got ${JSON.stringify(o.kerberosSpn)}`,
        'e.g. WSMAN/web01.corp.example.com (setspn -L <server> lists the registered ones)',
      );
    }
  }
  return {
    serviceClass: o.kerberosUseHttpSpn ? 'HTTP' : KERBEROS_DEFAULTS.serviceClass,
    addPortToSpn: o.kerberosAddPortToSpn ?? KERBEROS_DEFAULTS.addPortToSpn,
    spn: o.kerberosSpn,
    canonicalizeHostname: o.kerberosCanonicalizeHostname ?? KERBEROS_DEFAULTS.canonicalizeHostname,
    delegate: o.kerberosDelegate ?? KERBEROS_DEFAULTS.delegate,
    scheme,
  };
}
