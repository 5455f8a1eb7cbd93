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
/**
 * `work`, unless `signal` fires first: then the promise rejects at once with `onStop()` (default: the signal's
 * reason). `work` itself goes on; its listener is removed either way.
 */
export function untilStopped<T>(
  work: Promise<T>,
  signal: AbortSignal,
  onStop: () => unknown = () => signal.reason,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(onStop());
    if (signal.aborted) return stop();
    signal.addEventListener('abort', stop, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', stop);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', stop);
        reject(err);
      },
    );
  });
}

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

  /**
   * Start the deadline and follow the caller's AbortSignal. `timeoutMs`: milliseconds left; `totalMs`: the
   * caller's whole timeout, for the message (default: timeoutMs). `killed`: what the message says about the
   * kill (default: 'it was killed').
   */
  arm(
    timeoutMs: number | undefined,
    signal: AbortSignal | undefined,
    totalMs = timeoutMs,
    killed = 'it was killed',
  ): void {
    if (timeoutMs !== undefined) {
      this.timer = setTimeout(
        () => {
          this.abort(
            new TimeoutError(`The command did not finish within ${totalMs} ms; ${killed}`, {
              timeoutMs: totalMs,
            }),
          );
        },
        Math.max(0, timeoutMs),
      );
    }
    if (signal) {
      const onAbort = () =>
        this.abort(new AbortError(`The command was aborted; ${killed}`, { cause: signal.reason }));
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

/**
 * The deadline and abort of one command from the moment it is asked for, shell creation and the Command request
 * included; once the command runs, {@link ProcessLifecycle.arm} takes over with the time left.
 */
export class StartDeadline {
  private readonly controller = new AbortController();
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private readonly onAbort = () =>
    this.controller.abort(new AbortError('aborted', { cause: this.caller?.reason }));

  constructor(
    /** The caller's timeout in milliseconds. */
    readonly timeoutMs: number | undefined,
    private readonly caller: AbortSignal | undefined,
  ) {
    if (timeoutMs !== undefined) {
      this.timer = setTimeout(() => this.controller.abort(new TimeoutError('deadline')), timeoutMs);
    }
    if (caller?.aborted) this.onAbort();
    else caller?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Aborted when the deadline passes or the caller aborts. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Whether `err` is this deadline's own abort reason (or the caller's). */
  isStop(err: unknown): boolean {
    return this.signal.aborted && err === this.signal.reason;
  }

  /** Milliseconds left of the timeout, or undefined without one. */
  remainingMs(): number | undefined {
    return this.timeoutMs === undefined ? undefined : this.timeoutMs - (Date.now() - this.startedAt);
  }

  /** The caller's error for a stop before the command ran; `state` says what was and was not done. */
  error(state: string): WinRmError {
    if (this.caller?.aborted) {
      return new AbortError(`The command was aborted; ${state}`, { cause: this.caller.reason });
    }
    return new TimeoutError(`The command did not finish within ${this.timeoutMs} ms; ${state}`, {
      timeoutMs: this.timeoutMs,
    });
  }

  /** No more timer or listener. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.caller?.removeEventListener('abort', this.onAbort);
  }
}
