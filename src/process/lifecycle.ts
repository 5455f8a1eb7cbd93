/**
 * Process lifecycle, the same for every strategy: a deadline or an abort kills the process; `exited` resolves
 * with the exit code once the output is delivered, or rejects with the typed error while the output streams
 * close without ending (so a caller that only reads the streams gets no uncaught 'error' event).
 */
import type { Readable, Writable } from 'node:stream';
import { AbortError, InvalidArgumentError, TimeoutError, WinRmError } from '../errors.ts';

/** Check a command's `timeout` option (milliseconds). */
export function checkDeadline(timeout: unknown): void {
  if (timeout === undefined) return;
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0 || timeout > 2 ** 31 - 1) {
    throw new InvalidArgumentError(
      `timeout must be a positive number of milliseconds (at most 2147483647), got ${String(timeout)}`,
      { argument: 'timeout' },
    );
  }
}

/** Any thrown value as a WinRmError. */
export function asWinRmError(err: unknown): WinRmError {
  return err instanceof WinRmError ? err : new WinRmError(String(err), { cause: err });
}

export interface ProcessStreams {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
}

export class ProcessLifecycle {
  readonly exited: Promise<number>;
  /** Aborted (with the failure as reason) when the deadline passes, the caller aborts, or the process is killed. */
  readonly stop = new AbortController();
  private resolveExit!: (code: number) => void;
  private rejectExit!: (err: Error) => void;
  private timer: NodeJS.Timeout | undefined;
  #failure: WinRmError | undefined;
  #finished = false;

  constructor(private readonly streams: ProcessStreams) {
    this.exited = new Promise<number>((res, rej) => {
      this.resolveExit = res;
      this.rejectExit = rej;
    });
    this.exited.catch(() => undefined);
  }

  /** Why the process was stopped, if it was. */
  get failure(): WinRmError | undefined {
    return this.#failure;
  }

  get finished(): boolean {
    return this.#finished;
  }

  /** Start the deadline (milliseconds) and follow the caller's AbortSignal. */
  arm(timeoutMs: number | undefined, signal: AbortSignal | undefined): void {
    if (timeoutMs !== undefined) {
      this.timer = setTimeout(() => {
        this.abort(
          new TimeoutError(`The command did not finish within ${timeoutMs} ms; it was killed`, { timeoutMs }),
        );
      }, timeoutMs);
    }
    if (signal) {
      const onAbort = () =>
        this.abort(new AbortError('The command was aborted; it was killed', { cause: signal.reason }));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      this.exited.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => undefined);
    }
  }

  /** Stop the process for `reason` (first reason wins; nothing once it finished). */
  abort(reason: WinRmError): void {
    if (this.#finished || this.stop.signal.aborted) return;
    this.#failure = reason;
    this.stop.abort(reason);
  }

  /** The process is over (its outcome may still be on its way): no deadline, no more aborts. */
  finish(): void {
    this.#finished = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Success: the output streams end, then `exited` resolves. */
  succeed(exitCode: number): void {
    this.finish();
    this.streams.stdout.push(null);
    this.streams.stderr.push(null);
    this.resolveExit(exitCode);
  }

  /** Failure: `exited` rejects with the error, and the streams close without ending. */
  fail(err: WinRmError): void {
    this.finish();
    this.rejectExit(err);
    this.streams.stdout.destroy();
    this.streams.stderr.destroy();
    this.streams.stdin.destroy();
  }
}
