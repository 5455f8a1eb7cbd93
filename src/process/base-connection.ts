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
import { ConnectionError, InvalidArgumentError, TimeoutError, type WinRmError } from '../errors.ts';
import { COMMON_DEFAULTS } from '../options/common.ts';
import {
  downloadDirectory,
  downloadFile,
  type TransferPeer,
  uploadDirectory,
  uploadFile,
} from '../transfer/index.ts';
import { closeStdin, collectOutput, feedStdin, lazyText } from './io.ts';
import { checkDeadline } from './lifecycle.ts';

/** A process that can be failed with a given error (destroy() fails running commands with a ConnectionError). */
export interface Abortable {
  abortWith(err: WinRmError): void;
}

function isAbortable(p: RemoteProcess): p is RemoteProcess & Abortable {
  return typeof (p as Partial<Abortable>).abortWith === 'function';
}

const DEFAULT_MAX_BUFFER = 64 * 1024 * 1024;
/** Stdin bytes per write for strategies that do not know better. */
const DEFAULT_STDIN_CAPACITY = 64 * 1024;

export abstract class BaseConnection implements Connection {
  abstract readonly connectionType: ConnectionType;
  private readonly running = new Set<RemoteProcess>();
  /** Commands still starting: close() lets them finish (or fail) before it terminates what runs. */
  private readonly starting = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;
  /** Transfers in progress: close() stops them (closeSignal) and waits until they removed their temp files. */
  private readonly transfers = new Set<Promise<unknown>>();
  private readonly closeSignal = new AbortController();
  /** close() is waiting for transfers: they may still start their cleanup processes. */
  private draining = false;
  /** Bound of close() in milliseconds (the closeTimeout option); a strategy sets it from its options. */
  protected closeTimeoutMs: number = COMMON_DEFAULTS.closeTimeoutMs;

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

  /** Requests the strategy can have in flight at once; a transfer runs half as many streams. Default: unbounded. */
  protected concurrentRequests(): number | undefined {
    return undefined;
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

  private start(command: CommandInput, options: ProcessOptions, forTransfer = false): Promise<RemoteProcess> {
    const p = this.open(command, options, forTransfer);
    this.starting.add(p);
    const forget = () => this.starting.delete(p);
    p.then(forget, forget);
    return p;
  }

  private async open(
    command: CommandInput,
    options: ProcessOptions,
    forTransfer: boolean,
  ): Promise<RemoteProcess> {
    if (this.closing && !(forTransfer && this.draining)) {
      throw new ConnectionError('The connection is closed');
    }
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
    // One copy of each stream is kept; the text is decoded on first access (a second copy only if asked for).
    return lazyText(
      { exitCode, stdout: out.data, stderr: err.data, truncated: out.truncated || err.truncated },
      {
        stdoutText: () => decodeCodepage(out.data, codepage),
        stderrText: () => decodeCodepage(err.data, codepage),
      },
    );
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
    // Not a spread: that would decode stdout now. stderr (CLIXML, short) is decoded at once.
    const stderrText = decodeClixml(result.stderrText);
    const { stdout } = result;
    return lazyText(
      {
        exitCode: result.exitCode,
        stdout,
        stderr: Buffer.from(stderrText, 'utf8'),
        truncated: result.truncated,
      },
      { stdoutText: () => result.stdoutText, stderrText: () => stderrText },
    );
  }

  private get transferPeer(): TransferPeer {
    return {
      startProcess: (command, options = {}) => this.start(command, options, true),
      stdinCapacity: () => this.stdinCapacity(),
      concurrentRequests: () => this.concurrentRequests(),
      closing: this.closeSignal.signal,
    };
  }

  private track<T>(work: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new ConnectionError('The connection is closed'));
    const p = work();
    this.transfers.add(p);
    const forget = () => this.transfers.delete(p);
    p.then(forget, forget);
    return p;
  }

  upload(
    source: string | Buffer | Readable,
    remotePath: string,
    options?: TransferOptions,
  ): Promise<TransferResult> {
    return this.track(() => uploadFile(this.transferPeer, source, remotePath, options));
  }

  download(
    remotePath: string,
    destination: string | Writable,
    options?: TransferOptions,
  ): Promise<TransferResult> {
    return this.track(() => downloadFile(this.transferPeer, remotePath, destination, options));
  }

  uploadDirectory(
    localDir: string,
    remoteDir: string,
    options?: TransferOptions,
  ): Promise<DirectoryTransferResult> {
    return this.track(() => uploadDirectory(this.transferPeer, localDir, remoteDir, options));
  }

  downloadDirectory(
    remoteDir: string,
    localDir: string,
    options?: TransferOptions,
  ): Promise<DirectoryTransferResult> {
    return this.track(() => downloadDirectory(this.transferPeer, remoteDir, localDir, options));
  }

  /**
   * Terminate running commands, wait for them, then release every remote resource and socket, within
   * closeTimeout; past it, destroy() and reject with what was left behind. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.closeWithin(this.closeTimeoutMs);
    return this.closing;
  }

  private async closeWithin(ms: number): Promise<void> {
    const graceful = (async () => {
      // Transfers stop as on a cancel and remove their temporary files first (each bounded by its own grace).
      this.draining = true;
      this.closeSignal.abort();
      await Promise.allSettled([...this.transfers]);
      this.draining = false;
      // Commands waiting for room fail now; one already on the wire becomes a running process.
      this.stopAccepting();
      await Promise.allSettled([...this.starting]);
      for (const p of this.running) await p.kill('terminate').catch(() => undefined);
      await Promise.allSettled([...this.running].map((p) => p.exited));
      await this.releaseResources();
    })();
    graceful.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const outOfTime = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    });
    try {
      if ((await Promise.race([graceful.then(() => 'done' as const), outOfTime])) === 'done') return;
    } finally {
      clearTimeout(timer);
    }
    this.drop(new ConnectionError(`close() did not finish within ${ms} ms; the connection was destroyed`));
    const cause = new TimeoutError(`close() did not finish within ${ms} ms (closeTimeout)`, {
      timeoutMs: ms,
    });
    throw this.leftBehind(cause) ?? cause;
  }

  /**
   * Drop everything at once: no more requests, every socket destroyed; running and starting commands reject
   * with a ConnectionError. Remote shells are not deleted (a later close() rejects with a ShellCleanupError
   * naming them). Idempotent.
   */
  destroy(): void {
    if (this.destroyed) return;
    const err = new ConnectionError('The connection was destroyed');
    if (!this.closing) {
      this.closing = (async () => {
        const left = this.leftBehind();
        if (left) throw left;
      })();
      this.closing.catch(() => undefined);
    }
    this.drop(err);
  }

  private destroyed = false;

  private drop(err: WinRmError): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.stopAccepting();
    for (const p of this.running) {
      if (isAbortable(p)) p.abortWith(err);
      else void p.kill('terminate').catch(() => undefined);
    }
    this.dropResources();
  }

  /** destroy(): drop every socket and refuse further requests at once. Default: nothing to drop. */
  protected dropResources(): void {}

  /** The error naming what may be left on the far side after close() or destroy(); undefined: nothing. */
  protected leftBehind(_cause?: unknown): WinRmError | undefined {
    return undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
