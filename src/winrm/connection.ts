/**
 * The WinRM-internal strategy (Overthere's WINRM_INTERNAL): WS-Management SOAP over HTTP(S) from this process.
 * Only the WinRS specifics live here: the shell pool (reused across commands, every shell deleted by close()),
 * the reopen policy around a command's start, and the Send capacity transfers pack stdin to. Execute, PowerShell,
 * transfers and close tracking come from BaseConnection.
 */
import { checkCodepage } from '../codepage.ts';
import type { ConnectionStats, ProcessOptions, RemoteProcess } from '../connection.ts';
import { DebugLog } from '../debug.ts';
import { createHttpTransport } from '../http/transport.ts';
import type { ResolvedOptions } from '../options/index.ts';
import { BaseConnection } from '../process/base-connection.ts';
import { sendPayloadCapacity } from '../wsman/actions/send.ts';
import { faultAction, MAX_REOPENS } from './policy.ts';
import { type RemoteProcessImpl, startRemoteProcess } from './process.ts';
import { type Shell, ShellPool } from './shells.ts';
import { WsmanClient } from './wsman-client.ts';

/** ShellId and CommandId are GUIDs: measuring the empty Send with one of the same length gives its exact size. */
const GUID_SIZED = '00000000-0000-0000-0000-000000000000';

export class WinRmInternalConnection extends BaseConnection {
  readonly connectionType = 'WINRM_INTERNAL' as const;
  readonly transport: WsmanClient;
  private readonly shells: ShellPool;
  private readonly pendingCleanups = new Set<Promise<void>>();

  constructor(private readonly opts: ResolvedOptions) {
    const debug = new DebugLog(opts.logger);
    debug.addSecret(opts.password);
    super(debug, opts.codepage);
    this.transport = new WsmanClient(opts, createHttpTransport(opts, this.debug), this.debug);
    this.shells = new ShellPool(this.transport, opts);
  }

  stats(): ConnectionStats {
    return {
      processesRunning: this.processesRunning,
      requests: this.transport.requestCount,
      shellsOpen: this.shells.openCount,
    };
  }

  protected override stdinCapacity(): number {
    return sendPayloadCapacity(this.transport.context(), GUID_SIZED, GUID_SIZED);
  }

  protected async launch(line: string, options: ProcessOptions): Promise<RemoteProcess> {
    const settings = {
      codepage: checkCodepage(options.codepage ?? this.opts.codepage),
      noProfile: options.noProfile ?? this.opts.noProfile,
      cwd: options.cwd,
      env: options.env,
    };
    // A reused shell may have idled out or hit a quota: ./policy.ts decides, and a fresh shell is tried once.
    for (let attempt = 0; ; attempt++) {
      const shell = await this.shells.acquire(settings, options.signal);
      try {
        shell.commands++;
        const proc: RemoteProcessImpl = await startRemoteProcess(
          this.transport,
          { shellId: shell.id, commandLine: line, timeoutMs: options.timeout, signal: options.signal },
          {
            onSettled: (healthy) => this.settled(shell, healthy),
            onCompleted: (cleanup) => this.completed(shell, cleanup),
          },
        );
        return proc;
      } catch (err) {
        const action = faultAction('start', err);
        if (action === 'reopen') this.shells.discard(shell);
        else if (action === 'replace') await this.shells.destroy(shell);
        else {
          await this.shells.release(shell).catch(() => undefined);
          throw err;
        }
        if (attempt >= MAX_REOPENS) throw err;
        this.debug.log('shell', `reopening shell after fault ${(err as { faultCode?: number }).faultCode}`);
      }
    }
  }

  /** The shell goes back to the pool at once; a terminate that fails later retires it. */
  private completed(shell: Shell, cleanup: Promise<boolean>): void {
    const tracked: Promise<void> = cleanup
      .then((ok) => {
        if (!ok) shell.retired = true;
      })
      .finally(() => this.pendingCleanups.delete(tracked));
    this.pendingCleanups.add(tracked);
    if (!this.isClosing) void this.shells.release(shell).catch(() => undefined);
  }

  private settled(shell: Shell, healthy: boolean): void {
    if (healthy && !this.isClosing) void this.shells.release(shell).catch(() => undefined);
    else void this.shells.destroy(shell).catch(() => undefined);
  }

  /** Commands waiting for a shell fail now. */
  protected override stopAccepting(): void {
    this.shells.stop();
  }

  /** Delete every shell (after the terminates still on their way) and close all sockets. */
  protected async releaseResources(): Promise<void> {
    await Promise.allSettled([...this.pendingCleanups]);
    const errors = await this.shells.closeAll();
    this.transport.close();
    if (errors.length > 0) this.debug.log('shell', `${errors.length} shell(s) could not be deleted`);
  }
}
