/**
 * Bounded pool of channels (one socket each); a request waits for a free one. With a shared budget (the `budget`
 * option, src/fanout/budget.ts) each channel also holds one of the budget's sockets from creation to destruction,
 * and an idle channel is destroyed rather than kept while another connection waits for a socket.
 */
import { AbortError, ConnectionError } from '../errors.ts';
import type { BudgetLimiter } from '../fanout/budget.ts';
import { type ChannelConfig, type ChannelOptions, HttpChannel } from './channel.ts';

export class ChannelPool {
  private readonly idle: HttpChannel[] = [];
  private readonly all = new Set<HttpChannel>();
  /** Requests waiting for a channel; called with undefined when the pool closes. */
  private readonly waiters: Array<(c: HttpChannel | undefined) => void> = [];
  private closed = false;
  /** Budget sockets being waited for (they count against size). */
  private pending = 0;
  /** Aborts budget waits when the pool closes. */
  private readonly closedSignal = new AbortController();
  private readonly unregister: (() => void) | undefined;

  constructor(
    private readonly config: ChannelConfig,
    private readonly size: number,
    private readonly channelOptions: ChannelOptions = {},
    /** The shared budget's sockets; undefined: only `size` bounds this pool. */
    private readonly sockets?: BudgetLimiter,
  ) {
    this.unregister = sockets?.addReclaimer(() => {
      const c = this.idle.pop();
      if (!c) return false;
      this.drop(c);
      return true;
    });
  }

  /** Destroy a channel and give its budget socket back. */
  private drop(c: HttpChannel): void {
    c.destroy();
    if (this.all.delete(c)) this.sockets?.release();
  }

  async acquire(signal?: AbortSignal): Promise<HttpChannel> {
    if (this.closed) throw new ConnectionError('The connection is closed');
    const free = this.idle.pop();
    if (free) return free;
    if (this.all.size + this.pending < this.size) {
      if (!this.sockets) return this.create();
      this.pending++;
      try {
        await this.sockets.acquire(
          signal ? AbortSignal.any([signal, this.closedSignal.signal]) : this.closedSignal.signal,
        );
      } catch (err) {
        if (this.closed) throw new ConnectionError('The connection is closed');
        throw err;
      } finally {
        this.pending--;
      }
      if (this.closed) {
        this.sockets.release();
        throw new ConnectionError('The connection is closed');
      }
      return this.create();
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(give);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new AbortError('Aborted while waiting for a free connection'));
      };
      const give = (c: HttpChannel | undefined) => {
        signal?.removeEventListener('abort', onAbort);
        if (c) resolve(c);
        else reject(new ConnectionError('The connection is closed'));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(give);
    });
  }

  /** Give a channel back; a broken one is destroyed and, if someone waits, replaced. */
  release(c: HttpChannel, broken = false): void {
    if (broken || this.closed) {
      if (!this.closed && this.waiters.length > 0) {
        // The replacement takes over the broken channel's budget socket.
        c.destroy();
        this.all.delete(c);
        this.waiters.shift()!(this.create());
      } else this.drop(c);
      return;
    }
    const w = this.waiters.shift();
    if (w) w(c);
    else if (this.sockets && this.sockets.waiting > 0) this.drop(c);
    else this.idle.push(c);
  }

  close(): void {
    this.closed = true;
    this.closedSignal.abort();
    // Requests still waiting for a channel fail now instead of waiting for ever.
    for (const w of this.waiters.splice(0)) w(undefined);
    for (const c of [...this.all]) this.drop(c);
    this.unregister?.();
    this.idle.length = 0;
  }

  private create(): HttpChannel {
    const c = new HttpChannel(this.config, this.channelOptions);
    this.all.add(c);
    return c;
  }
}
