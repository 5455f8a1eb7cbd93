/**
 * Ctrl-C and SIGTERM for the CLI. The first signal aborts the running operation through the library (its
 * AbortSignal: the command is terminated, an upload removes its temporary file), and once the operation has
 * settled the command closes the connection (the shell is deleted); the CLI then exits 130 (SIGINT) or 143
 * (SIGTERM), as shells report 128 + signal number. Should the operation not settle within
 * {@link CANCEL_GRACE_MS}, the connection is closed under it. A second signal exits at once, after destroy() on
 * any connection that has one.
 */
import type { Connection } from '../connection.ts';

export type CliSignal = 'SIGINT' | 'SIGTERM';

const SIGNAL_NUMBER: Record<CliSignal, number> = { SIGINT: 2, SIGTERM: 15 };

/** The abort reason the CLI's signal handlers use. */
export class Interrupted extends Error {
  readonly signalName: CliSignal;
  constructor(signalName: CliSignal) {
    super(`interrupted by ${signalName}`);
    this.name = 'Interrupted';
    this.signalName = signalName;
  }
  /** 128 + the signal number: 130 for SIGINT, 143 for SIGTERM. */
  get exitCode(): number {
    return 128 + SIGNAL_NUMBER[this.signalName];
  }
}

/**
 * How long the aborted operation may take to clean up (terminate, remove the temporary file) before the
 * connection is closed under it, in milliseconds. Closing earlier would cut the cleanup short. Default: 10000.
 */
export const CANCEL_GRACE_MS = 10_000;

/** Connections open right now, for the second signal's destroy(). */
const live = new Set<Connection>();

/**
 * Tie a fresh connection to the CLI's cancel signal. The caller passes the same signal to the operation and
 * closes the connection when the operation has settled (call the returned release function first); on abort the
 * connection is closed anyway after `graceMs` (default {@link CANCEL_GRACE_MS}). Throws the abort reason (after
 * closing the connection) when the signal fired while connecting.
 */
export function bindCancel(
  conn: Connection,
  signal: AbortSignal | undefined,
  graceMs: number = CANCEL_GRACE_MS,
): () => void {
  live.add(conn);
  let timer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    timer = setTimeout(() => void conn.close().catch(() => undefined), graceMs);
    timer.unref();
  };
  const release = () => {
    live.delete(conn);
    signal?.removeEventListener('abort', onAbort);
    if (timer) clearTimeout(timer);
  };
  if (signal?.aborted) {
    release();
    void conn.close().catch(() => undefined);
    throw signal.reason;
  }
  signal?.addEventListener('abort', onAbort, { once: true });
  return release;
}

/**
 * Close the connection after the operation. A close() that fails (a shell it could not delete, its bound passed)
 * is reported: it becomes the run's error when the operation itself succeeded, and an extra stderr line when the
 * operation's own error is already on its way.
 */
export async function closeAfter(
  conn: Connection,
  operationFailed: boolean,
  stderr: { write(text: string): unknown },
): Promise<void> {
  try {
    await conn.close();
  } catch (err) {
    if (!operationFailed) throw err;
    stderr.write(`winrm-connection: also: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}

/** The exit code for an interrupted run, or undefined when the signal did not fire. */
export function interruptCode(signal: AbortSignal | undefined): number | undefined {
  return signal?.aborted && signal.reason instanceof Interrupted ? signal.reason.exitCode : undefined;
}

interface SignalSource {
  on(event: CliSignal, listener: () => void): unknown;
  off(event: CliSignal, listener: () => void): unknown;
}

/**
 * Install the process's SIGINT / SIGTERM handlers for one CLI run. The first signal aborts the returned signal
 * with an {@link Interrupted}; a second calls `exitNow(code)` after destroy() on every open connection that has one.
 */
export function installSignalHandlers(
  source: SignalSource,
  exitNow: (code: number) => void,
): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handlers = new Map<CliSignal, () => void>();
  for (const name of ['SIGINT', 'SIGTERM'] as const) {
    const handler = () => {
      if (!controller.signal.aborted) {
        controller.abort(new Interrupted(name));
        return;
      }
      for (const conn of live) {
        const destroy = (conn as Connection & { destroy?: () => void }).destroy;
        if (typeof destroy === 'function') {
          try {
            destroy.call(conn);
          } catch {
            // Exiting anyway.
          }
        }
      }
      exitNow(new Interrupted(name).exitCode);
    };
    handlers.set(name, handler);
    source.on(name, handler);
  }
  return {
    signal: controller.signal,
    dispose: () => {
      for (const [name, handler] of handlers) source.off(name, handler);
    },
  };
}
