/** The command host seam: what runs a command the mock's shell was asked to start. */
import type { Readable } from 'node:stream';

/** Where a command writes its stdout or stderr. */
export interface OutputWriter {
  /**
   * Queue output. Strings are encoded in the shell's codepage (WINRS_CODEPAGE) and written as they are: pass
   * `\r\n` line ends for Windows-like text. The promise resolves when the mock's per-command buffer has room
   * again; await it to get back-pressure when the client does not Receive.
   */
  write(data: Buffer | string): Promise<void>;
}

/** What the shell knows about itself, for hosts that emulate a machine. */
export interface ShellInfo {
  shellId: string;
  /** The authenticated user's name, as configured. */
  user: string;
  /** The user's domain, or the machine name for local accounts. */
  domain: string;
  /** Machine name (COMPUTERNAME). */
  machine: string;
  /** rsp:WorkingDirectory from Create, or the user's profile directory (`C:\Users\NAME`). */
  workingDirectory: string;
  /** Environment the shell was created with: defaults plus rsp:Environment variables. */
  environment: Readonly<Record<string, string>>;
  /** The mock's file area (the directory standing for the drives, `C:\` is `<fileRoot>/C`). */
  fileRoot: string;
}

/** Everything a host gets to run one command. */
export interface CommandContext {
  /** rsp:Command text as sent. */
  command: string;
  /** rsp:Arguments values as sent (pywinrm sends all arguments as one element). */
  args: readonly string[];
  /** command and args joined with single spaces: the line cmd.exe would see. */
  commandLine: string;
  /** stdin bytes from Send requests; ends when a Send carries End="true". */
  stdin: Readable;
  /**
   * Aborted on Signal ctrl_c / ctrl_break (reason: the signal name), Signal terminate, shell Delete, shell idle
   * timeout and server close.
   */
  signal: AbortSignal;
  stdout: OutputWriter;
  stderr: OutputWriter;
  /** WINRS_CODEPAGE of the shell. Default: 437 when the Create request has none (Windows' OEM default). */
  codepage: number;
  /** WINRS_CONSOLEMODE_STDIN of the Command request. */
  consoleModeStdin: boolean;
  /** WINRS_SKIP_CMD_SHELL of the Command request: true runs the program directly, not through cmd.exe /c. */
  skipCmdShell: boolean;
  shell: ShellInfo;
  /**
   * Report the command's memory use in MB. Above the shell's MaxMemoryPerShellMB quota the command is ended as
   * Windows' job object ends it: no WS-Man fault, the process fails ("The paging file is too small for this
   * operation to complete." on stderr, exit code 1455).
   */
  reportMemory(mb: number): void;
}

/**
 * Runs commands. `run` resolves with the exit code. A rejection after `signal` was aborted ends the command
 * with the exit code of the signal (see docs/mock.md); any other rejection is written to stderr, exit code 1.
 */
export interface CommandHost {
  run(ctx: CommandContext): Promise<number>;
  /** Called by server close(). Default: nothing. */
  close?(): Promise<void> | void;
}

/** Something output can be written to. */
export interface Sink {
  write(data: Buffer | string): Promise<void>;
}
