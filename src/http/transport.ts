/**
 * The HTTP transport WS-Management requests go through: a pool of single-socket channels (src/http/) and the
 * HTTP authenticator driving the mechanism (src/auth/). `post` takes a SOAP body and returns the plaintext
 * answer; sealing, tokens, re-authentication and the 401 remedies happen below it.
 */

import { HttpAuthenticator } from '../auth/http-authenticator.ts';
import { mechanismFor } from '../auth/index.ts';
import type { AuthMechanism } from '../auth/mechanism.ts';
import { DebugLog } from '../debug.ts';
import { ConnectionError } from '../errors.ts';
import type { ResourceBudget } from '../fanout/budget.ts';
import type { ResolvedOptions } from '../options/index.ts';
import type { ChannelConfig, HttpResponse } from './channel.ts';
import { ChannelPool } from './pool.ts';
import { type LinkedAbort, linkedAbort } from './signal.ts';

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
  /** Sockets shared with other connections (the budget option); undefined: none. */
  budget?: ResourceBudget | undefined;
}

export class HttpTransport {
  /** The channels (exposed for tests that need to reach one socket). */
  readonly pool: ChannelPool;
  readonly #auth: HttpAuthenticator;
  readonly #mechanism: AuthMechanism;
  readonly #where: { host: string; port: number };
  /** One per request in flight: destroy() aborts them all. */
  readonly #inFlight = new Set<LinkedAbort>();
  #destroyed = false;

  /**
   * @param debug where the `http` (one line per request) and `auth` (scheme, legs, refusals) debug lines go;
   *   give the connection's DebugLog so its secrets are redacted. Default: none (no lines).
   */
  constructor(config: HttpTransportConfig, mechanism: AuthMechanism, debug?: DebugLog) {
    this.pool = new ChannelPool(config, config.maxConcurrentRequests, { debug }, config.budget?.sockets);
    this.#auth = new HttpAuthenticator(mechanism, { host: config.url.host, https: config.https, debug });
    this.#mechanism = mechanism;
    this.#where = { host: config.host, port: config.port };
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
    if (this.#destroyed) throw this.#destroyedError();
    const link = linkedAbort(options.signal);
    this.#inFlight.add(link);
    try {
      const channel = await this.pool.acquire(link.signal);
      let broken = true;
      try {
        const res = await this.#auth.send(channel, body, { ...options, signal: link.signal });
        broken = false;
        return res;
      } finally {
        this.pool.release(channel, broken);
      }
    } catch (err) {
      // Whatever stage the request was at (waiting for a channel, connecting, an auth leg, the body), after
      // destroy() it fails as destroyed, not as the abort destroy() used to stop it.
      if (this.#destroyed && !options.signal?.aborted) throw this.#destroyedError(err);
      throw err;
    } finally {
      link.dispose();
      this.#inFlight.delete(link);
    }
  }

  /** Close every connection; requests still waiting for a channel fail. Later requests are refused. */
  close(): void {
    this.pool.close();
    this.#releaseMechanism();
  }

  /**
   * Drop everything at once: every socket is destroyed now, every request in flight rejects with a
   * ConnectionError, whatever stage it is at, and no request can be sent afterwards. Idempotent.
   */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const link of this.#inFlight) link.controller.abort(this.#destroyedError());
    this.pool.close();
    this.#releaseMechanism();
  }

  #mechanismReleased = false;
  /** The mechanism's per-connection resources (a private ticket cache) go with the transport, once. */
  #releaseMechanism(): void {
    if (this.#mechanismReleased) return;
    this.#mechanismReleased = true;
    this.#mechanism.close?.();
  }

  #destroyedError(cause?: unknown): ConnectionError {
    return new ConnectionError('The connection was destroyed; no request can be sent on it', {
      ...this.#where,
      cause,
      remedy: 'open a new connection with connect()',
    });
  }
}

/** The transport for resolved connection options (mechanism chosen by `auth`). */
export function createHttpTransport(opts: ResolvedOptions, debug?: DebugLog): HttpTransport {
  let log = debug;
  if (!log && opts.logger) {
    // No connection DebugLog given: one of our own for the logger option, with the password redacted.
    log = new DebugLog(opts.logger);
    log.addSecret(opts.password);
  }
  return new HttpTransport(opts, mechanismFor(opts), log);
}
