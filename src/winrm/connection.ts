/**
 * The WinRM-internal strategy (Overthere's WINRM_INTERNAL): WS-Management SOAP over HTTP(S) from this process.
 * Only the WinRS specifics live here: the shell pool (reused across commands, every shell deleted by close()),
 * the reopen policy around a command's start, and the Send capacity transfers pack stdin to. Execute, PowerShell,
 * transfers and close tracking come from BaseConnection.
 */
import { randomUUID } from 'node:crypto';
import { checkCodepage } from '../codepage.ts';
import type { ConnectionStats, ProcessOptions, RemoteProcess } from '../connection.ts';
import { DebugLog } from '../debug.ts';
import { ConnectionError, ShellCleanupError } from '../errors.ts';
import { createHttpTransport } from '../http/transport.ts';
import type { ResolvedOptions } from '../options/index.ts';
import { BaseConnection } from '../process/base-connection.ts';
import { StartDeadline } from '../process/lifecycle.ts';
import type { IdentifyResult } from '../wsman/actions/identify.ts';
import { sendPayloadCapacity } from '../wsman/actions/send.ts';
import type { CreatedResource, ResourceInstance } from '../wsman/actions/transfer.ts';
import { RESOURCE_URIS } from '../wsman/constants.ts';
import type { ResourceSpec, ResourceValues } from '../wsman/resource.ts';
import { commandMayHaveRun, faultAction, MAX_REOPENS } from './policy.ts';
import { type RemoteProcessImpl, SHELL_HANDED_OFF, startRemoteProcess } from './process.ts';
import {
  type CreateOptions,
  type EnumerateOptions,
  type GetOptions,
  type IdentifyOptions,
  type PutOptions,
  type ResourceCallOptions,
  ResourceOperations,
} from './resources.ts';
import { type Shell, ShellPool, type ShellSettings } from './shells.ts';
import { WsmanClient } from './wsman-client.ts';

/** ShellId and CommandId are GUIDs: measuring the empty Send with one of the same length gives its exact size. */
const GUID_SIZED = '00000000-0000-0000-0000-000000000000';

/** rsp:Name prefix of the shells this library creates; the rest is a random id per connection object. */
export const SHELL_NAME_PREFIX = 'winrm-connection-';

export class WinRmInternalConnection extends BaseConnection {
  readonly connectionType = 'WINRM_INTERNAL' as const;
  readonly transport: WsmanClient;
  private readonly shells: ShellPool;
  private readonly pendingCleanups = new Set<Promise<void>>();
  private readonly resources: ResourceOperations;
  /**
   * rsp:Name of every shell this connection creates: `winrm-connection-<random id>`, new per connection object,
   * so the orphan sweep of one client never deletes the live shells of another client of the same user.
   */
  readonly shellName = `${SHELL_NAME_PREFIX}${randomUUID()}`;

  constructor(private readonly opts: ResolvedOptions) {
    const debug = new DebugLog(opts.logger);
    debug.addSecret(opts.password);
    super(debug, opts.codepage);
    this.transport = new WsmanClient(opts, createHttpTransport(opts, this.debug), this.debug);
    this.shells = new ShellPool(this.transport, opts, this.shellName);
    this.closeTimeoutMs = opts.closeTimeoutMs;
    this.resources = new ResourceOperations(this.transport, opts.cleanupTimeoutMs);
  }

  private ops(): ResourceOperations {
    if (this.isClosing) throw new ConnectionError('The connection is closed');
    return this.resources;
  }

  /** WS-Man Identify ([MS-WSMV] 3.1.4.16): `winrm id`. Authenticated unless `authenticate: false`. */
  async identify(options: IdentifyOptions = {}): Promise<IdentifyResult> {
    return this.ops().identify(options);
  }

  /**
   * Check reachability and credentials now: an authenticated Identify. Rejects with the typed error of the
   * failure (ConnectionError for a closed port, an unknown host or an untrusted certificate, AuthenticationError
   * for wrong credentials), each naming the fix.
   */
  async verify(options: ResourceCallOptions = {}): Promise<IdentifyResult> {
    return this.ops().identify({ ...options, authenticate: true });
  }

  /**
   * connect()'s `verify: true`: an authenticated Identify; on failure the connection is destroyed (nothing stays
   * open) and the error is thrown.
   */
  async verifyIfAsked(): Promise<void> {
    if (!this.opts.verify) return;
    try {
      await this.verify();
    } catch (err) {
      this.destroy();
      throw err;
    }
  }

  /** WS-Transfer Get: `winrm get wmicimv2/Win32_Service?Name=WinRM [-fragment:State]`. */
  async get(resource: ResourceSpec, options: GetOptions = {}): Promise<ResourceInstance> {
    return this.ops().get(resource, options);
  }

  /** WS-Transfer Put: `winrm set winrm/config/service @{AllowUnencrypted="true"}`. Returns the updated instance. */
  async put(
    resource: ResourceSpec,
    values: ResourceValues,
    options: PutOptions = {},
  ): Promise<ResourceInstance | undefined> {
    return this.ops().put(resource, values, options);
  }

  /** WS-Enumeration: `winrm enumerate winrm/config/listener`; an early break Releases the context. */
  enumerate(resource: ResourceSpec, options: EnumerateOptions = {}): AsyncGenerator<ResourceInstance, void> {
    return this.ops().enumerate(resource, options);
  }

  /** A method of a resource: `winrm invoke StartService wmicimv2/Win32_Service?Name=w32time @{}`. */
  async invoke(
    resource: ResourceSpec,
    method: string,
    params?: ResourceValues,
    options: ResourceCallOptions = {},
  ): Promise<ResourceInstance> {
    return this.ops().invoke(resource, method, params, options);
  }

  /** WS-Transfer Create: `winrm create winrm/config/Listener?Address=*+Transport=HTTPS @{...}`. */
  async create(
    resource: ResourceSpec,
    values: ResourceValues = {},
    options: CreateOptions = {},
  ): Promise<CreatedResource> {
    return this.ops().create(resource, values, options);
  }

  /** WS-Transfer Delete: `winrm delete winrm/config/Listener?Address=*+Transport=HTTPS`. */
  async delete(resource: ResourceSpec, options: ResourceCallOptions = {}): Promise<void> {
    return this.ops().delete(resource, options);
  }

  /**
   * Find and delete this connection's orphaned shells: shells named {@link shellName} that the pool never
   * learned of (a Create whose answer was lost leaves one). Enumerates the cmd shell resource (each request
   * bounded by cleanupTimeout) after the Creates in flight settle; shells of other connections and the pool's
   * own shells are left alone. Resolves with the ids deleted; rejects with a ShellCleanupError naming the
   * orphans that could not be deleted. close() runs it by itself when a Create was lost.
   */
  async sweepOrphanShells(options: ResourceCallOptions = {}): Promise<string[]> {
    return this.sweep(this.ops(), options);
  }

  private async sweep(resources: ResourceOperations, options: ResourceCallOptions): Promise<string[]> {
    // Creates in flight settle first (their shell is listed before its answer names it); known after them.
    await this.shells.settledKnown();
    const named: string[] = [];
    for await (const item of resources.enumerate(RESOURCE_URIS.cmd, {
      timeout: options.timeout ?? this.opts.cleanupTimeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
    })) {
      const { ShellId: id, Name: name } = item.properties;
      if (typeof id === 'string' && name === this.shellName) named.push(id);
    }
    // Creates started during the Enumerate: their shells may be listed; wait until the pool knows them.
    const { knows, lost } = await this.shells.settledKnown();
    const orphans = named.filter((id) => !knows(id));
    const results = await Promise.allSettled(
      orphans.map((id) => this.shells.deleteUnknown(id, options.signal)),
    );
    const failed = orphans.filter((_, i) => results[i]!.status === 'rejected');
    if (failed.length > 0) {
      const cause = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')?.reason;
      throw new ShellCleanupError(
        `${failed.length} orphaned shell(s) could not be deleted: ${failed.join(', ')}`,
        {
          shellIds: failed,
          cause,
          remedy:
            'call conn.sweepOrphanShells() again, or remove them on the host with Remove-WSManInstance -ResourceURI ' +
            `${RESOURCE_URIS.cmd} -SelectorSet @{ShellId='ID'}`,
        },
      );
    }
    this.shells.sweptOrphans(lost);
    if (orphans.length > 0) this.debug.log('shell', `deleted ${orphans.length} orphaned shell(s)`);
    return orphans;
  }

  stats(): ConnectionStats {
    return {
      processesRunning: this.processesRunning,
      requests: this.transport.requestCount,
      shellsOpen: this.shells.openCount,
    };
  }

  protected override concurrentRequests(): number {
    return this.opts.maxConcurrentRequests;
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
    // The deadline and the caller's abort cover the whole start: waiting for a shell, its Create, the Command.
    const deadline = new StartDeadline(options.timeout, options.signal);
    try {
      return await this.launchIn(settings, line, options, deadline);
    } finally {
      deadline.dispose();
    }
  }

  private async launchIn(
    settings: ShellSettings,
    line: string,
    options: ProcessOptions,
    deadline: StartDeadline,
  ): Promise<RemoteProcess> {
    // A reused shell may have idled out or hit a quota: ./policy.ts decides, and a fresh shell is tried once.
    for (let attempt = 0; ; attempt++) {
      let shell: Shell;
      try {
        shell = await this.shells.acquire(settings, deadline.signal);
      } catch (err) {
        if (deadline.isStop(err)) throw deadline.error('no shell was ready yet, so nothing ran');
        throw err;
      }
      if (deadline.signal.aborted) {
        await this.shells.release(shell).catch(() => undefined);
        throw deadline.error('no Command was sent');
      }
      try {
        shell.commands++;
        const proc: RemoteProcessImpl = await startRemoteProcess(
          this.transport,
          {
            shellId: shell.id,
            commandLine: line,
            deadline,
            signal: options.signal,
            cleanupTimeoutMs: this.opts.cleanupTimeoutMs,
          },
          {
            onSettled: (healthy) => this.settled(shell, healthy),
            onCompleted: (cleanup) => this.completed(shell, cleanup),
            shellEnding: () => this.isClosing,
            track: (work) => this.trackCleanup(work),
          },
        );
        return proc;
      } catch (err) {
        // The command the abort overtook is being terminated; that task decides the shell's fate.
        if (err instanceof Error && SHELL_HANDED_OFF.has(err)) throw err;
        const action = faultAction('start', err);
        if (action === 'reopen') this.shells.discard(shell);
        else if (action === 'replace') await this.shells.destroy(shell);
        else {
          if (commandMayHaveRun(err)) await this.shells.destroy(shell).catch(() => undefined);
          else await this.shells.release(shell).catch(() => undefined);
          throw err;
        }
        if (attempt >= MAX_REOPENS) throw err;
        this.debug.log('shell', `reopening shell after fault ${(err as { faultCode?: number }).faultCode}`);
      }
    }
  }

  /** Cleanup still going on after its command's caller was answered: close() waits for it (bounded). */
  private trackCleanup(work: Promise<unknown>): void {
    const tracked: Promise<void> = work
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => this.pendingCleanups.delete(tracked));
    this.pendingCleanups.add(tracked);
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

  /**
   * Delete every shell (after the terminates still on their way) and close all sockets. Rejects with a
   * ShellCleanupError naming the shells that could not be deleted.
   */
  protected async releaseResources(): Promise<void> {
    await Promise.allSettled([...this.pendingCleanups]);
    try {
      await this.shells.closeAll();
    } finally {
      // A Create that failed without an answer may have left a shell the pool never knew: find it by name.
      // Best effort, the whole sweep bounded by cleanupTimeout; a failure is logged, not thrown (close() reports
      // the shells it knew of).
      if (this.shells.mayHaveOrphans) {
        const signal = AbortSignal.timeout(this.opts.cleanupTimeoutMs);
        await this.sweep(this.resources, { signal }).catch((err: unknown) =>
          this.debug.log('shell', `orphan sweep failed: ${err instanceof Error ? err.message : String(err)}`),
        );
      }
      this.transport.close();
    }
  }

  /** destroy(): every socket dropped at once, requests in flight fail, nothing more is sent. */
  protected override dropResources(): void {
    this.shells.abandon();
    this.transport.destroy();
  }

  /** The shells that may be left on the server (close() ran out of time, or destroy()). */
  protected override leftBehind(cause?: unknown): ShellCleanupError | undefined {
    return this.shells.remainingIds().length > 0 ? this.shells.cleanupError(cause) : undefined;
  }
}
