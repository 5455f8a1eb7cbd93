/**
 * The one table from GSSAPI / krb5 messages (MIT and Heimdal wording, as the `kerberos` addon reports them: the
 * major status text, then the minor one) to typed errors with the fix. First match wins; anything else is an
 * AuthenticationError carrying the library's own text.
 */
import { AuthenticationError, ConnectionError, type WinRmError } from '../../errors.ts';

export interface KerberosFailureContext {
  /** The client principal, e.g. alice@CORP.EXAMPLE.COM (undefined: the ticket cache's default principal). */
  principal: string | undefined;
  /** The service principal asked for, e.g. WSMAN/server.corp.example.com. */
  spn: string;
  /** The realm, when known. */
  realm: string | undefined;
  /**
   * 'acquire': gss_acquire_cred and the first gss_init_sec_context (finding the TGT, the service ticket);
   * 'token': checking the server's tokens. Default: 'token'.
   */
  phase?: 'acquire' | 'token';
}

export type KerberosFailureKind =
  | 'no-ticket'
  | 'expired'
  | 'unknown-spn'
  | 'clock-skew'
  | 'kdc-unreachable'
  | 'wrong-password'
  | 'unknown-client'
  | 'no-realm'
  | 'client-revoked'
  | 'password-expired'
  | 'other';

interface Row {
  kind: KerberosFailureKind;
  match: RegExp;
  /** Only in this phase (MIT's texts are generic for some failures). */
  phase?: 'acquire';
  make(c: KerberosFailureContext, text: string): WinRmError;
}

const kinitFor = (c: KerberosFailureContext) =>
  `kinit ${c.principal ?? (c.realm ? `USER@${c.realm}` : 'USER@FULL.DOMAIN')}`;

const auth = (kind: KerberosFailureKind, message: string, remedy: string, cause: string) =>
  Object.assign(new AuthenticationError(message, { remedy, cause: new Error(cause) }), { kerberos: kind });

const TABLE: readonly Row[] = [
  {
    kind: 'expired',
    match: /Ticket expired|credential has expired|KRB_AP_ERR_TKT_EXPIRED|Credentials? (cache )?.*expired/i,
    make: (c, t) =>
      auth(
        'expired',
        `The Kerberos ticket of ${c.principal ?? 'the ticket cache'} has expired`,
        `renew it: ${kinitFor(c)} (or kinit -R)`,
        t,
      ),
  },
  {
    kind: 'no-ticket',
    match:
      /No Kerberos credentials available|No credentials cache found|credentials cache file .* not found|No credentials were supplied|Can't find client principal .* in cache collection|Matching credential not found/i,
    make: (c, t) =>
      auth(
        'no-ticket',
        `No Kerberos ticket for ${c.principal ?? 'the default principal'} in the ticket cache (KRB5CCNAME)`,
        `get one first: ${kinitFor(c)}, or give the password option`,
        t,
      ),
  },
  {
    // MIT's gss_acquire_cred for a named principal with no cache holding it: KRB5_CC_NOTFOUND surfaces as
    // "A required argument is missing"; SPNEGO without any Kerberos credential: "cannot find mechanisms".
    kind: 'no-ticket',
    phase: 'acquire',
    match: /A required argument is missing|SPNEGO cannot find mechanisms to negotiate/i,
    make: (c, t) =>
      auth(
        'no-ticket',
        `No Kerberos ticket for ${c.principal ?? 'the default principal'} in the ticket cache (KRB5CCNAME)`,
        `get one first: ${kinitFor(c)}, or give the password option`,
        t,
      ),
  },
  {
    kind: 'unknown-spn',
    match:
      /Server .* not found in Kerberos database|KDC_ERR_S_PRINCIPAL_UNKNOWN|Server not found in Kerberos database/i,
    make: (c, t) =>
      auth(
        'unknown-spn',
        `The KDC knows no service principal ${c.spn}`,
        'register it on the server account (setspn -S), or choose the SPN the server has: ' +
          'kerberosUseHttpSpn: true for HTTP/<host>, kerberosAddPortToSpn, an explicit kerberosSpn, or ' +
          'kerberosCanonicalizeHostname: true when you connect through an alias or an IP address',
        t,
      ),
  },
  {
    kind: 'clock-skew',
    match: /Clock skew too great|KRB_AP_ERR_SKEW/i,
    make: (c, t) =>
      auth(
        'clock-skew',
        `The clocks of this machine and the KDC${c.realm ? ` of ${c.realm}` : ''} differ by more than the allowed skew (5 minutes by default)`,
        'synchronise the time (NTP / chrony / w32time) with the domain controllers',
        t,
      ),
  },
  {
    kind: 'kdc-unreachable',
    match: /Cannot contact any KDC|Cannot find KDC for realm|unable to reach any KDC|KRB5_KDC_UNREACH/i,
    make: (c, t) =>
      Object.assign(
        new ConnectionError(`No KDC of realm ${c.realm ?? '(default realm)'} could be reached`, {
          remedy:
            'check the kdc entries for the realm in krb5.conf (KRB5_CONFIG), DNS SRV records (_kerberos._tcp), ' +
            'and that port 88 of a domain controller is reachable',
          cause: new Error(t),
        }),
        { kerberos: 'kdc-unreachable' as const },
      ),
  },
  {
    kind: 'wrong-password',
    match:
      /Preauthentication failed|Password incorrect|Decrypt integrity check failed|KDC_ERR_PREAUTH_FAILED/i,
    make: (c, t) =>
      auth(
        'wrong-password',
        `The KDC refused the password of ${c.principal ?? 'the account'}`,
        'check the password (and that the account is not locked)',
        t,
      ),
  },
  {
    kind: 'unknown-client',
    match: /Client .* not found in Kerberos database|KDC_ERR_C_PRINCIPAL_UNKNOWN/i,
    make: (c, t) =>
      auth(
        'unknown-client',
        `The KDC knows no user ${c.principal ?? ''}`.trim(),
        'check the user name; write it as USER@FULL.DOMAIN with the DNS name of the domain (the realm)',
        t,
      ),
  },
  {
    // KDC_ERR_CLIENT_REVOKED (18): disabled or locked-out account (MIT: "Client's credentials have been revoked").
    kind: 'client-revoked',
    match: /credentials have been revoked|KDC_ERR_CLIENT_REVOKED/i,
    make: (c, t) =>
      auth(
        'client-revoked',
        `The KDC refused ${c.principal ?? 'the account'}: the account is disabled or locked out`,
        'ask the domain administrators to enable or unlock the account (or wait for the lockout to end)',
        t,
      ),
  },
  {
    // KDC_ERR_KEY_EXPIRED (23): the password must be changed before the KDC issues tickets.
    kind: 'password-expired',
    match: /Password has expired|KDC_ERR_KEY_EXPIRED/i,
    make: (c, t) =>
      auth(
        'password-expired',
        `The password of ${c.principal ?? 'the account'} has expired`,
        `change it (kpasswd ${c.principal ?? 'USER@FULL.DOMAIN'}, or at a Windows logon), then use the new one`,
        t,
      ),
  },
  {
    kind: 'no-realm',
    match:
      /Cannot resolve network address for KDC in realm|Configuration file does not specify default realm|Cannot determine realm/i,
    make: (c, t) =>
      auth(
        'no-realm',
        `Kerberos does not know realm ${c.realm ?? '(none given)'}`,
        'add the realm to krb5.conf ([realms] with its kdc, [domain_realm] for the server host) or enable dns_lookup_kdc',
        t,
      ),
  },
];

/** The typed error for a GSSAPI / krb5 failure text. The text goes into `cause`, the message names the problem. */
export function kerberosError(err: unknown, c: KerberosFailureContext): WinRmError {
  const text = err instanceof Error ? err.message : String(err);
  for (const row of TABLE) {
    if (row.phase && row.phase !== c.phase) continue;
    if (row.match.test(text)) return row.make(c, text);
  }
  return auth(
    'other',
    `Kerberos authentication to ${c.spn} failed: ${text}`,
    'check the ticket cache (klist), krb5.conf and the service principal',
    text,
  );
}

/** The table's kind for an error made by {@link kerberosError} (tests and callers switch on it). */
export function kerberosFailureKind(err: unknown): KerberosFailureKind | undefined {
  return (err as { kerberos?: KerberosFailureKind } | undefined)?.kerberos;
}
