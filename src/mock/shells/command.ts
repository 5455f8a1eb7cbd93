/** One command running in a mock shell: its host run, stdin, output queue, signals and final state. */

import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { SignalName } from '../../wsman/constants.ts';
import { encodeText } from '../hosts/codepage.ts';
import type { CommandContext, CommandHost, ShellInfo } from '../hosts/types.ts';
import { LazyAbortController } from '../lazy-abort.ts';
import { OutputQueue } from './output.ts';

/** STATUS_CONTROL_C_EXIT (0xC000013A), the exit code of a console process ended by Ctrl+C, as a DWORD. */
export const EXIT_CTRL_C = 3221225786;
/** ERROR_COMMITMENT_LIMIT: what a process killed by the shell's job memory limit typically exits with. */
export const EXIT_OUT_OF_MEMORY = 1455;

export type CommandStateName = 'Running' | 'Done';

export interface CommandSpec {
  command: string;
  args: string[];
  consoleModeStdin: boolean;
  skipCmdShell: boolean;
  codepage: number;
  shell: ShellInfo;
  bufferBytes: number;
  maxMemoryMB: number;
}

export class MockCommand {
  readonly id = randomUUID().toUpperCase();
  readonly spec: CommandSpec;
  readonly commandLine: string;
  readonly output: OutputQueue;
  readonly stdin = new PassThrough();
  readonly signals: SignalName[] = [];
  readonly startedAt = Date.now();
  state: CommandStateName = 'Running';
  exitCode: number | undefined;
  /** The final Done response was sent. */
  doneDelivered = false;
  /** Removed from its shell by Signal terminate. */
  terminated = false;
  stdinEnded = false;
  stdinBytes = 0;
  private readonly abort = new LazyAbortController();
  private finished: Promise<void> | undefined;

  constructor(spec: CommandSpec) {
    this.spec = spec;
    this.commandLine = [spec.command, ...spec.args].join(' ');
    this.output = new OutputQueue(spec.bufferBytes);
    // stdin that nobody reads must not keep the process alive or error.
    this.stdin.on('error', () => {});
  }

  get aborted(): boolean {
    return this.abort.aborted;
  }

  /** Start the host; resolves when the command is Done. */
  start(host: CommandHost): Promise<void> {
    const writer = (stream: string) => ({
      write: (data: Buffer | string) =>
        this.state === 'Done'
          ? Promise.resolve()
          : this.output.write(stream, typeof data === 'string' ? encodeText(data, this.spec.codepage) : data),
    });
    const abort = this.abort;
    const ctx: CommandContext = {
      command: this.spec.command,
      args: this.spec.args,
      commandLine: this.commandLine,
      stdin: this.stdin,
      get signal() {
        return abort.signal;
      },
      stdout: writer('stdout'),
      stderr: writer('stderr'),
      codepage: this.spec.codepage,
      consoleModeStdin: this.spec.consoleModeStdin,
      skipCmdShell: this.spec.skipCmdShell,
      shell: this.spec.shell,
      reportMemory: (mb) => {
        if (mb > this.spec.maxMemoryMB && !this.aborted) this.abort.abort('memory');
      },
    };
    this.finished = (async () => {
      let code: number;
      try {
        code = await host.run(ctx);
      } catch (err) {
        code = this.exitCodeForAbort() ?? (await this.hostFailed(err));
      }
      if (this.abort.reason === 'memory') {
        await this.output.write(
          'stderr',
          encodeText('The paging file is too small for this operation to complete.\r\n', this.spec.codepage),
        );
        code = EXIT_OUT_OF_MEMORY;
      }
      this.finish(code);
    })();
    return this.finished;
  }

  private exitCodeForAbort(): number | undefined {
    if (!this.aborted) return undefined;
    const reason = this.abort.reason;
    return reason === 'ctrl_c' || reason === 'ctrl_break' ? EXIT_CTRL_C : 1;
  }

  private async hostFailed(err: unknown): Promise<number> {
    const msg = err instanceof Error ? err.message : String(err);
    await this.output.write('stderr', encodeText(`${msg}\r\n`, this.spec.codepage));
    return 1;
  }

  private finish(code: number): void {
    if (this.state === 'Done') return;
    this.state = 'Done';
    this.exitCode = Number.isInteger(code) ? code : 1;
    this.stdin.destroy();
    this.output.wake();
  }

  /** Signal ctrl_c / ctrl_break / terminate ([MS-WSMV] 3.1.4.12). */
  signal(name: SignalName): void {
    this.signals.push(name);
    if (name === 'terminate') {
      this.terminated = true;
      this.kill('terminate');
    } else if (this.state === 'Running' && !this.aborted) {
      this.abort.abort(name);
    }
  }

  /** End the command for good (terminate, shell delete, idle timeout, server close). */
  kill(reason: string): void {
    if (!this.aborted) this.abort.abort(reason);
    if (reason !== 'ctrl_c') this.output.close();
    this.finish(this.exitCode ?? 1);
  }

  /**
   * Feed stdin from a Send. Resolves once the host has taken the data off the pipe (or the command is gone),
   * so a SendResponse means the bytes were consumed and a client that sends faster than the command reads is
   * slowed down instead of filling the mock's memory.
   */
  send(data: Buffer, end: boolean): Promise<void> {
    if (this.stdinEnded) return Promise.resolve();
    this.stdinBytes += data.length;
    let wait = Promise.resolve();
    if (data.length > 0 && !this.stdin.destroyed && !this.stdin.write(data)) {
      wait = new Promise<void>((resolve) => {
        const done = () => {
          this.stdin.off('drain', done);
          this.stdin.off('close', done);
          resolve();
        };
        this.stdin.once('drain', done);
        this.stdin.once('close', done);
        void this.finished?.then(done, done);
      });
    }
    if (end) {
      this.stdinEnded = true;
      if (!this.stdin.destroyed) this.stdin.end();
    }
    return wait;
  }

  /** Resolves when the host's run has settled. */
  settled(): Promise<void> {
    return this.finished ?? Promise.resolve();
  }
}
