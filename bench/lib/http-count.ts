/**
 * Counts HTTP/1.1 requests in one connection's client-to-server byte stream, as the latency proxy sees it: read a
 * head up to the blank line, skip the body by its Content-Length (or its chunked framing), repeat. It counts
 * what went over the wire, independent of either client's own bookkeeping.
 */
export class HttpRequestCounter {
  /** Complete request heads seen. */
  requests = 0;
  /** Set when the stream could not be framed (then `requests` is a lower bound). */
  broken: string | undefined;
  private head: Buffer = Buffer.alloc(0);
  private bodyLeft = 0;
  private chunked = false;
  private chunkLine: Buffer = Buffer.alloc(0);
  private chunkTrailer = false;

  push(chunk: Buffer): void {
    let data = chunk;
    while (data.length > 0 && !this.broken) {
      if (this.bodyLeft > 0) {
        const n = Math.min(this.bodyLeft, data.length);
        this.bodyLeft -= n;
        data = data.subarray(n);
        continue;
      }
      if (this.chunked) {
        data = this.chunkStep(data);
        continue;
      }
      this.head = this.head.length === 0 ? data : Buffer.concat([this.head, data]);
      const end = this.head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.head.length > 65536) this.broken = 'request head over 64 KiB';
        return;
      }
      const text = this.head.subarray(0, end).toString('latin1');
      data = this.head.subarray(end + 4);
      this.head = Buffer.alloc(0);
      this.requests++;
      if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(text)) {
        this.chunked = true;
        continue;
      }
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(text);
      this.bodyLeft = m ? Number(m[1]) : 0;
    }
  }

  /** Chunked framing: size line, data, CRLF; a zero size ends it (trailers up to a blank line). */
  private chunkStep(data: Buffer): Buffer {
    this.chunkLine = Buffer.concat([this.chunkLine, data]);
    const eol = this.chunkLine.indexOf('\r\n');
    if (eol < 0) return Buffer.alloc(0);
    const line = this.chunkLine.subarray(0, eol).toString('latin1');
    const rest = this.chunkLine.subarray(eol + 2);
    this.chunkLine = Buffer.alloc(0);
    if (this.chunkTrailer) {
      if (line === '') {
        this.chunked = false;
        this.chunkTrailer = false;
      }
      return rest;
    }
    const size = Number.parseInt(line, 16);
    if (!Number.isFinite(size)) {
      this.broken = `bad chunk size line ${JSON.stringify(line.slice(0, 20))}`;
      return Buffer.alloc(0);
    }
    if (size === 0) this.chunkTrailer = true;
    else this.bodyLeft = size + 2;
    return rest;
  }
}
