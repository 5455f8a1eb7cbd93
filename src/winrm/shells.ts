/**
 * Shell pool of the WinRM-internal strategy. A shell runs one command at a time and is reused for the next
 * command with the same shell settings (code page, profile, cwd, env). At most `maxShells` are open at once
 * (Windows counts shells per user against MaxShellsPerUser); further commands wait for one, and an idle shell
 * with other settings is deleted to make room. Every shell opened is deleted by closeAll(), including one whose
 * Create was still in flight when the pool closed. With a shared budget (the `budget` option) each shell also
 * holds one of the budget's shells from its Create to its Delete, and an idle shell is deleted rather than kept
 * while another connection waits for one.
 */
import {
  AbortError,
  AuthenticationError,
  ConnectionError,
  HttpError,
  InvalidArgumentError,
  ShellCleanupError,
  WinRmError,
  WsmanFaultError,
} from '../errors.ts';
import type { WsmanConfig } from '../options/index.ts';
import { untilStopped } from '../process/lifecycle.ts';
import { CREATE_SHELL, DELETE_SHELL } from './actions.ts';
import { faultAction } from './policy.ts';
import type { WsmanClient } from './wsman-client.ts';

export interface ShellSettings {
  codepage: number;
  noProfile: boolean;
  cwd: string | undefined;
  env: Readonly<Record<string, string>> | undefined;
}

export interface Shell {
  readonly id: string;
  readonly key: string;
  readonly settings: ShellSettings;
  commands: number;
  /** Set when a command's cleanup failed: the shell is deleted instead of reused. */
  retired?: boolean;
}

/** The typed reason a signal was aborted with, or an AbortError. */
function stopReason(signal: AbortSignal | undefined, message: string): WinRmError {
  return signal?.reason instanceof WinRmError ? signal.reason : new AbortError(message);
}

/** Attempts of one Delete: a failure other than a fault is retried on a fresh socket. */
const DELETE_ATTEMPTS = 3;

/**
 * A Create that failed without the server's answer (a socket cut, a truncated body, a timeout) may have made a
 * shell nobody knows the id of. A fault, an HTTP status or an authentication failure is an answer: no shell.
 */
function answerLost(err: unknown): boolean {
  return !(
    err instanceof WsmanFaultError ||
    err instanceof HttpError ||
    err instanceof AuthenticationError ||
    err instanceof InvalidArgumentError
  );
}

function keyOf(s: ShellSettings): string {
  return JSON.stringify([
    s.codepage,
    s.noProfile,
    s.cwd ?? null,
    s.env ? Object.entries(s.env).sort() : null,
  ]);
}

export class ShellPool {
  private readonly idle = new Map<string, Shell[]>();
  private readonly open = new Set<Shell>();
  /** Shells kept idle at most; more are deleted when released. */
  private readonly maxIdle = 4;
  /** Creates in flight: they count against maxShells, and closeAll() waits for them. */
  private readonly creating = new Set<Promise<unknown>>();
  /** Deletes in flight: closeAll() waits for them before the sockets close. */
  private readonly deleting = new Set<Promise<void>>();
  private readonly waiters: Array<() => void> = [];
  /** Shells whose Delete failed on every attempt: they may still exist; closeAll() tries once more, then reports. */
  private readonly undeleted = new Set<Shell>();
  private closed = false;
  /** Upper-case ids of shells whose Create was answered and that are not known deleted. */
  private readonly known = new Set<string>();
  /** Creates that failed without an answer since the last orphan sweep: each may have left a shell behind. */
  private lostCreates = 0;

  constructor(
    private readonly client: WsmanClient,
    private readonly opts: Pick<WsmanConfig, 'maxShells' | 'maxCommandsPerShell' | 'cleanupTimeoutMs'> &
      Partial<Pick<WsmanConfig, 'budget'>>,
    /** rsp:Name of every shell this pool creates (the connection's recognisable name). */
    readonly shellName: string,
  ) {
    this.unregister = opts.budget?.shells.addReclaimer(() => {
      const s = this.oldestIdle();
      if (!s) return false;
      this.destroy(s).catch(() => undefined);
      return true;
    });
  }

  /** Budget shells being waited for (they count against maxShells), shells holding one, and the stop. */
  private reserving = 0;
  private readonly holding = new Set<Shell>();
  private readonly stopped = new AbortController();
  private readonly unregister: (() => void) | undefined;

  /** Give the shell's budget unit back (once). */
  private unbudget(shell: Shell): void {
    if (this.holding.delete(shell)) this.opts.budget?.shells.release();
  }

  /** True when a Create failed without an answer since the last sweep (an orphan may exist). */
  get mayHaveOrphans(): boolean {
    return this.lostCreates > 0;
  }

  /**
   * After the Creates in flight settle: a predicate telling whether a ShellId is one this pool learned of (and
   * has not deleted). Ids compare case-insensitively (they are GUIDs).
   */
  async settledKnown(): Promise<{ knows: (id: string) => boolean; lost: number }> {
    await Promise.allSettled([...this.creating]);
    return { knows: (id) => this.known.has(id.toUpperCase()), lost: this.lostCreates };
  }

  /** A sweep found and handled what `lost` Creates may have left. */
  sweptOrphans(lost: number): void {
    this.lostCreates = Math.max(0, this.lostCreates - lost);
  }

  /** Delete a shell the pool never learned of (an orphan); "already gone" is not an error. */
  async deleteUnknown(shellId: string, signal?: AbortSignal): Promise<void> {
    const timeout = AbortSignal.timeout(this.opts.cleanupTimeoutMs);
    try {
      await this.client.invoke(
        DELETE_SHELL,
        { shellId },
        { signal: signal ? AbortSignal.any([signal, timeout]) : timeout },
      );
    } catch (err) {
      if (faultAction('cleanup', err) !== 'ignore') throw err;
    }
  }

  get openCount(): number {
    return this.open.size;
  }

  /** An idle shell with these settings, or a new one once the pool has room. */
  async acquire(settings: ShellSettings, signal?: AbortSignal): Promise<Shell> {
    const key = keyOf(settings);
    for (;;) {
      if (this.closed) throw new ConnectionError('The connection is closed');
      const list = this.idle.get(key);
      while (list && list.length > 0) {
        const s = list.pop()!;
        if (s.commands < this.opts.maxCommandsPerShell && !s.retired) return s;
        await this.destroy(s).catch(() => undefined); // a spent shell; its delete failing is not this command's
      }
      if (this.closed) throw new ConnectionError('The connection is closed');
      if (this.open.size + this.creating.size + this.reserving < this.opts.maxShells)
        return this.create(settings, key, signal);
      const other = this.oldestIdle();
      if (other) {
        // Full, but a shell with other settings sits idle: it makes room.
        await this.destroy(other).catch(() => undefined);
        continue;
      }
      await this.waitForRoom(signal);
    }
  }

  private oldestIdle(): Shell | undefined {
    for (const [key, list] of this.idle) {
      const s = list.shift();
      if (list.length === 0) this.idle.delete(key);
      if (s) return s;
    }
    return undefined;
  }

  private waitForRoom(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(wake);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(stopReason(signal, 'Aborted while waiting for a free shell'));
      };
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(wake);
    });
  }

  /** Something changed (a shell freed up, was deleted, or the pool closed): let one waiter look again. */
  private wakeOne(): void {
    this.waiters.shift()?.();
  }

  private async create(settings: ShellSettings, key: string, signal?: AbortSignal): Promise<Shell> {
    const budget = this.opts.budget?.shells;
    if (budget) {
      this.reserving++;
      try {
        const stop = this.stopped.signal;
        await budget.acquire(signal ? AbortSignal.any([signal, stop]) : stop);
      } catch (err) {
        this.wakeOne();
        if (this.closed) throw new ConnectionError('The connection is closed');
        throw err;
      } finally {
        this.reserving--;
      }
      if (this.closed) {
        budget.release();
        throw new ConnectionError('The connection is closed');
      }
    }
    // The caller's signal does not cut the Create short: the server may already have made the shell, and only
    // the answer names it. An abort returns at once; the shell, when it comes, goes to the pool (or is deleted).
    const sent = this.client.invoke(CREATE_SHELL, {
      name: this.shellName,
      codepage: settings.codepage,
      noProfile: settings.noProfile,
      workingDirectory: settings.cwd,
      environment: settings.env,
    });
    this.creating.add(sent);
    const made = sent
      .then(({ shellId }) => {
        const shell: Shell = { id: shellId, key, settings, commands: 0 };
        this.open.add(shell);
        if (budget) this.holding.add(shell);
        this.known.add(shellId.toUpperCase());
        return shell;
      })
      .catch((err: unknown) => {
        if (answerLost(err)) this.lostCreates++;
        budget?.release();
        this.wakeOne(); // the slot this Create held is free again
        throw err;
      })
      .finally(() => this.creating.delete(sent));
    const shell = signal ? await this.unlessAborted(made, signal) : await made;
    if (this.closed) {
      // Created while the connection was closing: delete it now rather than leak it on the server.
      await this.destroy(shell).catch(() => undefined);
      throw new ConnectionError('The connection is closed');
    }
    return shell;
  }

  private unlessAborted(made: Promise<Shell>, signal: AbortSignal): Promise<Shell> {
    return untilStopped(made, signal, () => {
      // The shell, when it comes, goes to the pool (or is deleted): the Create may have reached the server.
      made.then((shell) => this.release(shell)).catch(() => undefined);
      return stopReason(signal, 'Aborted while opening a shell');
    });
  }

  /** Put a healthy shell back for reuse (or hand it to a command waiting for room). */
  async release(shell: Shell): Promise<void> {
    if (!this.open.has(shell)) return;
    if (shell.retired || this.closed) {
      await this.destroy(shell);
      return;
    }
    const othersWait = (this.opts.budget?.shells.waiting ?? 0) > 0;
    if ((this.idleTotal() >= this.maxIdle || othersWait) && this.waiters.length === 0) {
      await this.destroy(shell);
      return;
    }
    const list = this.idle.get(shell.key) ?? [];
    list.push(shell);
    this.idle.set(shell.key, list);
    this.wakeOne();
  }

  private idleTotal(): number {
    let n = 0;
    for (const l of this.idle.values()) n += l.length;
    return n;
  }

  /** Forget a shell the server no longer knows. */
  discard(shell: Shell): void {
    this.known.delete(shell.id.toUpperCase());
    this.unbudget(shell);
    if (this.open.delete(shell)) this.wakeOne();
  }

  /**
   * Delete a shell on the server; "already gone" is not an error. A failure that is not a WSManFault (a socket
   * killed, a timeout) is retried on a fresh socket (the failed channel is dropped); each attempt is bounded by
   * cleanupTimeout. A shell that still could not be deleted is kept for closeAll() to report.
   */
  destroy(shell: Shell): Promise<void> {
    if (!this.open.delete(shell)) return Promise.resolve();
    const done = this.deleteOnServer(shell)
      .then(
        () => {
          this.undeleted.delete(shell);
          this.known.delete(shell.id.toUpperCase());
        },
        (err: unknown) => {
          this.undeleted.add(shell);
          throw err;
        },
      )
      .finally(() => {
        this.deleting.delete(done);
        this.unbudget(shell);
        this.wakeOne();
      });
    this.deleting.add(done);
    return done;
  }

  private async deleteOnServer(shell: Shell): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.invoke(
          DELETE_SHELL,
          { shellId: shell.id },
          { signal: AbortSignal.timeout(this.opts.cleanupTimeoutMs) },
        );
        return;
      } catch (err) {
        if (faultAction('cleanup', err) === 'ignore') return;
        // A fault is the server's answer: asking again gets the same one. Anything else may be the socket.
        const retry = !(err instanceof WinRmError && err.code === 'WINRM_WSMAN_FAULT');
        if (!retry || attempt >= DELETE_ATTEMPTS || this.destroyed) throw err;
      }
    }
  }

  /** Ids of shells that may still exist on the server: open ones and those whose Delete failed. */
  remainingIds(): string[] {
    return [...new Set([...this.open, ...this.undeleted])].map((s) => s.id);
  }

  private destroyed = false;

  /** destroy() of the connection: no more requests, nothing retried. */
  abandon(): void {
    this.destroyed = true;
    this.stop();
  }

  /** No more shells: commands waiting for one fail with ConnectionError, Creates in flight are deleted. */
  stop(): void {
    this.closed = true;
    this.stopped.abort();
    this.unregister?.();
    for (const w of this.waiters.splice(0)) w();
  }

  /**
   * Delete every shell, after the Creates in flight (and again those whose Delete failed earlier). Rejects with
   * a ShellCleanupError naming the shells that could not be deleted.
   */
  async closeAll(): Promise<void> {
    this.stop();
    await Promise.allSettled([...this.creating]);
    this.idle.clear();
    for (const s of this.undeleted) this.open.add(s);
    const results = await Promise.allSettled([...this.open].map((s) => this.destroy(s)));
    // Deletes started elsewhere (a Create that finished after stop()) finish before the sockets close.
    await Promise.allSettled([...this.deleting]);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (this.undeleted.size > 0) throw this.cleanupError(failed[0]?.reason);
  }

  /** The error naming every shell that may still exist on the server. */
  cleanupError(cause?: unknown): ShellCleanupError {
    const shellIds = this.remainingIds();
    return new ShellCleanupError(`${shellIds.length} shell(s) could not be deleted: ${shellIds.join(', ')}`, {
      shellIds,
      cause,
      remedy:
        'Windows counts them against MaxShellsPerUser until their IdleTimeout (2 h by default); remove them ' +
        'on the host with Remove-WSManInstance -ResourceURI ' +
        "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd -SelectorSet @{ShellId='ID'}, or restart WinRM",
    });
  }
}
