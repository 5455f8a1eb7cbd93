/** Option checks and the caller's stop conditions (AbortSignal, overall deadline) shared by every transfer. */

import type { TransferOptions } from '../connection.ts';
import { InvalidArgumentError } from '../errors.ts';

/** Largest chunkSize accepted: a data line must stay far below the 64 MiB line limit. */
export const MAX_CHUNK = 32 * 1024 * 1024;

/** Largest `streams` accepted: 16 (each stream is a remote process in its own shell). */
export const MAX_STREAMS = 16;

export function checkOptions(options: TransferOptions): void {
  const { timeout, chunkSize, onProgress, overwrite, streams } = options;
  if (streams !== undefined && (!Number.isInteger(streams) || streams < 1 || streams > MAX_STREAMS)) {
    throw new InvalidArgumentError(`streams must be an integer from 1 to ${MAX_STREAMS}, got ${streams}`, {
      argument: 'streams',
      remedy: 'leave it unset for 4, or pass 1 for one remote process per transfer',
    });
  }
  if (timeout !== undefined && (!Number.isFinite(timeout) || timeout <= 0)) {
    throw new InvalidArgumentError(`timeout must be a positive number of milliseconds, got ${timeout}`, {
      argument: 'timeout',
    });
  }
  if (chunkSize !== undefined && (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK)) {
    throw new InvalidArgumentError(`chunkSize must be an integer from 1 to ${MAX_CHUNK}, got ${chunkSize}`, {
      argument: 'chunkSize',
      remedy: 'leave it unset to fill each Send envelope',
    });
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new InvalidArgumentError('onProgress must be a function', { argument: 'onProgress' });
  }
  if (overwrite !== undefined && typeof overwrite !== 'boolean') {
    throw new InvalidArgumentError(`overwrite must be true or false, got ${String(overwrite)}`, {
      argument: 'overwrite',
    });
  }
}

/** 'close': the connection's close() began while the transfer ran (TransferPeer.closing). */
export type StopReason = 'abort' | 'timeout' | 'close';

/** Turns the AbortSignal, the deadline and the connection's close() into one stop notification. */
export class StopControl {
  reason: StopReason | undefined;
  cause: unknown;
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private readonly onAbort = () => this.stop('abort', this.signal?.reason);
  private readonly onClose = () => this.stop('close', undefined);

  constructor(
    private readonly signal: AbortSignal | undefined,
    readonly timeoutMs: number | undefined,
    private readonly closing?: AbortSignal,
  ) {
    if (timeoutMs !== undefined) this.timer = setTimeout(() => this.stop('timeout', undefined), timeoutMs);
    if (signal?.aborted) this.stop('abort', signal.reason);
    else signal?.addEventListener('abort', this.onAbort, { once: true });
    if (closing?.aborted) this.stop('close', undefined);
    else closing?.addEventListener('abort', this.onClose, { once: true });
  }

  get stopped(): boolean {
    return this.reason !== undefined;
  }

  /** Call `fn` once when a stop is requested (at once if it already was). Returns an unsubscribe function. */
  onStop(fn: () => void): () => void {
    if (this.reason) {
      fn();
      return () => undefined;
    }
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private stop(reason: StopReason, cause: unknown): void {
    if (this.reason) return;
    this.reason = reason;
    this.cause = cause;
    for (const fn of [...this.listeners]) fn();
    this.listeners.clear();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    this.closing?.removeEventListener('abort', this.onClose);
  }
}
