/**
 * The Connection contract every strategy implements (WinRM-internal today, winrs-native next), in the spirit of
 * Overthere's OverthereConnection: execute a command, start a process with streams, move files, close.
 */
import type { Readable, Writable } from 'node:stream';
import type { CmdLine } from './cmdline.ts';

/** A command: text run by cmd.exe as is, an argv array quoted for cmd.exe, or a {@link CmdLine}. */
export type CommandInput = string | readonly string[] | CmdLine;

export type RemoteSignal = 'ctrl_c' | 'ctrl_break' | 'terminate';

export interface ProcessOptions {
  /**
   * Bytes for the process's stdin; a Readable is streamed, and stdin is ended after it. Default: none; execute()
   * then closes stdin at once (End="true"), while startProcess() leaves `stdin` open for the caller to write and
   * `end()`.
   */
  stdin?: string | Buffer | Readable;
  /** Extra environment variables for the shell running the command. Default: none. */
  env?: Readonly<Record<string, string>>;
  /** Working directory of the shell running the command. Default: the account's profile directory. */
  cwd?: string;
  /** Overall deadline in milliseconds for the command; on expiry it is killed and a TimeoutError thrown. Default: none. */
  timeout?: number;
  /** Cancels the command (ctrl_c, then terminate) and rejects with an AbortError. Default: none. */
  signal?: AbortSignal;
  /** Console code page for the shell (WINRS_CODEPAGE). Default: 65001 (UTF-8). */
  codepage?: number;
  /** Do not load the user profile (WINRS_NOPROFILE). Default: false. */
  noProfile?: boolean;
}

export interface ExecuteOptions extends ProcessOptions {
  /** Called with each stdout chunk as it arrives. Default: none. */
  onStdout?: (chunk: Buffer) => void;
  /** Called with each stderr chunk as it arrives. Default: none. */
  onStderr?: (chunk: Buffer) => void;
  /**
   * Keep at most this many bytes of each stream in the result (the callbacks still see everything).
   * Default: 64 MiB. Beyond it the result's `truncated` flag is set.
   */
  maxBuffer?: number;
}

export interface ExecuteResult {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
  /** stdout decoded with the shell's code page. */
  stdoutText: string;
  /** stderr decoded with the shell's code page. */
  stderrText: string;
  /** True when a stream exceeded `maxBuffer` and was cut. */
  truncated: boolean;
}

/**
 * A running remote process. Streams apply back-pressure: an unread stdout stops the polling. When the command
 * fails or is killed, `exited` rejects with the typed error and the streams close without ending.
 */
export interface RemoteProcess {
  /** Write to the process's stdin; `end()` sends End="true". */
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Resolves with the exit code once the command is done and its output delivered. */
  readonly exited: Promise<number>;
  /** Send ctrl_c (default), ctrl_break, or terminate. */
  kill(signal?: RemoteSignal): Promise<void>;
}

/** Progress of a transfer, reported after each chunk. */
export interface TransferProgress {
  /** Bytes transferred so far (for a directory: over all its files). */
  bytes: number;
  /** Bytes expected in all, when known (a Readable source has no known size). */
  total: number | undefined;
  /** The remote path of the file being transferred. */
  path: string;
}

export interface TransferOptions {
  /** Called after each chunk is sent or received. Default: none. */
  onProgress?: (progress: TransferProgress) => void;
  /**
   * Replace an existing target (the remote file for uploads, the local file for downloads); with false an
   * existing target is an error and nothing is written. Default: true.
   */
  overwrite?: boolean;
  /**
   * Cancels the transfer and rejects with an AbortError. An upload's target stays the old file (or, when the cancel
   * comes after the last file was verified and renamed, the complete new one); no temporary file remains.
   * Default: none.
   */
  signal?: AbortSignal;
  /** Overall deadline in milliseconds; on expiry the transfer is cancelled and a TimeoutError thrown. Default: none. */
  timeout?: number;
  /**
   * Raw bytes per data line (each line is base64 text). Default: derived from the envelope, so that one line
   * fills one Send: (MaxEnvelopeSize minus the empty Send envelope) x 3/4 for the Send's base64, minus the
   * newline, x 3/4 for the line's base64 (about 287 KB at 512,000-byte envelopes).
   */
  chunkSize?: number;
  /**
   * Remote processes (each in its own shell) one transfer uses at once, 1 to 16. A single file of known size
   * (a path or a Buffer; uploads) or to a local path (downloads) is cut into ranges moved in parallel, with one
   * SHA-256 over the whole file; a directory spreads its files over the streams. Default: 8, which with one
   * Send or Receive in flight per stream beside its output poll fills the default maxConcurrentRequests (16).
   * Fewer run when the shell budget (maxShells, the host's MaxShellsPerUser) is short: streams that cannot start
   * take no work, and the transfer goes on with the others. At most half the connection's maxConcurrentRequests
   * run (more would leave every request a Receive waiting on Sends queued behind it). 1: one process, as before.
   */
  streams?: number;
}

export interface TransferResult {
  /** Bytes transferred. */
  bytes: number;
  /** Lower-case hex SHA-256 of the content, computed on both sides and found equal. */
  sha256: string;
  /** The remote file's full path, as the remote host resolved it. */
  remotePath: string;
  durationMs: number;
}

export interface DirectoryTransferResult {
  /** The remote directory's full path. */
  remotePath: string;
  /** One result per file, in transfer order. */
  files: TransferResult[];
  /** Directories created (upload) or found (download), the top one included. */
  directories: number;
  /** Bytes over all files. */
  bytes: number;
  durationMs: number;
}

export interface Connection extends AsyncDisposable {
  /** 'WINRM_INTERNAL' or 'WINRM_NATIVE'. */
  readonly connectionType: ConnectionType;
  /** Run a command to completion and collect its output. */
  execute(command: CommandInput, options?: ExecuteOptions): Promise<ExecuteResult>;
  /** Start a command and talk to it through streams. */
  startProcess(command: CommandInput, options?: ProcessOptions): Promise<RemoteProcess>;
  /** Run a PowerShell script of any length (sent over stdin, not the command line). */
  executePowerShell(script: string, options?: ExecuteOptions): Promise<ExecuteResult>;
  /**
   * Copy a local file (path), a Buffer or a Readable to `remotePath` on the host. The data is verified by
   * SHA-256 on both sides before it replaces the target, which is never left partial. Throws TransferError
   * (missing remote directory, access denied, target exists with overwrite false, hash mismatch, connection
   * failure), AbortError or TimeoutError.
   */
  upload(
    source: string | Buffer | Readable,
    remotePath: string,
    options?: TransferOptions,
  ): Promise<TransferResult>;
  /**
   * Copy the remote file to a local path (written to a temporary file beside it, renamed once verified) or to a
   * Writable (written as it arrives, ended on success, destroyed on failure). Never holds the file in memory.
   */
  download(
    remotePath: string,
    destination: string | Writable,
    options?: TransferOptions,
  ): Promise<TransferResult>;
  /**
   * Copy a local directory tree (empty directories included) into `remoteDir`, which is created with any missing
   * parents. All files go through one remote process.
   */
  uploadDirectory(
    localDir: string,
    remoteDir: string,
    options?: TransferOptions,
  ): Promise<DirectoryTransferResult>;
  /** Copy a remote directory tree (empty directories included) into `localDir`, created if missing. */
  downloadDirectory(
    remoteDir: string,
    localDir: string,
    options?: TransferOptions,
  ): Promise<DirectoryTransferResult>;
  /** Diagnostics: what the connection has sent and holds open now. */
  stats(): ConnectionStats;
  /**
   * Terminate running commands, then release every remote resource (shells) and local socket. Idempotent.
   * Bounded by the `closeTimeout` option (ms, default 30000): past it the connection is destroyed as by
   * {@link destroy}. Resolves when everything was released; rejects with a ShellCleanupError (its `shellIds`
   * name the shells that may still exist on the server, counted by Windows against MaxShellsPerUser) when a
   * Delete failed even on a fresh socket, or the bound passed. Never resolves with shells left behind.
   */
  close(): Promise<void>;
  /**
   * Drop everything at once, without a request: no more requests, every socket destroyed, running and starting
   * commands reject with a ConnectionError. Remote shells are left to Windows' IdleTimeout; a later close()
   * rejects with a ShellCleanupError naming them. Idempotent.
   */
  destroy(): void;
}

/**
 * What a connection has sent and holds open, for diagnostics and benchmarks. Counters a strategy does not have
 * are undefined (a winrs-native connection sends no HTTP requests and pools no shells).
 */
export interface ConnectionStats {
  /** Processes started and not yet exited. */
  processesRunning: number;
  /** WinRM-internal: HTTP requests sent so far (benchmarks report requests per execute). */
  requests?: number;
  /** WinRM-internal: remote shells open now (idle in the pool or running a command). */
  shellsOpen?: number;
}

export type ConnectionType = 'WINRM_INTERNAL' | 'WINRM_NATIVE';
