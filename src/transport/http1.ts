/**
 * HTTP/1.1 message framing without sockets: the client's response reader and the head writer (RFC 9112).
 * The library speaks HTTP/1.1 on its own sockets because every request of an execute pays node:http's
 * ClientRequest / IncomingMessage / Agent machinery, which measured as a large share of the client's CPU per
 * round trip (docs/architecture.md, "HTTP"). WinRM needs only a small part of HTTP: POST with a Content-Length,
 * answers framed by Content-Length, chunked or connection close, keep-alive on one connection, no pipelining.
 * The reader is fed bytes as they arrive, so it is tested by splitting messages at every position.
 */

export type HeaderMap = Record<string, string | string[] | undefined>;

export class HttpFramingError extends Error {
  override name = 'HttpFramingError';
  /** ERR_RESPONSE_TOO_LARGE when a size limit was crossed, ERR_MALFORMED_RESPONSE otherwise. */
  readonly code: 'ERR_RESPONSE_TOO_LARGE' | 'ERR_MALFORMED_RESPONSE';
  constructor(message: string, tooLarge = false) {
    super(message);
    this.code = tooLarge ? 'ERR_RESPONSE_TOO_LARGE' : 'ERR_MALFORMED_RESPONSE';
  }
}

/** Largest status line plus headers accepted (HTTP.sys answers carry a few hundred bytes). */
export const MAX_HEAD_BYTES = 64 * 1024;

const CRLFCRLF = Buffer.from('\r\n\r\n');
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Header lines (after the start line) into a map of lower-case names; repeated names become arrays. */
export function parseHeaderLines(lines: string[]): HeaderMap {
  const headers: HeaderMap = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HttpFramingError(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon);
    if (!TOKEN.test(name))
      throw new HttpFramingError(`malformed header name ${JSON.stringify(name.slice(0, 80))}`);
    const key = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers[key];
    headers[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return headers;
}

/** The one value of a header that must not repeat (Content-Length), or undefined. */
function single(headers: HeaderMap, name: string): string | undefined {
  const v = headers[name];
  if (Array.isArray(v)) {
    if (new Set(v).size > 1) throw new HttpFramingError(`conflicting ${name} headers`);
    return v[0];
  }
  return v;
}

/** Body framing of a message whose head is parsed (RFC 9112 6.3). */
export type Framing = { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

export function framingOf(headers: HeaderMap, noBody: boolean): Framing {
  if (noBody) return { kind: 'length', length: 0 };
  const te = headers['transfer-encoding'];
  if (te !== undefined) {
    const codings = (Array.isArray(te) ? te.join(',') : te)
      .toLowerCase()
      .split(',')
      .map((s) => s.trim());
    if (codings.at(-1) !== 'chunked') return { kind: 'close' };
    if (codings.some((c) => c !== 'chunked' && c !== 'identity')) {
      throw new HttpFramingError(`unsupported transfer coding ${codings.join(', ')}`);
    }
    return { kind: 'chunked' };
  }
  const cl = single(headers, 'content-length');
  if (cl !== undefined) {
    if (!/^\d{1,15}$/.test(cl)) throw new HttpFramingError(`malformed Content-Length ${JSON.stringify(cl)}`);
    return { kind: 'length', length: Number(cl) };
  }
  return { kind: 'close' };
}

export interface ParsedResponse {
  status: number;
  /** HTTP/1.0, or `Connection: close`: the connection ends with this response. */
  close: boolean;
  headers: HeaderMap;
  body: Buffer;
}

/**
 * Incremental reader of one HTTP/1.1 response (1xx interim responses are skipped). `push` returns the response
 * once complete; bytes after it are kept in `rest` (a server must not send any: the caller drops the connection).
 */
export class ResponseReader {
  private pending: Buffer = Buffer.alloc(0);
  private head: { status: number; close: boolean; headers: HeaderMap; framing: Framing } | undefined;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  // chunked state
  private chunkLeft = -1; // -1: expecting a size line; 0: expecting the CRLF after data; >0: data bytes left
  private trailers = false;
  rest: Buffer = Buffer.alloc(0);

  constructor(
    private readonly maxBodyBytes: number,
    /** HEAD requests and the like: a response without a body whatever its headers say. */
    private readonly bodyless = false,
  ) {}

  push(data: Buffer): ParsedResponse | undefined {
    this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    for (;;) {
      if (!this.head) {
        const end = this.pending.indexOf(CRLFCRLF);
        if (end < 0) {
          if (this.pending.length > MAX_HEAD_BYTES)
            throw new HttpFramingError('response head too large', true);
          return undefined;
        }
        if (end > MAX_HEAD_BYTES) throw new HttpFramingError('response head too large', true);
        const lines = this.pending.toString('latin1', 0, end).split('\r\n');
        this.pending = this.pending.subarray(end + 4);
        const m = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(lines[0]!);
        if (!m) throw new HttpFramingError(`malformed status line ${JSON.stringify(lines[0]!.slice(0, 80))}`);
        const status = Number(m[2]);
        const headers = parseHeaderLines(lines.slice(1));
        if (status >= 100 && status < 200) continue; // interim response; the final one follows
        const conn = String(headers.connection ?? '').toLowerCase();
        const close = m[1] === '0' ? !/\bkeep-alive\b/.test(conn) : /\bclose\b/.test(conn);
        const noBody = this.bodyless || status === 204 || status === 304;
        this.head = { status, close, headers, framing: framingOf(headers, noBody) };
      }
      return this.body();
    }
  }

  /** The peer closed the connection: completes a close-delimited body, anything else is truncated. */
  end(): ParsedResponse {
    if (this.head?.framing.kind === 'close') {
      this.take(this.pending);
      this.pending = Buffer.alloc(0);
      return this.finish(true);
    }
    throw Object.assign(new Error('the server closed the connection before the response was complete'), {
      code: 'ECONNRESET',
    });
  }

  private take(b: Buffer): void {
    if (b.length === 0) return;
    this.size += b.length;
    if (this.size > this.maxBodyBytes) {
      throw new HttpFramingError(`response larger than ${this.maxBodyBytes} bytes`, true);
    }
    this.chunks.push(b);
  }

  private finish(close: boolean): ParsedResponse {
    const h = this.head!;
    return {
      status: h.status,
      close: close || h.close,
      headers: h.headers,
      body: this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size),
    };
  }

  private body(): ParsedResponse | undefined {
    const f = this.head!.framing;
    if (f.kind === 'close') {
      this.take(this.pending);
      this.pending = Buffer.alloc(0);
      return undefined;
    }
    if (f.kind === 'length') {
      const need = f.length - this.size;
      if (need > this.maxBodyBytes - this.size) {
        throw new HttpFramingError(`response larger than ${this.maxBodyBytes} bytes`, true);
      }
      if (this.pending.length < need) {
        this.take(this.pending);
        this.pending = Buffer.alloc(0);
        return undefined;
      }
      this.take(this.pending.subarray(0, need));
      this.rest = this.pending.subarray(need);
      this.pending = Buffer.alloc(0);
      return this.finish(false);
    }
    return this.chunked();
  }

  private chunked(): ParsedResponse | undefined {
    for (;;) {
      if (this.trailers) {
        // Trailer fields end with an empty line; their content is ignored.
        const eol = this.pending.indexOf('\r\n');
        if (eol < 0) {
          if (this.pending.length > MAX_HEAD_BYTES)
            throw new HttpFramingError('chunked trailers too large', true);
          return undefined;
        }
        const line = this.pending.subarray(0, eol);
        this.pending = this.pending.subarray(eol + 2);
        if (line.length === 0) {
          this.rest = this.pending;
          this.pending = Buffer.alloc(0);
          return this.finish(false);
        }
        continue;
      }
      if (this.chunkLeft > 0) {
        const n = Math.min(this.chunkLeft, this.pending.length);
        if (n === 0) return undefined;
        this.take(this.pending.subarray(0, n));
        this.pending = this.pending.subarray(n);
        this.chunkLeft -= n;
        if (this.chunkLeft > 0) return undefined;
        this.chunkLeft = 0;
      }
      if (this.chunkLeft === 0) {
        if (this.pending.length < 2) return undefined;
        if (this.pending[0] !== 0x0d || this.pending[1] !== 0x0a)
          throw new HttpFramingError('malformed chunk end');
        this.pending = this.pending.subarray(2);
        this.chunkLeft = -1;
      }
      const eol = this.pending.indexOf('\r\n');
      if (eol < 0) {
        if (this.pending.length > 1024) throw new HttpFramingError('malformed chunk size line');
        return undefined;
      }
      const sizeText = this.pending.toString('latin1', 0, eol).split(';')[0]!.trim();
      if (!/^[0-9A-Fa-f]{1,12}$/.test(sizeText)) {
        throw new HttpFramingError(`malformed chunk size ${JSON.stringify(sizeText.slice(0, 20))}`);
      }
      const size = Number.parseInt(sizeText, 16);
      this.pending = this.pending.subarray(eol + 2);
      if (size === 0) this.trailers = true;
      else {
        if (size > this.maxBodyBytes - this.size) {
          throw new HttpFramingError(`response larger than ${this.maxBodyBytes} bytes`, true);
        }
        this.chunkLeft = size;
      }
    }
  }
}

/** The request line and headers of a POST, ready to write before its body. Values must not contain CR or LF. */
export function requestHead(path: string, headers: Record<string, string>, bodyLength: number): string {
  let head = `POST ${path} HTTP/1.1\r\n`;
  for (const name in headers) {
    const value = headers[name]!;
    if (!TOKEN.test(name) || /[\r\n\0]/.test(value)) {
      throw new TypeError(`invalid HTTP header ${JSON.stringify(name)}`);
    }
    if (name.toLowerCase() === 'content-length') continue;
    head += `${name}: ${value}\r\n`;
  }
  return `${head}Content-Length: ${bodyLength}\r\n\r\n`;
}
