/**
 * The authentication seam. A mechanism makes tokens and, once its handshake is done, a security context for
 * message encryption; it does no HTTP. `HttpAuthenticator` carries the tokens in Authorization /
 * WWW-Authenticate and keeps one context per connection; `message-encryption.ts` frames what a context wraps.
 */
import type { PeerCertificate } from 'node:tls';

/** What a mechanism may bind its first token to: the connection it is made for. */
export interface ConnectionContext {
  /** gss_channel_bindings application data (tls-server-end-point) for HTTPS; undefined over HTTP. */
  channelBindings?: Buffer;
  /** The server's certificate on this connection (HTTPS). */
  peerCertificate?: PeerCertificate;
}

/** One step of a handshake: the token to send (if any), and whether the client side is complete after it. */
export interface StepResult {
  token?: Buffer;
  /** True when no further server token is needed; the message then goes with `token` (if any). */
  done: boolean;
}

/** Per-message protection after the handshake ([MS-WSMV] 2.2.9.1 for WinRM). */
export interface SecurityContext {
  /** Whether messages are wrapped (sealed) with this context. */
  readonly encrypts: boolean;
  /** Seal one message: `header` (signature or token header) and `data` (may be longer than the plaintext). */
  wrap(plaintext: Buffer): { header: Buffer; data: Buffer };
  /** Verify and decrypt one message; throws a ProtocolError when it does not verify. */
  unwrap(header: Buffer, data: Buffer): Buffer;
}

/**
 * A security context whose wrap/unwrap are asynchronous: GSSAPI through the native `kerberos` addon runs them on
 * libuv's thread pool. The authenticator awaits both kinds.
 */
export interface AsyncSecurityContext {
  readonly encrypts: boolean;
  readonly asynchronous: true;
  wrap(plaintext: Buffer): Promise<{ header: Buffer; data: Buffer }>;
  unwrap(header: Buffer, data: Buffer): Promise<Buffer>;
}

/** The handshake of one connection. Steps may be asynchronous (Kerberos through the native addon). */
export interface AuthContext {
  /** The first token (Kerberos binds it to the connection already; NTLM's NEGOTIATE does not need to). */
  init(): StepResult | Promise<StepResult>;
  /** Consume the server's token; returns the next token, or done. */
  step(serverToken: Buffer): StepResult | Promise<StepResult>;
  /**
   * The server's token on the answer that completed the handshake (undefined when it sent none); checked before
   * that answer is unsealed (SPNEGO's mechListMIC, Kerberos' mutual authentication). Default: nothing to check.
   */
  complete?(serverToken: Buffer | undefined): void | Promise<void>;
  /** The context once the handshake is complete; undefined for mechanisms without one (Basic). */
  securityContext(): SecurityContext | AsyncSecurityContext | undefined;
}

export interface AuthMechanism {
  /** Header schemes in order of preference, e.g. ['Negotiate', 'NTLM'] or ['Basic']. */
  readonly schemes: readonly string[];
  /**
   * Whether authentication belongs to the connection (NTLM, Kerberos: a handshake per socket, then no header)
   * or to each request (Basic: the first token on every request).
   */
  readonly connectionBound: boolean;
  /** Whether messages will be sealed (decided by the `encryption` option). */
  readonly encrypts: boolean;
  /** Start the handshake for one connection, under the header scheme in use (e.g. 'Negotiate'). */
  begin(connection: ConnectionContext, scheme?: string): AuthContext;
  /** Who is authenticating, for error messages, e.g. `domain account "CORP\alice"`. Never a secret. */
  describeAccount(): string;
  /** Remedy for a final 401, given the schemes the server offered. */
  refusedRemedy(offered: readonly string[], https: boolean): string;
  /**
   * Release what the mechanism holds for its connection (Kerberos with a password: the private ticket cache and
   * its directory). Called once by the transport's close() and destroy(). Default: nothing to release.
   */
  close?(): void;
}
