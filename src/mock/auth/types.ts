/**
 * The authentication seam. A scheme turns `Authorization` headers into a user, possibly over several legs on one
 * connection (NTLM: negotiate -> challenge -> authenticate), and may leave a security context on the connection
 * that unwraps and wraps message bodies ([MS-WSMV] 2.2.9.1, multipart/encrypted). Basic is the first scheme;
 * Negotiate/NTLM and Kerberos plug in here without changes to the server.
 */

/**
 * An account the mock accepts. `name` may be written as users write accounts (src/account.ts): `alice` or
 * `.\alice` (local), `CORP\alice` (domain CORP) or `alice@corp.example` (domain CORP, the first DNS label in
 * upper case, as `whoami` shows a NetBIOS name); a name with a domain must not also set `domain`.
 */
export interface MockUser {
  name: string;
  password: string;
  /**
   * Domain for `whoami`, the shell Owner and NTLM. A domain other than the machine name makes a domain account:
   * NTLM logs it on as `DOMAIN\user` or `user@dns.domain` (first label = DOMAIN), Basic refuses it (WinRM's Basic
   * takes local accounts only). Default: the domain in `name`, else the machine name (a local account).
   */
  domain?: string;
  /**
   * Kerberos client principal that logs on as this user, e.g. `alice@CORP.EXAMPLE` (realm compared
   * case-insensitively). Default: none; a principal `NAME@REALM` then maps to the user NAME whose domain matches
   * REALM (as a UPN does), provided that user names no other principal.
   */
  kerberos?: string;
}

/** A configured user, with the domain filled in. */
export type AuthUser = Required<Omit<MockUser, 'kerberos'>> & Pick<MockUser, 'kerberos'>;

/**
 * Message protection negotiated by a scheme and bound to the connection ([MS-WSMV] 2.2.9.1). The server calls
 * `unwrap` on each request body that arrives as `multipart/encrypted` and `wrap` on the response.
 */
export interface SecurityContext {
  /** Protocol string of the multipart/encrypted parts, e.g. 'application/HTTP-SPNEGO-session-encrypted'. */
  readonly protocol: string;
  unwrap(body: Buffer, contentType: string): Buffer;
  wrap(body: Buffer): { body: Buffer; contentType: string };
}

/** Per-TCP-connection state the server keeps for the schemes (NTLM authenticates connections, not requests). */
export interface ConnectionAuthState {
  /** User authenticated on this connection by a connection-bound scheme. */
  user?: AuthUser;
  /** Scheme that authenticated it. */
  scheme?: string;
  /** Message protection established on this connection. */
  security?: SecurityContext;
  /** A scheme's private state between legs, keyed by scheme name. */
  pending: Map<string, unknown>;
}

export interface AuthAttempt {
  /** The credentials part of the Authorization header (after the scheme name and one blank). */
  token: string;
  connection: ConnectionAuthState;
  https: boolean;
  /** Look a user up by name (case-insensitive, as Windows account names are) and optional domain. */
  findUser(name: string, domain?: string): AuthUser | undefined;
}

export type AuthOutcome =
  /** Authenticated; `responseHeader` is a final WWW-Authenticate token to send with the 200, if any. */
  | { kind: 'success'; user: AuthUser; security?: SecurityContext; responseHeader?: string }
  /** Another leg is needed: answer 401 with this WWW-Authenticate value (e.g. `Negotiate TlRMTVNTUAACAAAA...`). */
  | { kind: 'continue'; responseHeader: string }
  /** Refused: answer 401 with the normal challenge list. `reason` goes to the request log, never to the client. */
  | { kind: 'failure'; reason: string };

export interface AuthScheme {
  /** Name as it appears in Authorization / WWW-Authenticate, compared case-insensitively: 'Basic', 'Negotiate'. */
  readonly name: string;
  /** The WWW-Authenticate value offering the scheme, e.g. `Basic realm="WSMAN"`. */
  challenge(): string;
  /** Whether this scheme may be used for a request; Basic over HTTP needs allowUnencrypted. */
  available(https: boolean): boolean;
  /** Encrypts messages itself (so allowUnencrypted does not apply). */
  readonly providesEncryption: boolean;
  /** Identify's wsmid:SecurityProfileName for this scheme. */
  securityProfile(https: boolean): string;
  authenticate(attempt: AuthAttempt): AuthOutcome;
}
