/**
 * Shell pool of the WinRM-internal strategy. A shell runs one command at a time and is reused for the next
 * command with the same shell settings (code page, profile, cwd, env). Every shell opened is deleted by close().
 */
import { WsmanFaultError } from '../errors.ts';
import type { ResolvedOptions } from '../options.ts';
import type { WsmanTransport } from '../transport/wsman-transport.ts';
import { buildCreateShell, buildDeleteShell, parseCreateShellResponse } from '../wsman/actions/shell.ts';

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

/** Faults meaning the shell or command no longer exists: ignored by cleanup, trigger a reopen on reuse. */
export const GONE_FAULT = 2150858843;
/** Operation quota: Windows does not release text-shell operations on terminate ([MS-WSMV] note 118). */
export const QUOTA_OPERATIONS_FAULT = 2150859174;
export const QUOTA_COMMANDS_FAULT = 2150859181;

export function isFault(err: unknown, ...codes: number[]): err is WsmanFaultError {
  return err instanceof WsmanFaultError && err.faultCode !== undefined && codes.includes(err.faultCode);
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

  constructor(
    private readonly transport: WsmanTransport,
    private readonly opts: ResolvedOptions,
  ) {}

  get openCount(): number {
    return this.open.size;
  }

  /** An idle shell with these settings, or a new one. */
  async acquire(settings: ShellSettings, signal?: AbortSignal): Promise<Shell> {
    const key = keyOf(settings);
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      const s = list.pop()!;
      if (s.commands < this.opts.maxCommandsPerShell && !s.retired) return s;
      await this.destroy(s);
    }
    return this.create(settings, key, signal);
  }

  private async create(settings: ShellSettings, key: string, signal?: AbortSignal): Promise<Shell> {
    const ctx = this.transport.context();
    const xml = buildCreateShell(ctx, {
      codepage: settings.codepage,
      noProfile: settings.noProfile,
      workingDirectory: settings.cwd,
      environment: settings.env,
    });
    const msg = await this.transport.send(ctx, xml, { what: 'Create shell', signal });
    const { shellId } = parseCreateShellResponse(msg);
    const shell: Shell = { id: shellId, key, settings, commands: 0 };
    this.open.add(shell);
    return shell;
  }

  /** Put a healthy shell back for reuse. */
  async release(shell: Shell): Promise<void> {
    if (!this.open.has(shell)) return;
    if (shell.retired) {
      await this.destroy(shell);
      return;
    }
    const list = this.idle.get(shell.key) ?? [];
    if (this.idleTotal() >= this.maxIdle) {
      await this.destroy(shell);
      return;
    }
    list.push(shell);
    this.idle.set(shell.key, list);
  }

  private idleTotal(): number {
    let n = 0;
    for (const l of this.idle.values()) n += l.length;
    return n;
  }

  /** Forget a shell the server no longer knows. */
  discard(shell: Shell): void {
    this.open.delete(shell);
  }

  /** Delete a shell on the server; "already gone" is not an error. */
  async destroy(shell: Shell): Promise<void> {
    if (!this.open.delete(shell)) return;
    const ctx = this.transport.context();
    try {
      await this.transport.send(ctx, buildDeleteShell(ctx, { shellId: shell.id }), { what: 'Delete shell' });
    } catch (err) {
      if (!isFault(err, GONE_FAULT)) throw err;
    }
  }

  /** Delete every shell; returns the errors of deletes that failed (the caller decides whether to throw). */
  async closeAll(): Promise<unknown[]> {
    this.idle.clear();
    const results = await Promise.allSettled([...this.open].map((s) => this.destroy(s)));
    return results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason);
  }
}
