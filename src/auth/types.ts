/**
 * The authentication seam of the HTTP transport. A mechanism turns a SOAP body into what goes on the wire for one
 * channel (headers, and for NTLM/Kerberos with encryption a sealed multipart body), and back. Connection-bound
 * mechanisms keep their per-socket context in `channel.authState`.
 */
import type { HttpChannel, HttpResponse } from '../transport/http.ts';

export interface AuthExchangeOptions {
  signal?: AbortSignal;
}

export interface AuthMechanismImpl {
  /** Scheme name as in WWW-Authenticate, e.g. 'Basic', 'Negotiate'. */
  readonly scheme: string;
  /** Whether message bodies are encrypted by this mechanism on this channel (Basic: never). */
  readonly encrypts: boolean;
  /** Send one SOAP message over the channel, authenticating as needed; returns the plain response body. */
  exchange(channel: HttpChannel, soap: Buffer, options: AuthExchangeOptions): Promise<HttpResponse>;
}
