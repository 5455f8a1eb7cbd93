/**
 * The WinRM-internal strategy (Overthere's WINRM_INTERNAL): WS-Management SOAP over HTTP(S) from this process.
 * Shells are reused across commands; close() deletes every shell it opened.
 */

import type { Readable, Writable } from 'node:stream';
import { decodeClixml, powerShellStdinCommand, resolveCommand } from '../cmdline.ts';
import { checkCodepage, decodeCodepage } from '../codepage.ts';
import type {
  CommandInput,
  Connection,
  DirectoryTransferResult,
  ExecuteOptions,
  ExecuteResult,
  ProcessOptions,
  RemoteProcess,
  TransferOptions,
  TransferResult,
} from '../connection.ts';
import { DebugLog } from '../debug.ts';
import { ConnectionError, InvalidArgumentError } from '../errors.ts';
import type { ResolvedOptions } from '../options.ts';
import {
  downloadDirectory,
  downloadFile,
  type TransferPeer,
  uploadDirectory,
  uploadFile,
} from '../transfer/index.ts';
import { createHttpTransport } from '../transport/http.ts';
import { WsmanTransport } from '../transport/wsman-transport.ts';
import { sendPayloadCapacity } from '../wsman/actions/send.ts';
import { FAULT } from '../wsman/constants.ts';
import { isFault } from '../wsman/faults.ts';
import { collectOutput, feedStdin } from './io.ts';
import { type RemoteProcessImpl, startRemoteProcess } from './process.ts';
import { type Shell, ShellPool } from './shells.ts';

const DEFAULT_MAX_BUFFER = 64 * 1024 * 1024;
/** ShellId and CommandId are GUIDs: measuring the empty Send with one of the same length gives its exact size. */
const GUID_SIZED = '00000000-0000-0000-0000-000000000000';

export class WinRmInternalConnection implements Connection {
  readonly connectionType = 'WINRM_INTERNAL' as const;
  readonly transport: WsmanTransport;
  private readonly shells: ShellPool;
  private readonly debug: DebugLog;
  private readonly running = new Set<RemoteProcessImpl>();
  private readonly pendingCleanups = new Set<Promise<void>>();
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: ResolvedOptions) {
    this.debug = new DebugLog(opts.logger);
    this.debug.addSecret(opts.password);
    this.transport = new WsmanTransport(opts, createHttpTransport(opts), this.debug);
    this.shells = new ShellPool(this.transport, opts);
  }

  /** Number of HTTP requests sent so far (benchmarks report requests per execute). */
  get requestCount(): number {
    return this.transport.requestCount;
  }

  async startProcess(command: CommandInput, options: ProcessOptions = {}): Promise<RemoteProcess> {
    const proc = await this.start(command, options);
    if (options.stdin !== undefined) feedStdin(proc.stdin, options.stdin);
    return proc;
  }

  private start(command: CommandInput, options: ProcessOptions): Promise<RemoteProcessImpl> {
    return this.tracked(this.open(command, options));
  }

  private async open(command: CommandInput, options: ProcessOptions): Promise<RemoteProcessImpl> {
    if (this.closing) throw new ConnectionError('The connection is closed');
    const { line, secrets } = resolveCommand(command);
    for (const s of secrets) this.debug.addSecret(s);
    if (options.timeout !== undefined && (!Number.isFinite(options.timeout) || options.timeout <= 0)) {
      throw new InvalidArgumentError(
        `timeout must be a positive number of milliseconds, got ${options.timeout}`,
        {
          argument: 'timeout',
        },
      );
    }
    const settings = {
      codepage: checkCodepage(options.codepage ?? this.opts.codepage),
      noProfile: options.noProfile ?? this.opts.noProfile,
      cwd: options.cwd,
      env: options.env,
    };
    // A reused shell may have idled out (2150858843) or hit the operations quota (2150859174, which Windows
    // only releases when the shell is deleted): open a fresh shell once and retry.
    for (let attempt = 0; ; attempt++) {
      const shell = await this.shells.acquire(settings, options.signal);
      try {
        shell.commands++;
        const proc = await startRemoteProcess(
          this.transport,
          { shellId: shell.id, commandLine: line, timeoutMs: options.timeout, signal: options.signal },
          {
            onSettled: (healthy) => this.settled(proc, shell, healthy),
            onCompleted: (cleanup) => this.completed(proc, shell, cleanup),
          },
        );
        this.running.add(proc);
        return proc;
      } catch (err) {
        if (isFault(err, FAULT.ShellNotFound)) this.shells.discard(shell);
        else if (isFault(err, FAULT.QuotaMaxOperations, FAULT.QuotaMaxCommandsPerShell))
          await this.shells.destroy(shell);
        else {
          await this.shells.release(shell).catch(() => undefined);
          throw err;
        }
        if (attempt >= 1) throw err;
        this.debug.log('shell', `reopening shell after fault ${(err as { faultCode?: number }).faultCode}`);
      }
    }
  }

  /** The shell goes back to the pool at once; a terminate that fails later retires it. */
  private completed(proc: RemoteProcessImpl, shell: Shell, cleanup: Promise<boolean>): void {
    this.running.delete(proc);
    const tracked: Promise<void> = cleanup
      .then((ok) => {
        if (!ok) shell.retired = true;
      })
      .finally(() => this.pendingCleanups.delete(tracked));
    this.pendingCleanups.add(tracked);
    if (!this.closing) void this.shells.release(shell).catch(() => undefined);
  }

  private settled(proc: RemoteProcessImpl, shell: Shell, healthy: boolean): void {
    this.running.delete(proc);
    if (healthy && !this.closing) void this.shells.release(shell).catch(() => undefined);
    else void this.shells.destroy(shell).catch(() => undefined);
  }

  async execute(command: CommandInput, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    const proc = await this.start(command, options);
    if (options.stdin !== undefined) feedStdin(proc.stdin, options.stdin);
    const codepage = options.codepage ?? this.opts.codepage;
    const maxBuffer = options.maxBuffer ?? DEFAULT_MAX_BUFFER;
    const outP = collectOutput(proc.stdout, maxBuffer, options.onStdout);
    const errP = collectOutput(proc.stderr, maxBuffer, options.onStderr);
    let exitCode: number;
    try {
      exitCode = await proc.exited;
    } catch (e) {
      // The command's error wins over the streams' premature close.
      outP.catch(() => undefined);
      errP.catch(() => undefined);
      throw e;
    }
    const [out, err] = await Promise.all([outP, errP]);
    return {
      exitCode,
      stdout: out.data,
      stderr: err.data,
      stdoutText: decodeCodepage(out.data, codepage),
      stderrText: decodeCodepage(err.data, codepage),
      truncated: out.truncated || err.truncated,
    };
  }

  async executePowerShell(script: string, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    if (typeof script !== 'string' || script.trim() === '') {
      throw new InvalidArgumentError('The PowerShell script is empty', { argument: 'script' });
    }
    if (options.stdin !== undefined) {
      throw new InvalidArgumentError(
        'executePowerShell sends the script over stdin; the stdin option cannot be used',
        {
          argument: 'stdin',
          remedy: 'embed the data in the script, or use startProcess with powershell.exe',
        },
      );
    }
    const result = await this.execute(powerShellStdinCommand(), {
      ...options,
      codepage: 65001,
      stdin: Buffer.from(script, 'utf8'),
    });
    const stderrText = decodeClixml(result.stderrText);
    return { ...result, stderrText, stderr: Buffer.from(stderrText, 'utf8') };
  }

  private get transferPeer(): TransferPeer {
    return {
      startProcess: (command, options) => this.startProcess(command, options),
      stdinCapacity: () => sendPayloadCapacity(this.transport.context(), GUID_SIZED, GUID_SIZED),
    };
  }

  upload(
    source: string | Buffer | Readable,
    remotePath: string,
    options?: TransferOptions,
  ): Promise<TransferResult> {
    return uploadFile(this.transferPeer, source, remotePath, options);
  }

  download(
    remotePath: string,
    destination: string | Writable,
    options?: TransferOptions,
  ): Promise<TransferResult> {
    return downloadFile(this.transferPeer, remotePath, destination, options);
  }

  uploadDirectory(
    localDir: string,
    remoteDir: string,
    options?: TransferOptions,
  ): Promise<DirectoryTransferResult> {
    return uploadDirectory(this.transferPeer, localDir, remoteDir, options);
  }

  downloadDirectory(
    remoteDir: string,
    localDir: string,
    options?: TransferOptions,
  ): Promise<DirectoryTransferResult> {
    return downloadDirectory(this.transferPeer, remoteDir, localDir, options);
  }

  /** Commands still starting: close() lets them finish (or fail) before it terminates what runs. */
  private readonly starting = new Set<Promise<unknown>>();
  private tracked<T>(p: Promise<T>): Promise<T> {
    this.starting.add(p);
    const forget = () => this.starting.delete(p);
    p.then(forget, forget);
    return p;
  }

  /** Delete every shell and close all sockets. Running commands are terminated first. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // Commands waiting for a shell fail now; one whose Command is on the wire becomes a running process.
      this.shells.stop();
      await Promise.allSettled([...this.starting]);
      for (const p of this.running) await p.kill('terminate').catch(() => undefined);
      await Promise.allSettled([...this.running].map((p) => p.exited));
      await Promise.allSettled([...this.pendingCleanups]);
      const errors = await this.shells.closeAll();
      this.transport.close();
      if (errors.length > 0) this.debug.log('shell', `${errors.length} shell(s) could not be deleted`);
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
