/**
 * The mock's HTTP/1.1 listener: node:http (node:https with TLS) set up to behave like HTTP.sys where a WinRM
 * client can tell. Node parses and frames; this module adds what HTTP.sys does and node does not:
 * - requests on one connection are handled one at a time, in order (node answers pipelined requests in order
 *   but would start their handlers at once; WinRS requests on one connection depend on each other);
 * - 400 with the connection closed for requests node accepts but HTTP.sys refuses (HTTP/0.9 and HTTP/2.0
 *   request lines, HTTP/1.1 without Host, Transfer-Encoding on HTTP/1.0), 411 for a POST without a length, and
 *   400 (instead of node's bare answer) for what node's parser refuses;
 * - idle, header and body timeouts (HTTP.sys IdleConnection 120 s, HeaderWait 120 s, EntityBody 120 s; the mock's
 *   head deadline defaults to 30 s, see MockHttpLimits);
 * - bounded memory per connection: at most `maxPipelinedRequests` requests wait behind the one being handled
 *   (reading from the socket stops until they are served; node already stops reading while answers are not
 *   drained), and a body the handler did not read (answered before it, e.g. 401) is drained only up to
 *   `maxDrainBytes`, then the connection is closed;
 * - an answer that closes the connection (413, 411, 400, HTTP/1.0) is followed by a lingering close: input is
 *   read and dropped for a while instead of the socket being destroyed at once, since closing a socket with
 *   unread input sends a reset that can discard the answer before the client reads it.
 * Bodies are read on demand with {@link readBody}, so a handler can answer 401 or 413 before a body arrives; node
 * drops an unread body after the answer and keeps the connection (NTLM handshakes need it).
 */
import http, { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';

export type BodyResult =
  | { kind: 'ok'; body: Buffer }
  | { kind: 'too-large'; bytes: number }
  | { kind: 'aborted' };

export type MockHttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

export const SERVER_HEADER = 'Microsoft-HTTPAPI/2.0';

/** HTTP.sys' reason phrases where they differ from node's; WinRM's 401 has none ("HTTP/1.1 401 "). */
const REASONS: Record<number, string> = {
  401: '',
  413: 'Request Entity Too Large',
};

/** The reason phrase the mock writes for a status. */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? STATUS_CODES[status] ?? '';
}

/** The body, or too-large (counted, not kept) once it passes `limit` bytes, or aborted (connection gone). */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = req.headers['content-length'];
  // node has checked the digits; a declared length over the limit is refused without reading a byte.
  if (declared !== undefined && Number(declared) > limit) {
    return Promise.resolve({ kind: 'too-large', bytes: Number(declared) });
  }
  if (req.complete && req.readableLength === 0 && declared === '0') {
    return Promise.resolve({ kind: 'ok', body: Buffer.alloc(0) });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (r: BodyResult) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      resolve(r);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // A chunked body crossed the limit: refused now; the rest is read and dropped (the stream stays flowing).
        chunks.length = 0;
        settle({ kind: 'too-large', bytes: size });
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () =>
      settle({ kind: 'ok', body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) }),
    );
    req.once('error', () => settle({ kind: 'aborted' }));
    req.once('close', () => settle({ kind: 'aborted' }));
  });
}

export interface MockHttpServerOptions {
  tls?: { key: string; cert: string };
  /** Idle keep-alive connections are closed after this long. Default: 120,000 ms (HTTP.sys IdleConnection). */
  idleTimeoutMs?: number;
  /**
   * Time allowed for a whole request, head and body (node's requestTimeout). Default: 120,000 ms (HTTP.sys
   * EntityBody).
   */
  requestTimeoutMs?: number;
  /**
   * Time allowed for a request's head (node's headersTimeout; at most requestTimeoutMs). Default: 30,000 ms
   * (HTTP.sys HeaderWait is 120 s). node checks deadlines every min(30 s, a quarter of this), so they fire late
   * by up to that much.
   */
  headersTimeoutMs?: number;
  /** Requests read and waiting behind the one being handled, per connection. Default: 32. */
  maxPipelinedRequests?: number;
  /**
   * Bytes of an unread request body drained after its answer before the connection is closed. Default: 512,000
   * (the mock's MaxEnvelopeSize default).
   */
  maxDrainBytes?: number;
}

/** Defaults of {@link MockHttpServerOptions}. */
export const HTTP_DEFAULTS = {
  idleTimeoutMs: 120_000,
  requestTimeoutMs: 120_000,
  headersTimeoutMs: 30_000,
  maxPipelinedRequests: 32,
  maxDrainBytes: 512_000,
} as const;

/** A lingering client connection after an answer that closes it (see the module comment). */
const LINGER_MS = 5000;
/** HTTP.sys MaxFieldLength and MaxRequestBytes: 16 KB, which is node's default too. */
const MAX_HEADER_BYTES = 16 * 1024;

/** Per connection: the request being handled, the ones waiting behind it, and whether it is closing. */
interface ConnectionState {
  busy: boolean;
  queue: [IncomingMessage, ServerResponse][];
  closing: boolean;
  /** A parse error came while answers were still due: the 400 goes out after them. */
  refusal: boolean;
  /** Reading stopped because maxPipelinedRequests requests are waiting. */
  readingPaused: boolean;
}

const states = new WeakMap<Socket, ConnectionState>();

function stateOf(socket: Socket): ConnectionState {
  let s = states.get(socket);
  if (!s) {
    s = { busy: false, queue: [], closing: false, refusal: false, readingPaused: false };
    states.set(socket, s);
    const linger = function (this: Socket): void {
      s!.closing = true;
      if (this.writable) this.end();
      setTimeout(() => this.destroy(), LINGER_MS).unref();
    };
    // node ends a connection after an answer with `Connection: close` through destroySoon(), which destroys the
    // socket as soon as the answer is written: a lingering close instead.
    socket.destroySoon = linger;
  }
  return s;
}

/**
 * node:http's own read back-pressure for a connection: the `_paused` flag its server sets when answers are not
 * drained (node 20 lib/_http_server.js). A plain socket.pause() is undone by node, which resumes the socket whenever
 * a request stream is read; with the flag set it pauses its parser after the current read and keeps the socket
 * stopped until the flag is cleared.
 */
type NodeHttpSocket = Socket & { _paused?: boolean; parser?: { pause(): void; resume(): void } | null };

function pauseReading(socket: Socket): void {
  const s = socket as NodeHttpSocket;
  s._paused = true;
  s.pause();
}

function resumeReading(socket: Socket): void {
  const s = socket as NodeHttpSocket;
  // Answers still waiting to drain: node resumes the socket itself on 'drain'.
  if (s.writableNeedDrain || !s._paused) return;
  s._paused = false;
  s.parser?.resume();
  s.resume();
}

/** The head of a request node accepted but HTTP.sys would refuse, or undefined when it is fine. */
function unframeable(req: IncomingMessage): 400 | 411 | undefined {
  const v = req.httpVersion;
  if (v !== '1.1' && v !== '1.0') return 400;
  if (v === '1.1' && req.headers.host === undefined) return 400;
  const te = req.headers['transfer-encoding'];
  if (te !== undefined && v === '1.0') return 400;
  if (req.method === 'POST' && te === undefined && req.headers['content-length'] === undefined) return 411;
  return undefined;
}

function refusal(status: 400 | 411): string {
  return (
    `HTTP/1.1 ${status} ${reasonPhrase(status)}\r\nServer: ${SERVER_HEADER}\r\n` +
    `Date: ${new Date().toUTCString()}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`
  );
}

/** A listening-ready server; `server` emits 'connection' (raw sockets) and, with TLS, 'secureConnection'. */
export function createMockHttpServer(
  options: MockHttpServerOptions,
  handler: MockHttpHandler,
): http.Server | https.Server {
  const requestTimeout = options.requestTimeoutMs ?? HTTP_DEFAULTS.requestTimeoutMs;
  const headersTimeout = Math.min(options.headersTimeoutMs ?? HTTP_DEFAULTS.headersTimeoutMs, requestTimeout);
  const maxPipelined = options.maxPipelinedRequests ?? HTTP_DEFAULTS.maxPipelinedRequests;
  const maxDrain = options.maxDrainBytes ?? HTTP_DEFAULTS.maxDrainBytes;
  const common = {
    // Host is checked here, to answer in HTTP.sys' form rather than node's.
    requireHostHeader: false,
    maxHeaderSize: MAX_HEADER_BYTES,
    noDelay: true,
    headersTimeout,
    requestTimeout,
    // node expires heads and requests only when it checks (default every 30 s): check often enough for the limit.
    connectionsCheckingInterval: Math.max(100, Math.min(30_000, Math.floor(headersTimeout / 4))),
  };
  const server = options.tls
    ? // A TLS handshake that never completes is held to the head deadline too (tls' default is 120 s).
      https.createServer({
        ...common,
        handshakeTimeout: headersTimeout,
        key: options.tls.key,
        cert: options.tls.cert,
      })
    : http.createServer(common);
  server.keepAliveTimeout = options.idleTimeoutMs ?? HTTP_DEFAULTS.idleTimeoutMs;
  server.requestTimeout = requestTimeout;
  server.headersTimeout = headersTimeout;

  const start = (state: ConnectionState, req: IncomingMessage, res: ServerResponse) => {
    state.busy = true;
    // 'prefinish' comes before node's own 'finish' handler, which would discard an unread body unseen.
    res.once('prefinish', () => {
      // A body the handler left unread (answered first: 401, 404, 405) is drained so the connection can carry
      // the next request, but only up to maxDrain bytes: an endless body closes the connection instead.
      if (req.complete) return;
      let drained = 0;
      req.on('data', (chunk: Buffer) => {
        drained += chunk.length;
        if (drained > maxDrain && !state.closing) req.socket.destroySoon();
      });
    });
    res.once('close', () => {
      state.busy = false;
      if (req.socket.destroyed) {
        // The connection is gone: requests read behind this one are not handled (their answers could not go out).
        state.queue.length = 0;
        return;
      }
      const next = state.queue.shift();
      // Room in the queue again: read more requests (unless node holds the socket for answers not drained).
      if (state.readingPaused && state.queue.length < maxPipelined) {
        state.readingPaused = false;
        resumeReading(req.socket);
      }
      if (next) start(state, next[0], next[1]);
      else if (state.refusal && !state.closing) refuse(req.socket, 400);
    });
    handler(req, res);
  };

  const refuse = (socket: Socket, status: 400 | 411) => {
    const state = stateOf(socket);
    if (state.closing) return;
    if (socket.writable) {
      socket.write(refusal(status));
      socket.destroySoon();
    } else socket.destroy();
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const state = stateOf(req.socket);
    // Requests read after an answer that closes the connection are not served (HTTP.sys drops them).
    if (state.closing || state.refusal) return;
    const bad = unframeable(req);
    if (bad !== undefined) {
      state.closing = true;
      res.writeHead(bad, reasonPhrase(bad), {
        Server: SERVER_HEADER,
        'Content-Length': 0,
        Connection: 'close',
      });
      res.end();
      return;
    }
    if (state.busy) {
      state.queue.push([req, res]);
      // A client pipelining faster than it is served: stop reading its socket until the queue shortens. (node may
      // still parse the rest of the chunk it read, so the queue stays within one read of the limit.)
      if (state.queue.length >= maxPipelined && !state.readingPaused) {
        state.readingPaused = true;
        pauseReading(req.socket);
      }
    } else start(state, req, res);
  });

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    // Timeouts and a client gone mid-request end the connection without an answer, as HTTP.sys' timers do.
    const code = err.code ?? '';
    if (
      !socket.writable ||
      code === 'ECONNRESET' ||
      code === 'HPE_INVALID_EOF_STATE' ||
      code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ) {
      socket.destroy();
      return;
    }
    const state = stateOf(socket);
    if (state.busy || state.queue.length > 0) state.refusal = true;
    else refuse(socket, 400);
  });
  return server;
}
