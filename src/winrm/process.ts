/**
 * One remote command over WinRS: Command, stdin Sends, the Receive loop, Signal, with back-pressure both ways.
 *
 * Receive loop: w:TimedOut (2150858793) only means "no output within OperationTimeout", so Receive is sent again;
 * the caller's deadline (timeout / AbortSignal) is separate and kills the command. Output is pushed into the
 * stdout/stderr Readables; when a consumer stops reading, the loop stops polling until it reads again, so memory
 * stays bounded by the streams' high-water marks plus one response. A Receive answered at once with "Running" and
 * no output is followed by the next after 0, then 50, 100, 200, ... ms, at most 1000 ms (receiveBackoffMs);
 * any output, or a w:TimedOut (the server held the poll), resets the wait to 0.
 *
 * Deadline and abort: the caller hears at once (the error says what was not confirmed); the kill (ctrl_c, then
 * terminate; each Signal bounded by cleanupTimeout) goes on and decides whether the shell is reused (terminate
 * confirmed) or deleted.
 */
import { Readable, Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import type { RemoteProcess, RemoteSignal } from '../connection.ts';
import { AbortError, ProtocolError, TimeoutError, type WinRmError } from '../errors.ts';
import { asWinRmError, ProcessLifecycle, type StartDeadline, untilStopped } from '../process/lifecycle.ts';
import type { ReceiveResult } from '../wsman/actions/receive.ts';
import { sendPayloadCapacity } from '../wsman/actions/send.ts';
import { COMMAND, RECEIVE, SEND, SIGNAL } from './actions.ts';
import { faultAction } from './policy.ts';
import type { WsmanClient } from './wsman-client.ts';

const STREAM_HIGH_WATER = 1024 * 1024;

export interface ProcessHooks {
  /** Called once when the command failed and was cleaned up; `healthy` says whether the shell can be reused. */
  onSettled(healthy: boolean): void;
  /**
   * Called once when the command completed: its output is delivered, and its terminate Signal is on its way
   * (`cleanup` resolves to whether it succeeded). The shell may run the next command meanwhile, which saves a
   * round trip per command without sending fewer messages.
   */
  onCompleted(cleanup: Promise<boolean>): void;
  /**
   * Whether the command's shell is about to be deleted (its connection is closing). A completed command is then
   * not sent its terminate: the Delete frees it with the shell ([MS-WSMV] 3.1.4.4.1), one round trip fewer.
   */
  shellEnding(): boolean;
  /** Cleanup that goes on after the caller heard the outcome (kill Signals after a deadline): close() waits. */
  track(work: Promise<unknown>): void;
}

export interface StartParams {
  shellId: string;
  commandLine: string;
  /** The command's deadline and abort, running since the command was asked for. */
  deadline: StartDeadline;
  /** The caller's AbortSignal. */
  signal?: AbortSignal;
  /** Bound of each cleanup request (Signal, the late Command answer), milliseconds. */
  cleanupTimeoutMs: number;
}

/**
 * Errors of startRemoteProcess after which the shell is no longer the caller's: a background task terminates
 * the command the abort overtook and then releases the shell (or deletes it).
 */
export const SHELL_HANDED_OFF = new WeakSet<Error>();

/** Idle Receive back-off: polls answered at once with no output wait 0, 50, 100, ... ms, at most this. */
export const RECEIVE_BACKOFF_MAX_MS = 1000;
const RECEIVE_BACKOFF_FIRST_MS = 50;

/** Milliseconds to wait before the next Receive after `idle` answers in a row without output (0 first). */
export function receiveBackoffMs(idle: number): number {
  if (idle <= 0) return 0;
  return Math.min(RECEIVE_BACKOFF_MAX_MS, RECEIVE_BACKOFF_FIRST_MS * 2 ** (idle - 1));
}

/**
 * Start the command (one Command request) and return the live process. The Command itself is not cut short by
 * an abort or the deadline: it may have reached the server, and only its answer names the process. The caller
 * hears of the stop at once; the answer is awaited (at most cleanupTimeoutMs) and the command terminated, and
 * when that cannot be confirmed the shell is deleted (deleting a shell ends its processes, [MS-WSMV] 3.1.4.11).
 */
export async function startRemoteProcess(
  client: WsmanClient,
  params: StartParams,
  hooks: ProcessHooks,
): Promise<RemoteProcessImpl> {
  const { deadline } = params;
  if (deadline.signal.aborted) throw deadline.error('no Command was sent');
  const late = new AbortController();
  const sent = client.invoke(
    COMMAND,
    { shellId: params.shellId, command: params.commandLine },
    { signal: late.signal },
  );
  let commandId: string;
  try {
    ({ commandId } = await untilStopped(sent, deadline.signal));
  } catch (err) {
    if (!deadline.isStop(err)) throw err;
    const timer = setTimeout(() => late.abort(), params.cleanupTimeoutMs);
    hooks.track(
      sent
        .then(({ commandId: id }) => {
          clearTimeout(timer);
          return client.invoke(
            SIGNAL,
            { shellId: params.shellId, commandId: id, signal: 'terminate' },
            { what: 'Signal terminate', signal: AbortSignal.timeout(params.cleanupTimeoutMs) },
          );
        })
        .then(
          () => hooks.onSettled(true),
          () => hooks.onSettled(false),
        )
        .finally(() => clearTimeout(timer)),
    );
    const e = deadline.error(
      'the Command was in flight: terminate follows its answer, else its shell is deleted (not confirmed)',
    );
    SHELL_HANDED_OFF.add(e);
    throw e;
  }
  // From here the process lifecycle keeps the deadline (the time left of it) and follows the caller's signal.
  deadline.dispose();
  const proc = new RemoteProcessImpl(client, params, commandId, hooks);
  proc.begin();
  return proc;
}

export class RemoteProcessImpl implements RemoteProcess {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly exited: Promise<number>;
  /** Deadline, abort and exit semantics, shared with every strategy. */
  private readonly life: ProcessLifecycle;
  private demand: (() => void) | undefined;
  private readonly signalsSent: RemoteSignal[] = [];
  private readonly capacity: number;
  /** A Send with End="true" went out (with the last chunk, or empty from final()). */
  private endSent = false;

  constructor(
    private readonly client: WsmanClient,
    private readonly params: StartParams,
    readonly commandId: string,
    private readonly hooks: ProcessHooks,
  ) {
    const wake = () => {
      const d = this.demand;
      this.demand = undefined;
      d?.();
    };
    this.stdout = new Readable({ highWaterMark: STREAM_HIGH_WATER, read: wake });
    this.stderr = new Readable({ highWaterMark: STREAM_HIGH_WATER, read: wake });
    this.capacity = sendPayloadCapacity(client.context(), params.shellId, commandId, client.envelopeReserve);
    this.stdin = new Writable({
      highWaterMark: this.capacity,
      write: (chunk: Buffer, _enc, cb) => {
        // One tick later the stream knows whether end() followed this write (`stdin.end(data)`): the last chunk
        // then carries End="true" itself, and final() sends nothing, one Send and one round trip fewer.
        process.nextTick(() => {
          const last = this.stdin.writableEnded && this.stdin.writableLength === chunk.length;
          if (last) this.endSent = true;
          this.sendStdin(chunk, last).then(
            () => cb(),
            (err: Error) => {
              this.life.abort(asWinRmError(err));
              cb(err);
            },
          );
        });
      },
      final: (cb) => {
        if (this.endSent) return cb();
        this.endSent = true;
        this.sendStdin(Buffer.alloc(0), true).then(() => cb(), cb);
      },
    });
    this.life = new ProcessLifecycle(this);
    this.exited = this.life.exited;
  }

  private get finished(): boolean {
    return this.life.finished;
  }

  private get stop(): AbortController {
    return this.life.stop;
  }

  /** Start the Receive loop and the deadline (the time left of it). */
  begin(): void {
    const d = this.params.deadline;
    this.life.arm(
      d.remainingMs(),
      this.params.signal,
      d.timeoutMs,
      'kill sent (ctrl_c, terminate), not confirmed',
    );
    void this.receiveLoop();
  }

  private async sendStdin(data: Buffer, end: boolean): Promise<void> {
    let offset = 0;
    do {
      const part = data.subarray(offset, offset + this.capacity);
      offset += part.length;
      const last = end && offset >= data.length;
      if (this.finished && !last) return;
      try {
        await this.client.invoke(
          SEND,
          { shellId: this.params.shellId, commandId: this.commandId, data: part, end: last },
          { signal: this.stop.signal },
        );
      } catch (err) {
        // Input for a command that already ended is not an error for the caller.
        if (this.finished || faultAction('cleanup', err) === 'ignore') return;
        throw err;
      }
    } while (offset < data.length);
  }

  private waitForDemand(): Promise<void> {
    if (this.stdout.readableLength < STREAM_HIGH_WATER && this.stderr.readableLength < STREAM_HIGH_WATER) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const signal = this.stop.signal;
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.demand = done; // a slow reader waits here often: each wait removes its own listener
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private async receiveLoop(): Promise<void> {
    let exitCode: number | undefined;
    let idle = 0;
    try {
      while (exitCode === undefined) {
        await this.waitForDemand();
        if (idle > 0) await this.pause(receiveBackoffMs(idle));
        if (this.stop.signal.aborted) throw this.life.failure ?? new AbortError();
        let result: ReceiveResult;
        try {
          result = await this.client.invoke(
            RECEIVE,
            { shellId: this.params.shellId, commandId: this.commandId },
            { signal: this.stop.signal },
          );
        } catch (err) {
          if (faultAction('receive', err) === 'poll-again' && !this.stop.signal.aborted) {
            idle = 0; // the server held this poll for OperationTimeout: no need to wait before the next
            continue;
          }
          throw this.stop.signal.aborted && this.life.failure ? this.life.failure : err;
        }
        // A server answering "Running" at once with nothing (seen with some WinRM hosts, e.g. OMI) is polled
        // with back-off, reset by any output: see receiveBackoffMs.
        idle = result.chunks.some((c) => c.data.length > 0) ? 0 : idle + 1;
        for (const c of result.chunks) {
          if (c.data.length === 0) continue;
          if (c.name === 'stdout') this.stdout.push(c.data);
          else if (c.name === 'stderr') this.stderr.push(c.data);
        }
        if (result.state === 'Done') {
          if (result.exitCode === undefined)
            throw new ProtocolError('The command is Done but has no ExitCode');
          exitCode = result.exitCode;
        }
      }
      this.life.finish();
      this.settled = true;
      // The terminate goes out on the next turn of the event loop: a caller that runs its next command as soon as
      // this one resolves has that Command written first, so the server answers it before handling the Signal,
      // and handles the Signal while this side reads the answer. A caller that closes the connection instead
      // (connect, execute, close) has the shell's Delete end the command, with no Signal before it.
      this.hooks.onCompleted(
        new Promise<void>((r) => setImmediate(r)).then(() =>
          this.hooks.shellEnding() ? true : this.cleanup(undefined),
        ),
      );
      this.life.succeed(exitCode);
    } catch (err) {
      this.life.finish();
      const e = asWinRmError(err);
      const cleanup = this.cleanup(e);
      // The error is reported once, through `exited`; the streams just stop (close without end).
      if (e === this.life.failure) {
        // Stopped (deadline, abort, kill('terminate')): the caller hears at once, as the deadline promises, and
        // the message says the kill is not confirmed; the Signals go on (bounded) and decide the shell's fate.
        this.life.fail(e);
        this.hooks.track(cleanup.then((healthy) => this.settle(healthy)));
        return;
      }
      const healthy = await cleanup;
      this.life.fail(e);
      this.settle(healthy);
    }
  }

  /** Wait `ms` before the next poll, or less when the command is stopped. */
  private async pause(ms: number): Promise<void> {
    if (ms <= 0) return;
    await delay(ms, undefined, { signal: this.stop.signal }).catch(() => undefined);
  }

  /** Signal terminate once the command is over ([MS-WSMV] 3.1.4.14); after a failure, ctrl_c first. */
  private async cleanup(failure: WinRmError | undefined): Promise<boolean> {
    if (failure && !this.terminateRequested && faultAction('cleanup', failure) !== 'ignore') {
      await this.sendSignal('ctrl_c').catch(() => undefined);
    }
    try {
      await this.sendSignal('terminate');
      return !failure || failure instanceof AbortError || failure instanceof TimeoutError;
    } catch {
      // The command's own outcome stands; the shell is just not reused.
      return false;
    }
  }

  private terminateRequested = false;
  private settled = false;
  private settle(healthy: boolean): void {
    if (this.settled) return;
    this.settled = true;
    this.hooks.onSettled(healthy);
  }

  private async sendSignal(signal: RemoteSignal): Promise<void> {
    if (signal === 'terminate' && this.signalsSent.includes('terminate')) return;
    this.signalsSent.push(signal);
    await this.client.invoke(
      SIGNAL,
      { shellId: this.params.shellId, commandId: this.commandId, signal },
      { what: `Signal ${signal}`, signal: AbortSignal.timeout(this.params.cleanupTimeoutMs) },
    );
  }

  /** Fail the command with `err` (the connection was destroyed): no cleanup beyond what the transport allows. */
  abortWith(err: WinRmError): void {
    this.life.abort(err);
  }

  async kill(signal: RemoteSignal = 'ctrl_c'): Promise<void> {
    if (this.finished) return;
    if (signal === 'terminate') {
      this.terminateRequested = true;
      this.life.abort(new AbortError('The command was terminated by kill()'));
      return;
    }
    await this.sendSignal(signal).catch((err: unknown) => {
      if (faultAction('cleanup', err) !== 'ignore') throw err;
    });
  }
}
