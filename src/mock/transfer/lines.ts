/** Reading stdin line by line as .NET's TextReader.ReadLine does: '\n' or '\r\n' ends a line, null at the end. */
import type { Readable } from 'node:stream';

/** The process was killed (Signal terminate / ctrl_c, shell deleted) while it waited for input. */
export class ProcessKilled extends Error {}

export class LineReader {
  private readonly iterator: AsyncIterator<Buffer>;
  private chunks: Buffer[] = [];
  private size = 0;
  private ended = false;

  constructor(
    stream: Readable,
    private readonly signal: AbortSignal,
    private readonly maxLine = 64 * 1024 * 1024,
  ) {
    this.iterator = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  async readLine(): Promise<string | null> {
    for (;;) {
      if (this.signal.aborted) throw new ProcessKilled(String(this.signal.reason));
      const last = this.chunks[this.chunks.length - 1];
      const nl = last ? last.indexOf(0x0a) : -1;
      if (nl >= 0) {
        const head = last!.subarray(0, nl);
        const rest = last!.subarray(nl + 1);
        const parts = [...this.chunks.slice(0, -1), head];
        let line = parts.length === 1 ? head : Buffer.concat(parts);
        this.chunks = rest.length > 0 ? [rest] : [];
        this.size = rest.length;
        if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
        return line.toString('latin1');
      }
      if (this.ended) {
        if (this.size === 0) return null;
        const line = Buffer.concat(this.chunks).toString('latin1');
        this.chunks = [];
        this.size = 0;
        return line;
      }
      if (this.size > this.maxLine) throw new Error('OutOfMemoryException: line too long');
      let next: IteratorResult<Buffer>;
      try {
        next = await this.iterator.next();
      } catch {
        next = { done: true, value: undefined };
      }
      if (this.signal.aborted) throw new ProcessKilled(String(this.signal.reason));
      if (next.done) this.ended = true;
      else if (next.value.length > 0) {
        // Earlier chunks hold no '\n' (they were searched when they were newest): only the new one is searched.
        this.chunks.push(next.value);
        this.size += next.value.length;
      }
    }
  }

  /** Read and drop everything left (a process that ignores its input still lets the pipe drain). */
  async drain(): Promise<void> {
    this.chunks = [];
    this.size = 0;
    while (!this.ended) {
      const next = await this.iterator.next().catch(() => ({ done: true as const, value: undefined }));
      if (next.done || this.signal.aborted) this.ended = true;
    }
  }
}
