/**
 * Shell pool of the WinRM-internal strategy. A shell runs one command at a time and is reused for the next
 * command with the same shell settings (code page, profile, cwd, env). At most `maxShells` are open at once
 * (Windows counts shells per user against MaxShellsPerUser); further commands wait for one, and an idle shell
 * with other settings is deleted to make room. Every shell opened is deleted by closeAll(), including one whose
 * Create was still in flight when the pool closed.
 */
import { AbortError, ConnectionError } from '../errors.ts';
import type { WsmanConfig } from '../options/index.ts';
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
  private closed = false;

  constructor(
    private readonly client: WsmanClient,
    private readonly opts: Pick<WsmanConfig, 'maxShells' | 'maxCommandsPerShell'>,
  ) {}

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
      if (this.open.size + this.creating.size < this.opts.maxShells)
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
        reject(new AbortError('Aborted while waiting for a free shell'));
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
    // The caller's signal does not cut the Create short: the server may already have made the shell, and only
    // the answer names it. An abort returns at once; the shell, when it comes, goes to the pool (or is deleted).
    const sent = this.client.invoke(CREATE_SHELL, {
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
        return shell;
      })
      .catch((err: unknown) => {
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
    return new Promise<Shell>((resolve, reject) => {
      const onAbort = () => {
        made.then((shell) => this.release(shell)).catch(() => undefined);
        reject(new AbortError('Aborted while opening a shell'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      made.then(
        (shell) => {
          signal.removeEventListener('abort', onAbort);
          resolve(shell);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
    });
  }

  /** Put a healthy shell back for reuse (or hand it to a command waiting for room). */
  async release(shell: Shell): Promise<void> {
    if (!this.open.has(shell)) return;
    if (shell.retired || this.closed) {
      await this.destroy(shell);
      return;
    }
    if (this.idleTotal() >= this.maxIdle && this.waiters.length === 0) {
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
    if (this.open.delete(shell)) this.wakeOne();
  }

  /** Delete a shell on the server; "already gone" is not an error. */
  destroy(shell: Shell): Promise<void> {
    if (!this.open.delete(shell)) return Promise.resolve();
    const done = this.client
      .invoke(DELETE_SHELL, { shellId: shell.id })
      .catch((err: unknown) => {
        if (faultAction('cleanup', err) !== 'ignore') throw err;
      })
      .finally(() => {
        this.deleting.delete(done);
        this.wakeOne();
      });
    this.deleting.add(done);
    return done;
  }

  /** No more shells: commands waiting for one fail with ConnectionError, Creates in flight are deleted. */
  stop(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Delete every shell, after the Creates in flight; returns the errors of deletes that failed. */
  async closeAll(): Promise<unknown[]> {
    this.stop();
    await Promise.allSettled([...this.creating]);
    this.idle.clear();
    const results = await Promise.allSettled([...this.open].map((s) => this.destroy(s)));
    // Deletes started elsewhere (a Create that finished after stop()) finish before the sockets close.
    await Promise.allSettled([...this.deleting]);
    return results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
  }
}
