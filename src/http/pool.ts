/** Bounded pool of channels (one socket each); a request waits for a free one. */
import { AbortError, ConnectionError } from '../errors.ts';
import { type ChannelConfig, type ChannelOptions, HttpChannel } from './channel.ts';

export class ChannelPool {
  private readonly idle: HttpChannel[] = [];
  private readonly all = new Set<HttpChannel>();
  /** Requests waiting for a channel; called with undefined when the pool closes. */
  private readonly waiters: Array<(c: HttpChannel | undefined) => void> = [];
  private closed = false;

  constructor(
    private readonly config: ChannelConfig,
    private readonly size: number,
    private readonly channelOptions: ChannelOptions = {},
  ) {}

  async acquire(signal?: AbortSignal): Promise<HttpChannel> {
    if (this.closed) throw new ConnectionError('The connection is closed');
    const free = this.idle.pop();
    if (free) return free;
    if (this.all.size < this.size) return this.create();
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
      c.destroy();
      this.all.delete(c);
      if (!this.closed && this.waiters.length > 0) this.waiters.shift()!(this.create());
      return;
    }
    const w = this.waiters.shift();
    if (w) w(c);
    else this.idle.push(c);
  }

  close(): void {
    this.closed = true;
    // Requests still waiting for a channel fail now instead of waiting for ever.
    for (const w of this.waiters.splice(0)) w(undefined);
    for (const c of this.all) c.destroy();
    this.all.clear();
    this.idle.length = 0;
  }

  private create(): HttpChannel {
    const c = new HttpChannel(this.config, this.channelOptions);
    this.all.add(c);
    return c;
  }
}
