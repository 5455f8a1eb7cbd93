/**
 * The `local` runner: winrs runs on this machine, spawned directly (no shell). On Windows Node quotes each
 * argument for the C runtime's splitting, which gives winrs.exe each element back; elsewhere the elements are
 * the argv of the program as they are (the `winrs-emulator`).
 *
 * kill(): 'ctrl_c' sends SIGINT and 'terminate' SIGTERM. On POSIX the emulator forwards them as WinRM Signals
 * (ctrl_c, terminate). On Windows Node cannot raise a console Ctrl-C in another process: both end winrs.exe
 * (TerminateProcess); the remote command then stops when WinRM notices the client is gone (its shell is
 * deleted by the IdleTimeout of winrm/config/winrs at the latest).
 *
 * POSIX exit statuses hold 8 bits, Windows exit codes 32 (0xC000013A, 300): the runner opens a fourth pipe
 * and names it in WINRS_EMULATOR_STATUS_FD; the emulator writes the full code there before it exits. winrs.exe
 * knows nothing of it; on Windows no extra pipe is opened.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { Readable } from 'node:stream';
import { ConnectionError, InvalidArgumentError } from '../../errors.ts';
import type { WinrsChild, WinrsExit, WinrsKillSignal, WinrsRunner, WinrsSpawnOptions } from '../runner.ts';

/** The environment variable naming the descriptor the emulator writes its full exit code to. */
export const STATUS_FD_VARIABLE = 'WINRS_EMULATOR_STATUS_FD';

function executable(path: string, platform: NodeJS.Platform): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    if (platform !== 'win32') accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The file `program` names, looked up like a spawn does: a path as given, a bare name on PATH (with PATHEXT on
 * Windows). Undefined when there is none.
 */
export function findProgram(
  program: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  const exts =
    platform === 'win32' ? ['', ...(env.PATHEXT ?? '.COM;.EXE;.BAT;.CMD').split(';').filter(Boolean)] : [''];
  const hasDir = program.includes('/') || (platform === 'win32' && program.includes('\\'));
  const dirs = hasDir || isAbsolute(program) ? [''] : (env.PATH ?? env.Path ?? '').split(delimiter);
  for (const dir of dirs) {
    for (const ext of exts) {
      const candidate = dir === '' ? program + ext : join(dir, program + ext);
      if (executable(candidate, platform)) return candidate;
    }
  }
  return undefined;
}

/** connect()'s check: the program exists, or an error naming the options that fix it. */
export function checkLocalWinrs(
  program: string | undefined,
  platform: NodeJS.Platform = process.platform,
): void {
  const remedy =
    "on Windows winrs.exe comes with the system; elsewhere set winrsPath to the bundled winrs-emulator, or run winrs on a Windows proxy: winrsProxyProtocol 'ssh' or 'jump' with winrsProxyConnectionOptions";
  if (program === undefined) {
    throw new InvalidArgumentError(
      `WINRM_NATIVE with winrsProxyProtocol 'local' needs winrs, and this machine (${platform}) has none`,
      { argument: 'winrsPath', remedy },
    );
  }
  if (findProgram(program, process.env, platform) === undefined) {
    throw new InvalidArgumentError(
      `The winrs program "${program}" (winrsPath) was not found on this machine`,
      {
        argument: 'winrsPath',
        remedy,
      },
    );
  }
}

class LocalChild implements WinrsChild {
  readonly exited: Promise<WinrsExit>;
  private ended = false;

  constructor(private readonly child: ChildProcess) {
    const status = child.stdio[3] as Readable | null | undefined;
    let full = '';
    status?.setEncoding('latin1');
    status?.on('data', (text: string) => {
      full += text;
    });
    status?.on('error', () => undefined);
    child.stdin!.on('error', () => undefined);
    this.exited = new Promise<WinrsExit>((resolve) => {
      child.on('close', (code, signal) => {
        this.ended = true;
        const reported = /^exit:(\d+)\n/.exec(full);
        // The full code when the emulator reported one that agrees with the 8-bit status.
        const exact =
          reported && code !== null && (Number(reported[1]) & 0xff) === code ? Number(reported[1]) : code;
        resolve({ code: exact, signal });
      });
    });
  }

  get stdin() {
    return this.child.stdin!;
  }
  get stdout() {
    return this.child.stdout!;
  }
  get stderr() {
    return this.child.stderr!;
  }

  async kill(signal: WinrsKillSignal = 'terminate'): Promise<void> {
    if (this.ended || this.child.exitCode !== null) return;
    this.child.kill(signal === 'ctrl_c' ? 'SIGINT' : 'SIGTERM');
  }
}

export class LocalWinrsRunner implements WinrsRunner {
  readonly kind = 'local' as const;
  private readonly children = new Set<ChildProcess>();
  private closed = false;

  constructor(private readonly platform: NodeJS.Platform = process.platform) {}

  spawn(program: string, args: readonly string[], options: WinrsSpawnOptions = {}): Promise<WinrsChild> {
    if (this.closed) return Promise.reject(new ConnectionError('The local winrs runner is closed'));
    const posix = this.platform !== 'win32';
    const child = spawn(program, args, {
      stdio: posix ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
      env: posix ? { ...process.env, [STATUS_FD_VARIABLE]: '3' } : process.env,
      windowsHide: true,
    });
    this.children.add(child);
    child.on('close', () => this.children.delete(child));
    return new Promise<WinrsChild>((resolve, reject) => {
      child.once('error', (err: NodeJS.ErrnoException) => {
        this.children.delete(child);
        reject(
          new ConnectionError(`Could not start winrs "${program}": ${err.message}`, {
            cause: err,
            syscallCode: err.code,
            remedy: 'check winrsPath (a path, or a name on PATH)',
          }),
        );
      });
      child.once('spawn', () => {
        const c = new LocalChild(child);
        if (options.signal) {
          const stop = () => void c.kill('terminate');
          if (options.signal.aborted) stop();
          else options.signal.addEventListener('abort', stop, { once: true });
          c.exited.finally(() => options.signal?.removeEventListener('abort', stop)).catch(() => undefined);
        }
        resolve(c);
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  destroy(): void {
    this.closed = true;
    for (const child of this.children) child.kill('SIGKILL');
  }
}
