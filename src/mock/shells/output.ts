/**
 * Per-command output queue between a command host and Receive. Keeps chunk order across streams (Windows sends
 * stdout and stderr in the order they were written), bounds memory (writers wait while the queue is over its
 * limit, so a client that does not Receive pauses the host) and wakes a waiting Receive when data arrives.
 */

export interface OutputChunk {
  stream: string;
  data: Buffer;
}

export class OutputQueue {
  private readonly chunks: OutputChunk[] = [];
  private queued = 0;
  private readonly drainWaiters: Array<() => void> = [];
  private readonly dataWaiters = new Set<() => void>();
  private closed = false;
  /** Total bytes ever written, per stream. */
  readonly written: Record<string, number> = {};

  /** @param limit bytes queued before writers wait. */
  constructor(private readonly limit: number) {}

  get size(): number {
    return this.queued;
  }

  get isEmpty(): boolean {
    return this.chunks.length === 0;
  }

  /** Queue data; resolves when the queue is below its limit again (immediately if it already is). */
  write(stream: string, data: Buffer): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (data.length > 0) {
      this.written[stream] = (this.written[stream] ?? 0) + data.length;
      const last = this.chunks[this.chunks.length - 1];
      // Merge small consecutive writes of one stream so a response carries few Stream elements.
      if (last && last.stream === stream && last.data.length + data.length <= 65_536) {
        last.data = Buffer.concat([last.data, data]);
      } else {
        this.chunks.push({ stream, data });
      }
      this.queued += data.length;
      this.wake();
    }
    if (this.queued <= this.limit) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** The oldest queued chunk, without removing it. */
  peek(): OutputChunk | undefined {
    return this.chunks[0];
  }

  /** Remove and return up to `n` bytes from the oldest chunk. */
  consume(n: number): Buffer {
    const head = this.chunks[0];
    if (!head) return Buffer.alloc(0);
    let out: Buffer;
    if (n >= head.data.length) {
      this.chunks.shift();
      out = head.data;
    } else {
      out = head.data.subarray(0, n);
      head.data = head.data.subarray(n);
    }
    this.queued -= out.length;
    if (this.queued <= this.limit) this.releaseWriters();
    return out;
  }

  /** Resolves when data is queued or `wakeAll` is called; returns a canceller. */
  onData(listener: () => void): () => void {
    this.dataWaiters.add(listener);
    return () => this.dataWaiters.delete(listener);
  }

  /** Wake waiting Receives without data (the command finished, was signalled, ...). */
  wake(): void {
    for (const w of [...this.dataWaiters]) w();
  }

  /** Drop queued data and release writers: the command is gone. */
  close(): void {
    this.closed = true;
    this.chunks.length = 0;
    this.queued = 0;
    this.releaseWriters();
    this.wake();
  }

  private releaseWriters(): void {
    for (const w of this.drainWaiters.splice(0)) w();
  }
}
