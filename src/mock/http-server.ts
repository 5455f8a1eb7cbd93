/**
 * The mock's HTTP/1.1 server, written on plain (or TLS) sockets like the client's transport. node:http's
 * request and response objects were the largest remaining cost per request in the mock once XML reading was
 * fixed, and every benchmark pays it on both sides of the ratio. It keeps what HTTP.sys does for WinRM:
 * keep-alive with a 120 s idle timeout, requests answered strictly in order (pipelined ones wait), `100 Continue`
 * for clients that expect it (curl), Content-Length or chunked request bodies, `Date` on every answer,
 * HTTP/1.0 closing unless kept alive, and 400 with the connection closed for a request it cannot frame.
 *
 * The request object hands the handler the head at once and the body on demand (`readBody`), so the handler can
 * answer 401 or 413 before a body arrives, as before.
 */
import { EventEmitter } from 'node:events';
import net, { type Server, type Socket } from 'node:net';
import tls from 'node:tls';
import { BodyReader, framingOf, HttpFramingError, parseHeaderLines, takeHead } from '../transport/http1.ts';

export type BodyResult =
  | { kind: 'ok'; body: Buffer }
  | { kind: 'too-large'; bytes: number }
  | { kind: 'aborted' };

export interface MockHttpRequest {
  readonly method: string;
  readonly url: string;
  /** Lower-case names; a repeated header is joined with ", " except the ones that must be single. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly socket: Socket;
  /** The body, or too-large (counted, not kept) when it exceeds `limit` bytes, or aborted (connection gone). */
  readBody(limit: number): Promise<BodyResult>;
}

/** Headers that keep their first value when repeated (node:http's rule, and HTTP.sys refuses most repeats). */
const SINGLE = new Set(['authorization', 'content-length', 'content-type', 'host', 'user-agent', 'expect']);
const STATUS_TEXT: Record<number, string> = {
  100: 'Continue',
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  411: 'Length Required',
  413: 'Request Entity Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

let dateSecond = 0;
let dateText = '';
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

export class MockHttpResponse extends EventEmitter {
  headersSent = false;
  writableFinished = false;
  private closed = false;

  constructor(
    private readonly conn: HttpConnection,
    private readonly keepAlive: boolean,
  ) {
    super();
  }

  get destroyed(): boolean {
    return this.conn.socket.destroyed;
  }

  private head: string | undefined;
  private closeAfter = false;

  /** Status line and headers; `reason` '' gives Windows' empty reason phrase ("HTTP/1.1 401 "). */
  writeHead(
    status: number,
    reason: string | undefined,
    headers: Record<string, string | string[] | number>,
  ): this {
    let head = `HTTP/1.1 ${status} ${reason ?? STATUS_TEXT[status] ?? ''}\r\n`;
    let close = !this.keepAlive;
    for (const [name, value] of Object.entries(headers)) {
      if (name.toLowerCase() === 'connection' && /close/i.test(String(value))) close = true;
      for (const v of Array.isArray(value) ? value : [value]) head += `${name}: ${v}\r\n`;
    }
    head += `Date: ${httpDate()}\r\n`;
    if (close && !/^connection:/im.test(head)) head += 'Connection: close\r\n';
    this.head = `${head}\r\n`;
    this.closeAfter = close;
    this.headersSent = true;
    return this;
  }

  /** Writes the head (if pending) and part of a body, without finishing the response. */
  write(chunk: Buffer, callback?: () => void): void {
    const head = this.takeHead();
    if (this.conn.socket.destroyed) return;
    this.conn.socket.write(head ? Buffer.concat([head, chunk]) : chunk, callback);
  }

  end(body: Buffer = Buffer.alloc(0)): void {
    const head = this.takeHead();
    const socket = this.conn.socket;
    if (!socket.destroyed) socket.write(head ? Buffer.concat([head, body]) : body);
    this.writableFinished = true;
    this.conn.finished(this, this.closeAfter);
    this.emitClose();
  }

  destroy(): void {
    this.conn.socket.destroy();
  }

  /** Emitted once: after end(), or when the connection goes first. */
  emitClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }

  private takeHead(): Buffer | undefined {
    if (this.head === undefined) return undefined;
    const h = Buffer.from(this.head, 'latin1');
    this.head = undefined;
    return h;
  }
}

type Handler = (req: MockHttpRequest, res: MockHttpResponse) => void;

/** Bytes a client may send ahead while its current request is being answered (pipelining). */
const MAX_PIPELINED_BYTES = 4 * 1024 * 1024;
/** After the last answer, a client that does not close its side is cut off after this long. */
const LINGER_MS = 5000;

/** One client connection: parses requests one at a time and hands them to the handler. */
class HttpConnection {
  private buf: Buffer = Buffer.alloc(0);
  /** closing: the last answer is written and the connection is ending; whatever else arrives is dropped. */
  private state: 'head' | 'body' | 'answering' | 'closing' = 'head';
  private body: BodyReader | undefined;
  private bodyWaiter: ((r: BodyResult) => void) | undefined;
  private bodyResult: BodyResult | undefined;
  private bodyLimit = Number.POSITIVE_INFINITY;
  private response: MockHttpResponse | undefined;
  /** The current request was answered before its body was in: the body is dropped, then the next request. */
  private answeredEarly = false;

  constructor(
    readonly socket: Socket,
    private readonly handler: Handler,
    idleTimeoutMs: number,
  ) {
    socket.setNoDelay(true);
    socket.setTimeout(idleTimeoutMs, () => {
      if (this.state !== 'answering') socket.destroy();
    });
    socket.on('data', (d: Buffer) => {
      if (this.state === 'closing') return;
      this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
      if (this.state === 'answering' && this.buf.length > MAX_PIPELINED_BYTES) {
        // A client that keeps sending while its request is being answered: HTTP.sys would not buffer this.
        socket.destroy();
        return;
      }
      this.process();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.settleBody({ kind: 'aborted' });
      this.response?.emitClose();
    });
  }

  private process(): void {
    try {
      for (;;) {
        if (this.state === 'head') {
          const head = takeHead(this.buf);
          if (!head) return;
          this.buf = head.rest;
          this.startRequest(head.lines);
          if (this.socket.destroyed) return;
        } else if (this.state === 'body') {
          const reader = this.body!;
          const rest = reader.push(this.buf);
          if (reader.size > this.bodyLimit) reader.startDiscarding();
          this.buf = Buffer.alloc(0);
          if (rest === undefined) return;
          this.buf = rest;
          this.body = undefined;
          if (this.answeredEarly) {
            this.answeredEarly = false;
            this.nextRequest();
            continue;
          }
          this.state = 'answering';
          this.settleBody(
            reader.size > this.bodyLimit
              ? { kind: 'too-large', bytes: reader.size }
              : { kind: 'ok', body: reader.body() },
          );
        } else return; // the answer to the current request comes first; later bytes wait in buf
      }
    } catch (err) {
      this.refuse(err);
    }
  }

  private startRequest(lines: string[]): void {
    const m = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) HTTP\/1\.([01])$/.exec(lines[0]!);
    if (!m) throw new HttpFramingError(`malformed request line ${JSON.stringify(lines[0]!.slice(0, 80))}`);
    const parsed = parseHeaderLines(lines.slice(1));
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(parsed)) {
      headers[k] = Array.isArray(v) ? (SINGLE.has(k) ? v[0] : v.join(', ')) : v;
    }
    const connection = (headers.connection ?? '').toLowerCase();
    const keepAlive = m[3] === '1' ? !/\bclose\b/.test(connection) : /\bkeep-alive\b/.test(connection);
    const te = headers['transfer-encoding'];
    // Request smuggling shapes are refused outright (RFC 9112 6.1): Transfer-Encoding beside Content-Length,
    // or on HTTP/1.0.
    if (te !== undefined && (headers['content-length'] !== undefined || m[3] === '0')) {
      throw new HttpFramingError('Transfer-Encoding with Content-Length or on HTTP/1.0');
    }
    const framing = framingOf(parsed, false);
    if (framing.kind === 'close') {
      if (te !== undefined) throw new HttpFramingError('unsupported transfer coding');
      if (m[1] === 'POST') {
        // A request body cannot run to the end of the connection (RFC 9112 6.3): HTTP.sys answers 411.
        this.refuse(undefined, 411);
        return;
      }
      this.bodyResult = { kind: 'ok', body: Buffer.alloc(0) };
      this.state = 'answering';
    } else {
      const declared = framing.kind === 'length' ? framing.length : 0;
      this.state = 'body';
      this.body = new BodyReader(framing, Number.MAX_SAFE_INTEGER, () => new Error('unreachable'), false);
      if (declared > 0 || framing.kind === 'chunked') {
        if ((headers.expect ?? '').toLowerCase() === '100-continue' && m[3] === '1') {
          this.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
        }
      }
    }
    const res = new MockHttpResponse(this, keepAlive);
    this.response = res;
    const req: MockHttpRequest = {
      method: m[1]!,
      url: m[2]!,
      headers,
      socket: this.socket,
      readBody: (limit) => this.readBody(limit, framing.kind === 'length' ? framing.length : undefined),
    };
    this.handler(req, res);
  }

  private readBody(limit: number, declared: number | undefined): Promise<BodyResult> {
    if (this.bodyResult) return Promise.resolve(this.limitResult(this.bodyResult, limit));
    this.bodyLimit = limit;
    if (declared !== undefined && declared > limit) {
      // Refused without keeping it: the bytes are read and dropped so the answer can still be written.
      this.body?.startDiscarding();
      return Promise.resolve({ kind: 'too-large', bytes: declared });
    }
    return new Promise((resolve) => {
      this.bodyWaiter = (r) => resolve(this.limitResult(r, limit));
    });
  }

  private limitResult(r: BodyResult, limit: number): BodyResult {
    return r.kind === 'ok' && r.body.length > limit ? { kind: 'too-large', bytes: r.body.length } : r;
  }

  private settleBody(r: BodyResult): void {
    if (this.bodyResult) return;
    this.bodyResult = r;
    const w = this.bodyWaiter;
    this.bodyWaiter = undefined;
    w?.(r);
  }

  /** The response to the current request is written; the next request may be read. */
  finished(res: MockHttpResponse, close: boolean): void {
    if (res !== this.response) return;
    this.response = undefined;
    if (close) {
      this.close();
      return;
    }
    if (this.state === 'body') {
      // Answered before the body was in (a 401 challenge): drop the rest of the body, keep the connection.
      this.body?.startDiscarding();
      this.answeredEarly = true;
      this.settleBody({ kind: 'aborted' });
      return;
    }
    this.nextRequest();
    if (this.buf.length > 0) queueMicrotask(() => this.process());
  }

  private nextRequest(): void {
    this.state = 'head';
    this.bodyResult = undefined;
    this.bodyWaiter = undefined;
    this.bodyLimit = Number.POSITIVE_INFINITY;
  }

  /** A request that cannot be framed: 400 (or 411 without a length) and close, as HTTP.sys does. */
  private refuse(_err: unknown, status = 400): void {
    if (!this.socket.destroyed) {
      const reason = status === 411 ? 'Length Required' : 'Bad Request';
      this.socket.write(
        `HTTP/1.1 ${status} ${reason}\r\nDate: ${httpDate()}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
    }
    this.close();
    this.settleBody({ kind: 'aborted' });
  }

  /** End the connection after what is written; later bytes are dropped, a client that lingers is cut off. */
  private close(): void {
    this.state = 'closing';
    this.buf = Buffer.alloc(0);
    this.body = undefined;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
  }
}

export interface MockHttpServerOptions {
  tls?: { key: string; cert: string };
  /** Idle keep-alive connections are closed after this long. Default: 120,000 ms (HTTP.sys). */
  idleTimeoutMs?: number;
}

/** A listening server; `server` emits 'connection' (raw sockets) and, with TLS, 'secureConnection'. */
export function createMockHttpServer(options: MockHttpServerOptions, handler: Handler): Server {
  const idle = options.idleTimeoutMs ?? 120_000;
  if (options.tls) {
    const server = tls.createServer({ key: options.tls.key, cert: options.tls.cert }, (socket) => {
      new HttpConnection(socket, handler, idle);
    });
    server.on('tlsClientError', (_err, socket) => socket.destroy());
    return server;
  }
  return net.createServer((socket) => {
    new HttpConnection(socket, handler, idle);
  });
}
