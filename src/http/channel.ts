/**
 * One HTTP channel: axios requests over a keep-alive agent that holds exactly one socket, so connection-bound
 * authentication (NTLM, Kerberos) sees one connection. The channel makes that socket itself (the agent's
 * `createConnection` hook hands it over), so TLS trust is checked on every connection before a request byte is
 * written, and the socket's generation and peer certificate are known before the first auth token is made.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import type { DebugLog } from '../debug.ts';
import { ProtocolError, TimeoutError, type WinRmError } from '../errors.ts';
import { type ErrorContext, HTTP_ERROR, httpFailure, translateHttpError } from './errors.ts';
import { describeProxy } from './proxy.ts';
import { linkedAbort } from './signal.ts';
import { openSocket, type SocketTarget } from './socket.ts';

export interface HttpResponse {
  status: number;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer;
}

export interface ChannelResponse extends HttpResponse {
  /** Generation of the socket that carried the exchange (see {@link HttpChannel.generation}). */
  generation: number;
}

export interface PostOptions {
  headers: Record<string, string>;
  signal?: AbortSignal;
}

export interface ChannelConfig extends SocketTarget {
  url: URL;
  /** Longest silence between two bytes of an answer, ms (axios / socket idle timeout). */
  readTimeoutMs: number;
  /** Whole-exchange deadline of one request, from sending it to the last body byte, ms. */
  responseTimeoutMs: number;
  maxResponseBytes: number;
}

export interface ChannelOptions {
  /** Kept-alive sockets idle longer than this many ms are replaced. Default: {@link MAX_IDLE_REUSE_MS}. */
  maxIdleReuseMs?: number;
  /** Where the one-line-per-request `http` debug lines go. Default: none (no lines). */
  debug?: DebugLog;
}

/** What authentication needs to know about the channel's current connection. */
export interface ConnectionInfo {
  /** Grows by one with every new socket; an auth context made for another generation is stale. */
  generation: number;
  /** Certificate the server presented on this connection (HTTPS). */
  peerCertificate: PeerCertificate | undefined;
}

/** Kept-alive sockets idle longer than this are not reused (HTTP.sys drops them at 120 s). */
export const MAX_IDLE_REUSE_MS = 100_000;

/**
 * Bytes allowed above maxResponseBytes for the multipart/encrypted framing of a sealed answer (boundaries, part
 * headers, signature); the plaintext is capped again when it is parsed.
 */
const FRAMING_ALLOWANCE = 64 * 1024;

/**
 * Most interim (1xx) heads accepted before the final head of one request; one more destroys the socket and fails
 * the request. Windows' HTTP.sys sends at most one `100 Continue`, and only to a client that sent
 * `Expect: 100-continue` (this one never does), so anything near this limit is not a WinRM listener.
 */
export const MAX_INTERIM_RESPONSES = 10;

/**
 * The one axios instance every channel sends through: what is the same for every request lives here, and each
 * request names its channel's agent, body limit and idle timeout. An instance per channel cost about 11 KB kept
 * and 24 KB made per channel (axios.create copies its methods and defaults), for each of a fan-out's hundreds of
 * connections. Made on first use.
 */
let sharedAxios: AxiosInstance | undefined;
function channelAxios(): AxiosInstance {
  sharedAxios ??= axios.create({
    method: 'post',
    adapter: 'http',
    // The endpoint, never an environment proxy: HTTP_PROXY / HTTPS_PROXY must not reroute WinRM traffic.
    // The `proxy` option is honoured by the socket factory (a CONNECT tunnel per channel).
    proxy: false,
    maxRedirects: 0,
    decompress: false,
    responseType: 'arraybuffer',
    transformRequest: [],
    transformResponse: [],
    validateStatus: () => true,
    maxBodyLength: -1,
    transitional: { clarifyTimeoutError: true, silentJSONParsing: true, forcedJSONParsing: false },
    headers: { Accept: '*/*', 'Accept-Encoding': 'identity', 'User-Agent': 'winrm-connection' },
  });
  return sharedAxios;
}

type RequestFn = (
  options: http.RequestOptions,
  callback: (res: http.IncomingMessage) => void,
) => http.ClientRequest;

type CreateConnection = (options: unknown, callback: (err: Error | null, socket?: Socket) => void) => unknown;

export class HttpChannel {
  /** Free slot for the authenticator's per-connection state. */
  authState: unknown;
  readonly #config: ChannelConfig;
  readonly #agent: http.Agent;
  readonly #errors: ErrorContext;
  readonly #maxIdleMs: number;
  readonly #url: string;
  readonly #debug: DebugLog | undefined;
  /** The signal of the request in flight, for a socket the agent asks for during it. */
  #requestSignal: AbortSignal | undefined;
  #socket: Socket | undefined;
  #prepared: Socket | undefined;
  #peer: PeerCertificate | undefined;
  #generation = 0;
  /** Exchanges completed on the current socket (0: the next one is its first, the socket is new). */
  #exchanges = 0;
  #idleSince = 0;
  #busy = false;

  constructor(config: ChannelConfig, options: ChannelOptions = {}) {
    this.#config = config;
    this.#debug = options.debug;
    this.#maxIdleMs = options.maxIdleReuseMs ?? MAX_IDLE_REUSE_MS;
    this.#url = config.url.href;
    this.#errors = {
      host: config.host,
      port: config.port,
      readTimeoutMs: config.readTimeoutMs,
      connectTimeoutMs: config.connectTimeoutMs,
      proxy: config.proxy ? describeProxy(config.proxy) : undefined,
    };
    const agentOptions: http.AgentOptions = {
      keepAlive: true,
      maxSockets: 1,
      maxFreeSockets: 1,
      // Backstop for the idle check in open(): the agent destroys a free socket idle this long.
      timeout: this.#maxIdleMs,
    };
    this.#agent = config.https
      ? new https.Agent({ ...agentOptions, maxCachedSessions: 0 })
      : new http.Agent(agentOptions);
    (this.#agent as unknown as { createConnection: CreateConnection }).createConnection = (_o, callback) => {
      const ready = this.#prepared;
      this.#prepared = undefined;
      if (ready && !ready.destroyed) {
        callback(null, ready);
        return undefined;
      }
      // The prepared socket died between open() and the request: make another one the same way.
      this.#connect(this.#requestSignal).then(
        (s) => callback(null, s),
        (err: Error) => callback(err),
      );
      return undefined;
    };
  }

  /** Generation of the current socket (0 before the first). */
  get generation(): number {
    return this.#generation;
  }

  /** Certificate of the current connection's server (HTTPS). */
  get peerCertificate(): PeerCertificate | undefined {
    return this.#peer;
  }

  /**
   * Make sure the channel has a live connection and describe it. A socket idle longer than the reuse limit is
   * replaced rather than risk writing a request just as the server closes it (a POST cannot be sent twice).
   */
  async open(signal?: AbortSignal): Promise<ConnectionInfo> {
    const s = this.#socket;
    if (s && this.#prepared !== s && performance.now() - this.#idleSince > this.#maxIdleMs)
      this.#dropSocket();
    if (!this.#socket || this.#socket.destroyed) {
      try {
        this.#prepared = await this.#connect(signal);
      } catch (err) {
        throw translateHttpError(err, this.#errors, signal);
      }
    }
    return { generation: this.#generation, peerCertificate: this.#peer };
  }

  async #connect(signal?: AbortSignal): Promise<Socket> {
    const { socket, peerCertificate } = await openSocket(this.#config, signal);
    this.#socket = socket;
    this.#peer = peerCertificate;
    this.#generation++;
    this.#exchanges = 0;
    socket.once('close', () => {
      if (this.#socket === socket) this.#socket = undefined;
      if (this.#prepared === socket) this.#prepared = undefined;
    });
    return socket;
  }

  /**
   * One exchange on the channel's socket. It is bounded as a whole by responseTimeout (send to last body byte;
   * readTimeout bounds only the silence between bytes) and by MAX_INTERIM_RESPONSES 1xx heads; the caller's
   * signal stops it at any stage. Any failure destroys the socket.
   */
  async post(body: Buffer, options: PostOptions): Promise<ChannelResponse> {
    if (this.#busy) throw new Error('internal: an HttpChannel carries one request at a time');
    this.#busy = true;
    const started = performance.now();
    let outcome = 'failed';
    try {
      await this.open(options.signal);
      const generationAtSend = this.#generation;
      const reused = this.#exchanges > 0;
      const res = await this.#exchange(body, options);
      const generation = this.#generation;
      // A socket the agent had to replace during the request is new too.
      const socketNote = reused && generation === generationAtSend ? 'reused socket' : 'new socket';
      this.#exchanges++;
      outcome = `HTTP ${res.status}, sent ${body.length} B, received ${res.data.length} B, ${socketNote} #${generation}`;
      this.#idleSince = performance.now();
      return {
        status: res.status,
        headers: res.headers as unknown as Record<string, string | string[] | undefined>,
        body: res.data,
        generation,
      };
    } catch (err) {
      outcome = `failed (${err instanceof Error ? `${err.name}: ${err.message}` : String(err)})`;
      throw err;
    } finally {
      this.#busy = false;
      this.#requestSignal = undefined;
      const elapsed = Math.round(performance.now() - started);
      this.#debug?.log(
        'http',
        () =>
          `POST ${this.#config.url.pathname} ${outcome}, ${elapsed} ms, ${this.#config.https ? 'TLS' : 'plain HTTP'}` +
          (this.#config.proxy ? `, via proxy ${describeProxy(this.#config.proxy)}` : ''),
      );
    }
  }

  /** The axios request under the whole-exchange deadline and the 1xx limit; errors are typed. */
  async #exchange(
    body: Buffer,
    options: PostOptions,
  ): Promise<{ status: number; headers: unknown; data: Buffer }> {
    const deadline = linkedAbort(options.signal);
    const timer = setTimeout(() => deadline.controller.abort(), this.#config.responseTimeoutMs);
    let interim = 0;
    let interimOverflow = false;
    const request: RequestFn = (opts, callback) => {
      // The agent's 'free' listener keeps the options of a socket's first request for the socket's life; axios's
      // beforeRedirects hooks in them hold that request, its answer and both bodies (we never follow a redirect).
      const { beforeRedirects: _hooks, ...plain } = opts as http.RequestOptions & {
        beforeRedirects?: unknown;
      };
      const req = (this.#config.https ? https.request : http.request)(plain, callback);
      // node:http parses every 1xx head and emits 'information' (100 Continue included); without a limit a
      // server could keep the request pending for ever, and busy, with a stream of them.
      req.on('information', () => {
        if (++interim <= MAX_INTERIM_RESPONSES || interimOverflow) return;
        interimOverflow = true;
        req.destroy(new Error('too many interim responses'));
        deadline.controller.abort();
      });
      return req;
    };
    this.#requestSignal = deadline.signal;
    let res: AxiosResponse<Buffer>;
    try {
      res = await channelAxios().request<Buffer>({
        url: this.#url,
        data: body,
        headers: options.headers,
        httpAgent: this.#config.https ? undefined : this.#agent,
        httpsAgent: this.#config.https ? this.#agent : undefined,
        maxContentLength: this.#config.maxResponseBytes + FRAMING_ALLOWANCE,
        timeout: this.#config.readTimeoutMs,
        signal: deadline.signal,
        transport: { request },
      });
    } catch (err) {
      this.#dropSocket();
      if (options.signal?.aborted) throw this.#translate(err, options.signal);
      const where = `${this.#config.host}:${this.#config.port}`;
      if (interimOverflow) {
        throw new ProtocolError(
          `${where} sent more than ${MAX_INTERIM_RESPONSES} interim (1xx) HTTP heads for one request; the connection was closed`,
          {
            cause: err,
            remedy: `a WinRM listener (HTTP.sys) sends at most one 100 Continue: check that ${where} is a WinRM listener and that nothing between (a proxy) rewrites its answers`,
          },
        );
      }
      if (deadline.signal.aborted) {
        throw new TimeoutError(
          `No complete HTTP response from ${where} within responseTimeout (${this.#config.responseTimeoutMs} ms); the connection was closed`,
          {
            timeoutMs: this.#config.responseTimeoutMs,
            cause: err,
            remedy:
              'the server answers too slowly or never finishes its answer; if the network is just slow, raise responseTimeout (ms, at least readTimeout)',
          },
        );
      }
      throw this.#translate(err);
    } finally {
      clearTimeout(timer);
      deadline.dispose();
    }
    if (!Number.isInteger(res.status) || res.status < 200 || res.status > 599) {
      this.#dropSocket();
      throw this.#translate(
        httpFailure(
          HTTP_ERROR.malformed,
          `status ${String(res.status).padStart(3, '0')} is not a final HTTP status`,
        ),
      );
    }
    const data = res.data;
    return {
      status: res.status,
      headers: res.headers,
      data: Buffer.isBuffer(data) ? data : Buffer.from(data ?? []),
    };
  }

  #translate(err: unknown, signal?: AbortSignal): WinRmError {
    return translateHttpError(err, this.#errors, signal);
  }

  #dropSocket(): void {
    const s = this.#socket;
    this.#socket = undefined;
    this.#prepared = undefined;
    s?.destroy();
  }

  /** Close the connection; the channel may open a new one later. */
  destroy(): void {
    this.#dropSocket();
    this.#agent.destroy();
  }
}
