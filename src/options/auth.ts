/** Authentication options: the mechanism, message encryption, the plain-HTTP opt-in, channel binding. */
import { type NegotiateForm, resolveNegotiateForm } from '../auth/spnego-initiator.ts';
import { Secret } from '../debug.ts';
import { bad, oneOf } from './check.ts';

export type AuthMechanism = 'basic' | 'ntlm' | 'kerberos';
const MECHANISMS = ['basic', 'ntlm', 'kerberos'] as const satisfies readonly AuthMechanism[];
const ENCRYPTION = ['auto', 'always', 'never'] as const;

export interface AuthOptions {
  /**
   * Authentication. 'basic' (local accounts; HTTPS or allowUnencrypted), 'ntlm' (local and domain accounts,
   * encrypts messages over HTTP so servers at their secure defaults accept it). Default: 'basic'.
   * ('kerberos' arrives in a later release.)
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
}

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
  if (mechanism === 'kerberos') {
    bad('auth', "auth 'kerberos' is not available in this release", "use auth 'ntlm' for domain accounts");
  }
  const encryption = oneOf('encryption', o.encryption, ENCRYPTION, 'auto');
  for (const flag of ['allowUnencrypted', 'channelBinding'] as const) {
    if (o[flag] !== undefined && typeof o[flag] !== 'boolean') {
      bad(flag, `Option ${flag} must be true or false, got ${String(o[flag])}`);
    }
  }
  if (t.password === undefined) {
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
    password: new Secret(t.password),
  };
}
