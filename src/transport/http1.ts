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
const EMPTY = Buffer.alloc(0);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// Field values: visible characters, SP, HTAB and obs-text; any other control (bare CR or LF, NUL) is refused
// (RFC 9110 5.5), as is whitespace other than SP/HTAB around the value (no trim() of VT or U+00A0).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const BAD_VALUE = /[\u0000-\u0008\u000A-\u001F\u007F]/;
const OWS = /^[ \t]+|[ \t]+$/g;

/** Header lines (after the start line) into a map of lower-case names; repeated names become arrays. */
export function parseHeaderLines(lines: string[]): HeaderMap {
  const headers: HeaderMap = Object.create(null) as HeaderMap;
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HttpFramingError(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon);
    if (!TOKEN.test(name))
      throw new HttpFramingError(`malformed header name ${JSON.stringify(name.slice(0, 80))}`);
    const raw = line.slice(colon + 1);
    if (BAD_VALUE.test(raw))
      throw new HttpFramingError(`control character in header ${JSON.stringify(name)}`);
    const key = name.toLowerCase();
    const value = raw.replace(OWS, '');
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
 * Incremental reader of one message body in a given framing. `push` consumes what belongs to the body and
 * returns the bytes after it once the body is complete (undefined while more is needed). Size limits apply
 * before anything is buffered; with `discard` the bytes are counted and dropped (a refused request's body).
 */
export class BodyReader {
  readonly chunks: Buffer[] = [];
  size = 0;
  private pending: Buffer = EMPTY;
  // chunked: -1 expects a size line, 0 the CRLF after data, > 0 the data bytes still to come
  private chunkLeft = -1;
  private trailers = false;

  constructor(
    readonly framing: Framing,
    private readonly maxBytes: number,
    private readonly tooLarge: (limit: number) => Error,
    private discard = false,
  ) {
    if (framing.kind === 'length' && framing.length > maxBytes && !discard) throw tooLarge(maxBytes);
  }

  /** From now on count the bytes but keep none (a request answered before its body was read). */
  startDiscarding(): void {
    this.discard = true;
    this.chunks.length = 0;
  }

  /** The complete body (call once `push` has returned the rest). */
  body(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
  }

  push(data: Buffer): Buffer | undefined {
    const f = this.framing;
    if (f.kind === 'close') {
      this.take(data);
      return undefined;
    }
    if (f.kind === 'length') {
      const need = f.length - this.size;
      if (data.length < need) {
        this.take(data);
        return undefined;
      }
      this.take(data.subarray(0, need));
      return data.subarray(need);
    }
    this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    return this.chunked();
  }

  private take(b: Buffer): void {
    if (b.length === 0) return;
    this.size += b.length;
    if (this.discard) return;
    if (this.size > this.maxBytes) throw this.tooLarge(this.maxBytes);
    this.chunks.push(b);
  }

  private chunked(): Buffer | undefined {
    for (;;) {
      if (this.trailers) {
        // Trailer fields end with an empty line; their content is ignored.
        const eol = this.pending.indexOf('\r\n');
        if (eol < 0) {
          if (this.pending.length > MAX_HEAD_BYTES) throw this.tooLarge(MAX_HEAD_BYTES);
          return undefined;
        }
        const empty = eol === 0;
        this.pending = this.pending.subarray(eol + 2);
        if (empty) return this.pending;
        continue;
      }
      if (this.chunkLeft > 0) {
        const n = Math.min(this.chunkLeft, this.pending.length);
        if (n === 0) return undefined;
        this.take(this.pending.subarray(0, n));
        this.pending = this.pending.subarray(n);
        this.chunkLeft -= n;
        if (this.chunkLeft > 0) return undefined;
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
      // chunk-size [ chunk-ext ]: hex digits first, extensions are ignored but must be plain text.
      const line = this.pending.toString('latin1', 0, eol);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: extensions must not carry control characters
      const m = /^([0-9A-Fa-f]{1,12})(?:[ \t]*;[^\u0000-\u0008\u000A-\u001F\u007F]*)?$/.exec(line);
      if (!m) throw new HttpFramingError(`malformed chunk size ${JSON.stringify(line.slice(0, 20))}`);
      const sizeText = m[1]!;
      const size = Number.parseInt(sizeText, 16);
      this.pending = this.pending.subarray(eol + 2);
      if (size === 0) this.trailers = true;
      else {
        if (size > this.maxBytes - this.size && !this.discard) throw this.tooLarge(this.maxBytes);
        this.chunkLeft = size;
      }
    }
  }
}

/** Splits off a message head (start line + headers) once its blank line has arrived. */
export function takeHead(buf: Buffer): { lines: string[]; rest: Buffer } | undefined {
  const end = buf.indexOf(CRLFCRLF);
  if (end < 0) {
    if (buf.length > MAX_HEAD_BYTES) throw new HttpFramingError('message head too large', true);
    return undefined;
  }
  if (end > MAX_HEAD_BYTES) throw new HttpFramingError('message head too large', true);
  return { lines: buf.toString('latin1', 0, end).split('\r\n'), rest: buf.subarray(end + 4) };
}

const responseTooLarge = (limit: number) => new HttpFramingError(`response larger than ${limit} bytes`, true);

/**
 * Incremental reader of one HTTP/1.1 response (1xx interim responses are skipped). `push` returns the response
 * once complete; bytes after it are kept in `rest` (a server must not send any: the caller drops the connection).
 */
export class ResponseReader {
  private pending: Buffer = EMPTY;
  private head: { status: number; close: boolean; headers: HeaderMap } | undefined;
  private reader: BodyReader | undefined;
  rest: Buffer = EMPTY;

  constructor(
    private readonly maxBodyBytes: number,
    /** HEAD requests and the like: a response without a body whatever its headers say. */
    private readonly bodyless = false,
  ) {}

  push(data: Buffer): ParsedResponse | undefined {
    if (this.reader) return this.feed(data);
    this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    for (;;) {
      const head = takeHead(this.pending);
      if (!head) return undefined;
      this.pending = head.rest;
      const m = /^HTTP\/1\.([01]) (\d{3})(?: .*)?$/.exec(head.lines[0]!);
      if (!m)
        throw new HttpFramingError(`malformed status line ${JSON.stringify(head.lines[0]!.slice(0, 80))}`);
      const status = Number(m[2]);
      const headers = parseHeaderLines(head.lines.slice(1));
      if (status >= 100 && status < 200) continue; // interim response; the final one follows
      const conn = String(headers.connection ?? '').toLowerCase();
      // Transfer-Encoding beside Content-Length: the body is read as chunked and the connection is not reused
      // (RFC 9112 6.1), so a disagreement cannot desynchronize the next answer.
      const both = headers['transfer-encoding'] !== undefined && headers['content-length'] !== undefined;
      const close = both || (m[1] === '0' ? !/\bkeep-alive\b/.test(conn) : /\bclose\b/.test(conn));
      const noBody = this.bodyless || status === 204 || status === 304;
      this.head = { status, close, headers };
      this.reader = new BodyReader(framingOf(headers, noBody), this.maxBodyBytes, responseTooLarge);
      const rest = this.pending;
      this.pending = EMPTY;
      return this.feed(rest);
    }
  }

  private feed(data: Buffer): ParsedResponse | undefined {
    const rest = this.reader!.push(data);
    if (rest === undefined) return undefined;
    this.rest = rest;
    return this.finish(false);
  }

  /** The peer closed the connection: completes a close-delimited body, anything else is truncated. */
  end(): ParsedResponse {
    if (this.reader?.framing.kind === 'close') return this.finish(true);
    throw Object.assign(new Error('the server closed the connection before the response was complete'), {
      code: 'ECONNRESET',
    });
  }

  private finish(close: boolean): ParsedResponse {
    const h = this.head!;
    return { status: h.status, close: close || h.close, headers: h.headers, body: this.reader!.body() };
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
