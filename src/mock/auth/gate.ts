/**
 * The HTTP authentication step in front of the SOAP dispatcher: picks the scheme named in `Authorization`,
 * runs it, and decides between 200-path, 401 challenge and another leg. Windows' behaviour
 * (docs/windows-wire-facts.md section 4): an empty-bodied 401 with one WWW-Authenticate header per offered scheme
 * in the order Negotiate, Kerberos, Basic, CredSSP; a wrong password gets the same 401.
 */
import type { AuthAttempt, AuthScheme, AuthUser, ConnectionAuthState, SecurityContext } from './types.ts';

/** Order Windows lists schemes in. */
const ORDER = ['negotiate', 'kerberos', 'basic', 'credssp'];

export type GateResult =
  | {
      kind: 'authenticated';
      user: AuthUser;
      scheme: string;
      security?: SecurityContext;
      responseHeader?: string;
    }
  | { kind: 'challenge'; headers: string[]; scheme: string | undefined; reason: string };

/**
 * Whether a domain given at logon names a user's domain: the same name (case-insensitive, as Windows compares),
 * or a DNS name whose first label is the other (NetBIOS) name: `corp.example` names CORP and the other way round.
 */
export function domainMatches(userDomain: string, given: string): boolean {
  const a = userDomain.toLowerCase();
  const b = given.toLowerCase();
  if (a === b) return true;
  const label = (d: string) => (d.includes('.') ? d.split('.')[0] : undefined);
  return label(a) === b || label(b) === a;
}

export class AuthGate {
  private readonly schemes: AuthScheme[];

  /**
   * @param enabled whether a scheme is switched on now (`winrm/config/service/Auth`, read on every request so a
   *   Put takes effect at once). Default: every scheme given is on.
   */
  constructor(
    schemes: AuthScheme[],
    private readonly users: readonly AuthUser[],
    private readonly enabled: (scheme: string) => boolean = () => true,
  ) {
    this.schemes = [...schemes].sort(
      (a, b) => ORDER.indexOf(a.name.toLowerCase()) - ORDER.indexOf(b.name.toLowerCase()),
    );
  }

  /** Schemes offered on this kind of connection, e.g. for Identify's SecurityProfiles. */
  offered(https: boolean): AuthScheme[] {
    return this.schemes.filter((s) => this.enabled(s.name) && s.available(https));
  }

  /** WWW-Authenticate values for a 401. */
  challenges(https: boolean): string[] {
    return this.offered(https).map((s) => s.challenge());
  }

  findUser = (name: string, domain?: string): AuthUser | undefined =>
    this.users.find(
      (u) =>
        u.name.toLowerCase() === name.toLowerCase() &&
        (domain === undefined || domainMatches(u.domain, domain)),
    );

  check(authorization: string | undefined, connection: ConnectionAuthState, https: boolean): GateResult {
    const challenge = (reason: string, scheme?: string): GateResult => ({
      kind: 'challenge',
      headers: this.challenges(https),
      scheme,
      reason,
    });
    if (!authorization) {
      // Connection-bound schemes (NTLM) authenticate the connection once.
      if (connection.user && connection.scheme) {
        return {
          kind: 'authenticated',
          user: connection.user,
          scheme: connection.scheme,
          security: connection.security,
        };
      }
      return challenge('no Authorization header');
    }
    const blank = authorization.indexOf(' ');
    const name = (blank < 0 ? authorization : authorization.slice(0, blank)).toLowerCase();
    const token = blank < 0 ? '' : authorization.slice(blank + 1);
    const scheme = this.schemes.find((s) => s.name.toLowerCase() === name && this.enabled(s.name));
    if (!scheme) return challenge(`scheme "${name}" not enabled`, name);
    if (!scheme.available(https)) return challenge(`${scheme.name} refused: unencrypted HTTP`, scheme.name);
    const attempt: AuthAttempt = { token, connection, https, findUser: this.findUser };
    const outcome = scheme.authenticate(attempt);
    if (outcome.kind === 'failure') return challenge(outcome.reason, scheme.name);
    if (outcome.kind === 'continue') {
      return {
        kind: 'challenge',
        headers: [outcome.responseHeader],
        scheme: scheme.name,
        reason: 'next leg',
      };
    }
    if (outcome.security) {
      connection.user = outcome.user;
      connection.scheme = scheme.name;
      connection.security = outcome.security;
    }
    return {
      kind: 'authenticated',
      user: outcome.user,
      scheme: scheme.name,
      security: outcome.security,
      responseHeader: outcome.responseHeader,
    };
  }
}
