/**
 * A TCP proxy that emulates network distance between a client and the mock: every chunk is released `delayMs`
 * after it arrived, in each direction (default 5 ms each way, a 10 ms round trip). Chunks are not serialised
 * behind each other's delays, so a stream keeps its throughput and only latency is added; an optional bandwidth
 * cap serialises them as a link of that speed would. Each client connection maps to exactly one upstream
 * connection (NTLM's connection binding and keep-alive behave as on a real network); FIN and RST are passed on
 * in order, after the same delay. TCP_NODELAY is set on both sides, so no Nagle delay is added on top.
 *
 * A new connection's first client bytes also wait for the TCP handshake's round trip (SYN, SYN-ACK) that the
 * loopback connection to this proxy did not pay: they are released no earlier than 3 x delay after the accept.
 */
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

export interface LatencyProxyOptions {
  /** Where to forward each connection. */
  target: { host: string; port: number };
  /** Delay added to each direction, in milliseconds. Default: 5 (a 10 ms round trip). */
  delayMs?: number;
  /**
   * Bandwidth of each direction of each connection, in bytes per second: a chunk leaves the link only after the
   * ones before it and its own length at this rate. Default: unlimited.
   */
  bytesPerSecond?: number;
  /** Listen address. Default: 127.0.0.1. */
  host?: string;
  /** Listen port; 0 picks a free one. Default: 0. */
  port?: number;
  /**
   * Called once per accepted connection; the returned taps see each direction's bytes as they arrive (before the
   * delay). Used to count HTTP requests. Default: none.
   */
  onConnection?: (id: number) => { up?: (chunk: Buffer) => void; down?: (chunk: Buffer) => void } | undefined;
}

export interface LatencyProxyStats {
  /** Client connections accepted (each got exactly one upstream connection). */
  connections: number;
  /** Connections not yet closed on both sides. */
  open: number;
  /** Bytes from clients to the target. */
  bytesUp: number;
  /** Bytes from the target to clients. */
  bytesDown: number;
}

export interface LatencyProxy {
  readonly host: string;
  readonly port: number;
  stats(): LatencyProxyStats;
  /** Stop listening and destroy every open connection. */
  close(): Promise<void>;
}

/**
 * When a chunk of `bytes` arriving at `now` leaves the proxy: `delayMs` after it has crossed the link, where the
 * link (with a bandwidth cap) is busy until `linkFreeAt` with the chunks before it; never before `notBefore`.
 * Each chunk's delay runs from its own arrival, so chunks are not serialised behind each other's delays.
 */
export function releaseTime(
  now: number,
  bytes: number,
  linkFreeAt: number,
  link: { delayMs: number; bytesPerSecond: number; notBefore: number },
): { at: number; linkFreeAt: number } {
  let sent = now;
  if (link.bytesPerSecond > 0) {
    sent = Math.max(now, linkFreeAt) + (bytes * 1000) / link.bytesPerSecond;
    linkFreeAt = sent;
  }
  return { at: Math.max(sent + link.delayMs, link.notBefore), linkFreeAt };
}

type Item = { at: number; chunk?: Buffer; end?: true; reset?: true };

/** One direction of one connection: a queue of chunks, each released at its own time. */
class DelayedPipe {
  private readonly queue: Item[] = [];
  private timer: NodeJS.Timeout | undefined;
  private linkFreeAt = 0;
  private done = false;

  constructor(
    private readonly src: Socket,
    private readonly dst: Socket,
    readonly delayMs: number,
    readonly bytesPerSecond: number,
    readonly notBefore: number,
    tap: ((chunk: Buffer) => void) | undefined,
    count: (n: number) => void,
  ) {
    src.on('data', (chunk: Buffer) => {
      tap?.(chunk);
      count(chunk.length);
      this.push({ at: this.due(chunk.length), chunk });
    });
    src.on('end', () => this.push({ at: this.due(0), end: true }));
    src.on('error', () => this.push({ at: this.due(0), reset: true }));
    dst.on('drain', () => src.resume());
  }

  private due(bytes: number): number {
    const r = releaseTime(performance.now(), bytes, this.linkFreeAt, this);
    this.linkFreeAt = r.linkFreeAt;
    return r.at;
  }

  private push(item: Item): void {
    if (this.done) return;
    if (item.end || item.reset) this.done = true;
    this.queue.push(item);
    if (this.queue.length === 1) this.schedule();
  }

  private schedule(): void {
    const head = this.queue[0];
    if (!head || this.timer) return;
    // Timers may fire a fraction of a millisecond early against performance.now(): round up and re-check, so no
    // chunk is ever released before its time.
    const wait = head.at - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, Math.ceil(wait));
    } else {
      this.flush();
    }
  }

  private flush(): void {
    const now = performance.now();
    while (this.queue.length > 0 && this.queue[0]!.at <= now) {
      const item = this.queue.shift()!;
      if (item.chunk) {
        if (!this.dst.destroyed && !this.dst.write(item.chunk)) this.src.pause();
      } else if (item.end) {
        if (!this.dst.destroyed) this.dst.end();
      } else if (item.reset) {
        if (!this.dst.destroyed) this.dst.resetAndDestroy();
      }
    }
    this.schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.done = true;
  }
}

export async function startLatencyProxy(options: LatencyProxyOptions): Promise<LatencyProxy> {
  const delayMs = options.delayMs ?? 5;
  const bytesPerSecond = options.bytesPerSecond ?? 0;
  if (!(delayMs >= 0) || !Number.isFinite(delayMs))
    throw new RangeError(`delayMs must be >= 0, got ${delayMs}`);
  if (!(bytesPerSecond >= 0)) throw new RangeError(`bytesPerSecond must be >= 0, got ${bytesPerSecond}`);
  const stats: LatencyProxyStats = { connections: 0, open: 0, bytesUp: 0, bytesDown: 0 };
  const live = new Set<{ client: Socket; upstream: Socket; pipes: DelayedPipe[] }>();

  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const id = ++stats.connections;
    stats.open++;
    const acceptedAt = performance.now();
    client.setNoDelay(true);
    const upstream = connect({
      host: options.target.host,
      port: options.target.port,
      allowHalfOpen: true,
      noDelay: true,
    });
    upstream.setNoDelay(true);
    const taps = options.onConnection?.(id);
    const entry = {
      client,
      upstream,
      pipes: [
        new DelayedPipe(
          client,
          upstream,
          delayMs,
          bytesPerSecond,
          acceptedAt + 3 * delayMs,
          taps?.up,
          (n) => {
            stats.bytesUp += n;
          },
        ),
        new DelayedPipe(upstream, client, delayMs, bytesPerSecond, 0, taps?.down, (n) => {
          stats.bytesDown += n;
        }),
      ],
    };
    live.add(entry);
    let closed = 0;
    const onClose = () => {
      if (++closed === 2) {
        stats.open--;
        live.delete(entry);
      }
    };
    client.once('close', onClose);
    upstream.once('close', onClose);
  });
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  return {
    host: address.address,
    port: address.port,
    stats: () => ({ ...stats }),
    async close() {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const { client, upstream, pipes } of live) {
        for (const p of pipes) p.stop();
        client.destroy();
        upstream.destroy();
      }
      await closing;
    },
  };
}
