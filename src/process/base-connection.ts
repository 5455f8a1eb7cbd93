/**
 * What every strategy shares, on top of its startProcess: command resolution (quoting, secrets into the
 * redacting log), the deadline check, stdin feeding and output collection for execute(), executePowerShell(),
 * transfers through TransferPeer, and close tracking (close() lets starting commands finish, terminates what
 * runs, waits for it, then lets the strategy release its resources). A strategy implements {@link launch},
 * {@link releaseResources} and {@link stats}; the rest is optional.
 */
import type { Readable, Writable } from 'node:stream';
import { decodeClixml, powerShellStdinCommand, resolveCommand } from '../cmdline.ts';
import { decodeCodepage } from '../codepage.ts';
import type {
  CommandInput,
  Connection,
  ConnectionStats,
  ConnectionType,
  DirectoryTransferResult,
  ExecuteOptions,
  ExecuteResult,
  ProcessOptions,
  RemoteProcess,
  TransferOptions,
  TransferResult,
} from '../connection.ts';
import type { DebugLog } from '../debug.ts';
import { ConnectionError, InvalidArgumentError } from '../errors.ts';
import {
  downloadDirectory,
  downloadFile,
  type TransferPeer,
  uploadDirectory,
  uploadFile,
} from '../transfer/index.ts';
import { closeStdin, collectOutput, feedStdin } from './io.ts';
import { checkDeadline } from './lifecycle.ts';

const DEFAULT_MAX_BUFFER = 64 * 1024 * 1024;
/** Stdin bytes per write for strategies that do not know better. */
const DEFAULT_STDIN_CAPACITY = 64 * 1024;

export abstract class BaseConnection implements Connection {
  abstract readonly connectionType: ConnectionType;
  private readonly running = new Set<RemoteProcess>();
  /** Commands still starting: close() lets them finish (or fail) before it terminates what runs. */
  private readonly starting = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;

  /** `codepage`: the connection's default console code page, to decode execute() output. */
  constructor(
    protected readonly debug: DebugLog,
    private readonly defaultCodepage: number,
  ) {}

  /** Start `line` (cmd.exe text, quoted and checked) with `options` (deadline checked). */
  protected abstract launch(line: string, options: ProcessOptions): Promise<RemoteProcess>;

  /** After every process ended: release remote resources and sockets. */
  protected abstract releaseResources(): Promise<void>;

  abstract stats(): ConnectionStats;

  /** close() has begun: refuse new work the strategy queues itself (commands waiting for a shell). */
  protected stopAccepting(): void {}

  /** Raw stdin bytes one write carries to the remote process (transfers pack lines to it). */
  protected stdinCapacity(): number {
    return DEFAULT_STDIN_CAPACITY;
  }

  /** Processes started and not yet exited. */
  protected get processesRunning(): number {
    return this.running.size;
  }

  protected get isClosing(): boolean {
    return this.closing !== undefined;
  }

  async startProcess(command: CommandInput, options: ProcessOptions = {}): Promise<RemoteProcess> {
    const proc = await this.start(command, options);
    if (options.stdin !== undefined) feedStdin(proc.stdin, options.stdin);
    return proc;
  }

  private start(command: CommandInput, options: ProcessOptions): Promise<RemoteProcess> {
    const p = this.open(command, options);
    this.starting.add(p);
    const forget = () => this.starting.delete(p);
    p.then(forget, forget);
    return p;
  }

  private async open(command: CommandInput, options: ProcessOptions): Promise<RemoteProcess> {
    if (this.closing) throw new ConnectionError('The connection is closed');
    const { line, secrets } = resolveCommand(command);
    for (const s of secrets) this.debug.addSecret(s);
    checkDeadline(options.timeout);
    const proc = await this.launch(line, options);
    this.running.add(proc);
    const forget = () => this.running.delete(proc);
    proc.exited.then(forget, forget);
    return proc;
  }

  async execute(command: CommandInput, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    const proc = await this.start(command, options);
    if (options.stdin !== undefined) feedStdin(proc.stdin, options.stdin);
    else closeStdin(proc.stdin);
    const codepage = options.codepage ?? this.defaultCodepage;
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
      stdinCapacity: () => this.stdinCapacity(),
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

  /** Terminate running commands, wait for them, then release every remote resource and socket. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // Commands waiting for room fail now; one already on the wire becomes a running process.
      this.stopAccepting();
      await Promise.allSettled([...this.starting]);
      for (const p of this.running) await p.kill('terminate').catch(() => undefined);
      await Promise.allSettled([...this.running].map((p) => p.exited));
      await this.releaseResources();
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
