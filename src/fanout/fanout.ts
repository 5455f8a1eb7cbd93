/**
 * fanOut(): one command, PowerShell script or transfer on many hosts, at most `concurrency` at a time, each host
 * bounded by `hostTimeout`, all stopped by one AbortSignal; results are yielded as hosts finish. Every host gets
 * its own connection, opened for its task and closed after it; all of them share one {@link ResourceBudget}, so
 * sockets and shells stay bounded however many hosts there are.
 */
import { setMaxListeners } from 'node:events';
import { connect } from '../connect.ts';
import type {
  CommandInput,
  Connection,
  ExecuteResult,
  TransferOptions,
  TransferResult,
} from '../connection.ts';
import { AbortError, InvalidArgumentError, TimeoutError, WinRmError } from '../errors.ts';
import type { ConnectionOptions } from '../options/index.ts';
import { asWinRmError } from '../process/lifecycle.ts';
import { budgetOf, ResourceBudget, type ResourceBudgetLimits } from './budget.ts';
import type { FanOutHost } from './hosts.ts';

/** What to run on each host. */
export type FanOutTask =
  /** A command line (cmd.exe text) or argv, as execute() takes it. */
  | { command: CommandInput }
  /** A PowerShell script, as executePowerShell() takes it. */
  | { powershell: string }
  /** Copy a local file or Buffer to the same remote path on every host. */
  | { upload: { source: string | Buffer; remotePath: string; options?: TransferOptions } }
  /** Copy a remote file here; `destination(host)` names the local file per host. */
  | {
      download: { remotePath: string; destination: (host: string) => string; options?: TransferOptions };
    };

export interface FanOutOptions {
  /** Connection options shared by every host (credentials, auth, port, ...); per-host options override them. */
  connection?: Partial<ConnectionOptions>;
  /** Hosts running at once; at least 1. Default: 32. */
  concurrency?: number;
  /**
   * Most milliseconds one host may take, from connect to the end of its task (the close that follows is bounded
   * by closeTimeout). Past it the host's result is a TimeoutError. At least 1. Default: 300000 (5 minutes).
   */
  hostTimeout?: number;
  /** Stops everything: running hosts are stopped and their connections closed, no further host starts. Default: none. */
  signal?: AbortSignal;
  /**
   * Sockets and shells shared by all the hosts' connections. Default: a budget of 2 x concurrency sockets and
   * concurrency shells (one command needs one shell, and a socket for its Receive plus one for Send or Signal).
   */
  budget?: ResourceBudget | ResourceBudgetLimits;
  /** Bytes of each output stream kept per host (the rest is cut, `truncated` set). Default: 1048576 (1 MiB). */
  maxOutput?: number;
}

/** One host's outcome. */
export interface FanOutResult {
  host: string;
  /** Position of the host in the list (0-based). */
  index: number;
  /** No error, and for a command or script exit code 0. */
  ok: boolean;
  exitCode?: number;
  /** Decoded stdout and stderr of a command or script. */
  stdout?: string;
  stderr?: string;
  /** An output stream was longer than maxOutput and was cut. */
  truncated?: boolean;
  /** Upload or download result. */
  transfer?: TransferResult;
  /** The typed error when the host failed (connection, authentication, timeout, abort, ...). */
  error?: WinRmError;
  /** Milliseconds from the host's start to its result. */
  durationMs: number;
}

export const FANOUT_DEFAULTS = {
  concurrency: 32,
  hostTimeoutMs: 300_000,
  maxOutput: 1024 * 1024,
  /** Sockets per concurrent host in the default budget. */
  socketsPerHost: 2,
  /** maxConcurrentRequests of each host's connection unless given: a command's Receive and one Send or Signal. */
  requestsPerHost: 2,
} as const;

function positiveInt(name: string, v: number | undefined, def: number): number {
  if (v === undefined) return def;
  if (!Number.isInteger(v) || v < 1) {
    throw new InvalidArgumentError(`Option ${name} must be an integer of at least 1, got ${v}`, {
      argument: name,
    });
  }
  return v;
}

async function runTask(
  conn: Connection,
  host: string,
  task: FanOutTask,
  signal: AbortSignal,
  timeout: number,
  maxBuffer: number,
): Promise<Omit<FanOutResult, 'host' | 'index' | 'durationMs'>> {
  const fromExecute = (r: ExecuteResult) => ({
    ok: r.exitCode === 0,
    exitCode: r.exitCode,
    stdout: r.stdoutText,
    stderr: r.stderrText,
    truncated: r.truncated,
  });
  if ('command' in task) return fromExecute(await conn.execute(task.command, { signal, timeout, maxBuffer }));
  if ('powershell' in task) {
    return fromExecute(await conn.executePowerShell(task.powershell, { signal, timeout, maxBuffer }));
  }
  if ('upload' in task) {
    const u = task.upload;
    return {
      ok: true,
      transfer: await conn.upload(u.source, u.remotePath, { ...u.options, signal, timeout }),
    };
  }
  if ('download' in task) {
    const d = task.download;
    const transfer = await conn.download(d.remotePath, d.destination(host), {
      ...d.options,
      signal,
      timeout,
    });
    return { ok: true, transfer };
  }
  throw new InvalidArgumentError('The fan-out task must have command, powershell, upload or download', {
    argument: 'task',
  });
}

/** A queue of results: producers push, the iterator pulls. */
class ResultQueue {
  private readonly items: FanOutResult[] = [];
  private wake: (() => void) | undefined;
  push(r: FanOutResult): void {
    this.items.push(r);
    this.notify();
  }
  notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
  shift(): FanOutResult | undefined {
    return this.items.shift();
  }
  wait(): Promise<void> {
    return new Promise((r) => {
      this.wake = r;
    });
  }
}

/**
 * Run `task` on every host, at most `concurrency` at a time; yields each host's {@link FanOutResult} as it
 * finishes (a failed host is a result with `error`, never a throw). Hosts come from an array or any
 * (async) iterable, e.g. {@link readHostFile}. When `signal` aborts, no further host starts, running hosts are
 * stopped (their results carry the AbortError) and every connection is closed; then the iteration throws an
 * AbortError. Leaving the loop early (break) stops and closes the same way.
 */
export async function* fanOut(
  hosts: Iterable<FanOutHost | string> | AsyncIterable<FanOutHost | string>,
  task: FanOutTask,
  options: FanOutOptions = {},
): AsyncGenerator<FanOutResult, void, undefined> {
  const concurrency = positiveInt('concurrency', options.concurrency, FANOUT_DEFAULTS.concurrency);
  const hostTimeout = positiveInt('hostTimeout', options.hostTimeout, FANOUT_DEFAULTS.hostTimeoutMs);
  const maxBuffer = positiveInt('maxOutput', options.maxOutput, FANOUT_DEFAULTS.maxOutput);
  const budget =
    budgetOf(options.budget) ??
    new ResourceBudget({ sockets: concurrency * FANOUT_DEFAULTS.socketsPerHost, shells: concurrency });
  const stopAll = new AbortController();
  // Every running host listens to it: concurrency listeners are expected, not a leak.
  setMaxListeners(concurrency + 10, stopAll.signal);
  const outer = options.signal;
  const onOuter = () => stopAll.abort(outer?.reason);
  if (outer?.aborted) onOuter();
  else outer?.addEventListener('abort', onOuter, { once: true });

  const queue = new ResultQueue();
  const iterator =
    Symbol.asyncIterator in hosts
      ? (hosts as AsyncIterable<FanOutHost | string>)[Symbol.asyncIterator]()
      : (hosts as Iterable<FanOutHost | string>)[Symbol.iterator]();
  let next = 0;
  let exhausted = false;
  let listError: unknown;
  let running = 0;

  const runHost = async (entry: FanOutHost, index: number): Promise<FanOutResult> => {
    const t0 = performance.now();
    const hostStop = new AbortController();
    const onStop = () =>
      hostStop.abort(new AbortError(`The fan-out was stopped; ${entry.host} was cut short`));
    stopAll.signal.addEventListener('abort', onStop, { once: true });
    const timer = setTimeout(
      () =>
        hostStop.abort(
          new TimeoutError(`${entry.host} did not finish within ${hostTimeout} ms (hostTimeout)`, {
            timeoutMs: hostTimeout,
          }),
        ),
      hostTimeout,
    );
    let conn: Connection | undefined;
    const base = { host: entry.host, index };
    try {
      const connection: ConnectionOptions = {
        maxConcurrentRequests: FANOUT_DEFAULTS.requestsPerHost,
        ...options.connection,
        ...entry.options,
        host: entry.host,
        budget,
      } as ConnectionOptions; // a missing username is connect()'s InvalidArgumentError, per host
      const opening = connect(connection);
      conn = await Promise.race([
        opening,
        new Promise<never>((_, reject) => {
          if (hostStop.signal.aborted) reject(hostStop.signal.reason);
          hostStop.signal.addEventListener('abort', () => reject(hostStop.signal.reason), { once: true });
        }),
      ]).catch((err: unknown) => {
        opening.then((c) => c.destroy()).catch(() => undefined); // verify still running: drop it when it ends
        throw err;
      });
      const out = await runTask(conn, entry.host, task, hostStop.signal, hostTimeout, maxBuffer);
      return { ...base, ...out, durationMs: performance.now() - t0 };
    } catch (err) {
      // A stop reaches the task as an AbortError; the reason (our TimeoutError or AbortError) says which.
      const reason: unknown = hostStop.signal.aborted ? hostStop.signal.reason : undefined;
      const error = reason instanceof WinRmError && err instanceof AbortError ? reason : asWinRmError(err);
      return { ...base, ok: false, error, durationMs: performance.now() - t0 };
    } finally {
      clearTimeout(timer);
      stopAll.signal.removeEventListener('abort', onStop);
      if (conn) await conn.close().catch(() => conn?.destroy());
    }
  };

  const pull = async (): Promise<{ entry: FanOutHost; index: number } | undefined> => {
    if (exhausted || stopAll.signal.aborted) return undefined;
    try {
      const r = await iterator.next();
      if (r.done) {
        exhausted = true;
        return undefined;
      }
      const entry = typeof r.value === 'string' ? { host: r.value } : r.value;
      return { entry, index: next++ };
    } catch (err) {
      exhausted = true;
      listError = err;
      return undefined;
    }
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      const item = await pull();
      if (!item) return;
      running++;
      try {
        queue.push(await runHost(item.entry, item.index));
      } finally {
        running--;
      }
    }
  };

  let workersLeft = concurrency;
  for (let i = 0; i < concurrency; i++) {
    void worker().finally(() => {
      workersLeft--;
      queue.notify();
    });
  }
  let completed = false;
  try {
    for (;;) {
      const r = queue.shift();
      if (r) {
        yield r;
        continue;
      }
      if (workersLeft === 0) break;
      await queue.wait();
    }
    completed = true;
  } finally {
    outer?.removeEventListener('abort', onOuter);
    if (!completed) {
      // Left early (break or a throw in the loop body): stop every host and wait for their connections to close.
      stopAll.abort(new AbortError('The fan-out iteration was left early'));
      while (workersLeft > 0 || running > 0) await queue.wait();
    }
  }
  if (listError !== undefined) {
    throw new InvalidArgumentError(`The host list failed: ${(listError as Error).message ?? listError}`, {
      argument: 'hosts',
      cause: listError,
    });
  }
  if (outer?.aborted) {
    throw outer.reason instanceof WinRmError ? outer.reason : new AbortError('The fan-out was aborted');
  }
}

/** Counts of a finished fan-out. */
export interface FanOutSummary {
  hosts: number;
  ok: number;
  /** Commands that ran and exited non-zero. */
  nonZero: number;
  /** Hosts that failed with an error (connection, authentication, timeout, abort, ...). */
  errors: number;
}

/** Add one result to a summary. */
export function summarize(s: FanOutSummary, r: FanOutResult): FanOutSummary {
  return {
    hosts: s.hosts + 1,
    ok: s.ok + (r.ok ? 1 : 0),
    nonZero: s.nonZero + (!r.ok && !r.error ? 1 : 0),
    errors: s.errors + (r.error ? 1 : 0),
  };
}
