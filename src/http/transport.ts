/**
 * The HTTP transport WS-Management requests go through: a pool of single-socket channels (src/http/) and the
 * HTTP authenticator driving the mechanism (src/auth/). `post` takes a SOAP body and returns the plaintext
 * answer; sealing, tokens, re-authentication and the 401 remedies happen below it.
 */

import { HttpAuthenticator } from '../auth/http-authenticator.ts';
import { mechanismFor } from '../auth/index.ts';
import type { AuthMechanism } from '../auth/mechanism.ts';
import type { ResolvedOptions } from '../options/index.ts';
import type { ChannelConfig, HttpResponse } from './channel.ts';
import { ChannelPool } from './pool.ts';

export type { HttpResponse } from './channel.ts';

export interface HttpPostOptions {
  signal?: AbortSignal;
  /** Extra request headers, e.g. `{ WSMANIDENTIFY: 'unauthenticated' }`. Default: none. */
  headers?: Record<string, string>;
  /** Authenticate (and seal) the request. false sends it without Authorization, in the clear. Default: true. */
  authenticate?: boolean;
}

export interface HttpTransportConfig extends ChannelConfig {
  /** Most requests in flight at once (one socket each). */
  maxConcurrentRequests: number;
}

export class HttpTransport {
  /** The channels (exposed for tests that need to reach one socket). */
  readonly pool: ChannelPool;
  readonly #auth: HttpAuthenticator;

  constructor(config: HttpTransportConfig, mechanism: AuthMechanism) {
    this.pool = new ChannelPool(config, config.maxConcurrentRequests);
    this.#auth = new HttpAuthenticator(mechanism, { host: config.url.host, https: config.https });
  }

  /** The Authorization scheme in use: 'Basic', 'Negotiate', or 'NTLM' once a server offered only that. */
  get scheme(): string {
    return this.#auth.scheme;
  }

  /** Whether SOAP bodies are sealed by the mechanism. */
  get encrypts(): boolean {
    return this.#auth.encrypts;
  }

  /**
   * Send one SOAP body and return the (decrypted) answer, whatever its status, except a final 401, which is an
   * AuthenticationError naming the account, the offered schemes and the fix. Connection failures, timeouts and
   * aborts are typed errors too.
   */
  async post(body: Buffer, options: HttpPostOptions = {}): Promise<HttpResponse> {
    const channel = await this.pool.acquire(options.signal);
    let broken = true;
    try {
      const res = await this.#auth.send(channel, body, options);
      broken = false;
      return res;
    } finally {
      this.pool.release(channel, broken);
    }
  }

  close(): void {
    this.pool.close();
  }
}

/** The transport for resolved connection options (mechanism chosen by `auth`). */
export function createHttpTransport(opts: ResolvedOptions): HttpTransport {
  return new HttpTransport(opts, mechanismFor(opts));
}
