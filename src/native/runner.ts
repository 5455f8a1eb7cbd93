/**
 * The seam of the winrs-native strategy: where `winrs` runs. A runner starts one winrs process per command and
 * hands back its three streams and its end. Three runners implement it: `local` (spawn on this machine),
 * `ssh` (a winrs proxy reached over SSH) and `jump` (a Windows jump host reached through a WinRM-internal
 * connection, running winrs through its startProcess). The strategy builds the winrs arguments; the runner only
 * carries them to where winrs runs, quoted for that place.
 */
import type { Readable, Writable } from 'node:stream';
import type { DebugLog } from '../debug.ts';

/** How a winrs process ended, as far as the runner can tell. */
export interface WinrsExit {
  /** The process's exit code (winrs passes the remote command's exit code through); null when killed by a signal. */
  code: number | null;
  /** The local or proxy-side signal that ended it (POSIX names), when the runner knows one. */
  signal: string | null;
}

/**
 * What kill() is asked to deliver: 'ctrl_c' (winrs forwards a Ctrl-C to the remote command, which may exit on
 * its own) or 'terminate' (stop winrs; the default). A runner that can deliver only one delivers that one.
 */
export type WinrsKillSignal = 'ctrl_c' | 'terminate';

/** One running winrs process. */
export interface WinrsChild {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Settles once the process ended and its streams were drained; rejects only when the runner lost it. */
  readonly exited: Promise<WinrsExit>;
  /**
   * Stop the winrs process as well as this runner can (each runner documents what it delivers: a local signal,
   * an SSH channel signal or close, a WinRM Signal on the jump host). Idempotent; resolves when delivered.
   */
  kill(signal?: WinrsKillSignal): Promise<void>;
}

export interface WinrsSpawnOptions {
  /** Aborting it kills the process (as {@link WinrsChild.kill}). */
  signal?: AbortSignal;
}

/** Where winrs runs. */
export interface WinrsRunner {
  readonly kind: 'local' | 'ssh' | 'jump';
  /**
   * Start `program` with `args`, each element one argument exactly as winrs.exe must receive it in its argv
   * (the runner applies the quoting its transport needs: none for a direct spawn, the proxy shell's rules for
   * SSH, cmd.exe's for the jump host).
   */
  spawn(program: string, args: readonly string[], options?: WinrsSpawnOptions): Promise<WinrsChild>;
  /** Release what the runner holds (an SSH client, a jump connection). Idempotent. */
  close(): Promise<void>;
  /** Drop everything at once, without waiting. Idempotent. */
  destroy(): void;
}

/** What the strategy gives a runner factory. */
export interface WinrsRunnerContext {
  /** Connect timeout in milliseconds (the connectTimeout option), for runners that open a connection. */
  connectTimeoutMs: number;
  /** The connection's redacting debug log (secrets registered). */
  debug: DebugLog;
}

/**
 * Makes the runner of one winrsProxyProtocol from winrsProxyConnectionOptions (checked by the factory:
 * InvalidArgumentError naming the option). Called by connect(); a rejection fails connect().
 */
export type WinrsRunnerFactory = (
  proxyOptions: Readonly<Record<string, unknown>>,
  context: WinrsRunnerContext,
) => WinrsRunner | Promise<WinrsRunner>;

/** Kill `child` when `signal` aborts (at once if it already has); the listener goes when the child exits. */
export function killOnAbort(child: WinrsChild, signal: AbortSignal | undefined): void {
  if (!signal) return;
  const onAbort = () => void child.kill();
  if (signal.aborted) {
    onAbort();
    return;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  const drop = () => signal.removeEventListener('abort', onAbort);
  child.exited.then(drop, drop);
}
