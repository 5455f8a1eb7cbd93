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
  /** Bytes for the process's stdin; a Readable is streamed. Default: no stdin (closed at once). */
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

export interface TransferOptions {
  onProgress?: (progress: { bytes: number; total: number | undefined; path: string }) => void;
  /** Replace an existing target. Default: true. */
  overwrite?: boolean;
  signal?: AbortSignal;
  /** Overall deadline in milliseconds. Default: none. */
  timeout?: number;
}

export interface TransferResult {
  bytes: number;
  sha256: string;
  remotePath: string;
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
  /** Release every remote resource (shells) and local socket. Idempotent. */
  close(): Promise<void>;
}

export type ConnectionType = 'WINRM_INTERNAL' | 'WINRM_NATIVE';
