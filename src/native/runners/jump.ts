/**
 * The `jump` winrs runner: winrs runs on a Windows jump host reached through another {@link Connection} (a
 * WinRM-internal one, typically), by that connection's `startProcess`: the strategies compose. The winrs argv is
 * turned into one cmd.exe line by src/cmdline.ts ({@link CmdLine}: each element arrives as exactly that argument
 * of winrs.exe), and the winrs password argument (`-p:` / `-password:`, any abbreviation winrs accepts) is added as
 * a secret argument, so the internal connection masks it in its logs and errors.
 *
 * kill: the internal process's kill: `ctrl_c` (winrs.exe, like on a console, then asks its own target to stop the
 * command with a ctrl_c Signal), then `terminate` when the process has not ended within `killGraceMs`.
 */
import { inspect } from 'node:util';
import { CmdLine } from '../../cmdline.ts';
import type { Connection, RemoteProcess } from '../../connection.ts';
import { AbortError, ConnectionError, InvalidArgumentError } from '../../errors.ts';
import {
  killOnAbort,
  type WinrsChild,
  type WinrsExit,
  type WinrsKillSignal,
  type WinrsRunner,
  type WinrsRunnerFactory,
  type WinrsSpawnOptions,
} from '../runner.ts';

/** Default wait after the ctrl_c before terminate (ms). */
export const DEFAULT_JUMP_KILL_GRACE_MS = 5_000;

export interface JumpRunnerOptions {
  /** The connection to the Windows jump host that runs winrs (for instance a WINRM_INTERNAL connection). Required. */
  connection: Connection;
  /** After kill()'s ctrl_c, how long to wait for winrs to end before terminate, in ms. Default: 5000. */
  killGraceMs?: number;
  /** close() and destroy() also close the jump connection. Default: false (the caller owns it). */
  ownsConnection?: boolean;
}

/**
 * winrs.exe's password flag in any form it accepts (`winrs /?`: `-p[assword]:`, with `-` or `/`): such an
 * argument's value is a secret.
 */
const PASSWORD_FLAG = /^[-/]p(?:a(?:s(?:s(?:w(?:o(?:r(?:d)?)?)?)?)?)?)?:/i;

/** The cmd.exe line the jump host runs: winrs's argv quoted by src/cmdline.ts, the password a secret argument. */
export function jumpCommandLine(program: string, args: readonly string[]): CmdLine {
  const line = new CmdLine().addArgument(program);
  for (const a of args) {
    if (PASSWORD_FLAG.test(a)) line.addPassword(a);
    else line.addArgument(a);
  }
  return line;
}

/** A {@link WinrsRunner} over a connection to a Windows jump host. Construct it with {@link createJumpRunner}. */
export class JumpWinrsRunner implements WinrsRunner {
  readonly kind = 'jump' as const;
  readonly #conn: Connection;
  readonly #graceMs: number;
  readonly #owns: boolean;
  readonly #children = new Set<JumpChild>();
  #closed = false;

  constructor(options: JumpRunnerOptions) {
    if (!options?.connection || typeof options.connection.startProcess !== 'function') {
      throw new InvalidArgumentError(
        'The jump runner needs connection: a Connection to the Windows jump host',
        {
          argument: 'connection',
          remedy:
            "connect({ connectionType: 'WINRM_INTERNAL', ... }) to the jump host and pass that connection",
        },
      );
    }
    const grace = options.killGraceMs ?? DEFAULT_JUMP_KILL_GRACE_MS;
    if (!Number.isFinite(grace) || grace < 0) {
      throw new InvalidArgumentError(`killGraceMs must be a number of milliseconds >= 0, got ${grace}`, {
        argument: 'killGraceMs',
      });
    }
    this.#conn = options.connection;
    this.#graceMs = grace;
    this.#owns = options.ownsConnection === true;
  }

  async spawn(
    program: string,
    args: readonly string[],
    options: WinrsSpawnOptions = {},
  ): Promise<WinrsChild> {
    if (this.#closed) throw new ConnectionError('The jump runner is closed');
    if (options.signal?.aborted) throw new AbortError('The winrs process was aborted before it started');
    const proc = await this.#conn.startProcess(jumpCommandLine(program, args));
    const child = new JumpChild(proc, this.#graceMs);
    this.#children.add(child);
    const forget = () => this.#children.delete(child);
    child.exited.then(forget, forget);
    killOnAbort(child, options.signal);
    return child;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#children].map((c) => c.kill()));
    if (this.#owns) await this.#conn.close();
  }

  destroy(): void {
    this.#closed = true;
    if (this.#owns) this.#conn.destroy();
  }

  [inspect.custom](): string {
    return `JumpWinrsRunner { ${this.#conn.connectionType}, running: ${this.#children.size} }`;
  }
}

/** One winrs process on the jump host. */
class JumpChild implements WinrsChild {
  readonly stdin: RemoteProcess['stdin'];
  readonly stdout: RemoteProcess['stdout'];
  readonly stderr: RemoteProcess['stderr'];
  readonly exited: Promise<WinrsExit>;
  readonly #proc: RemoteProcess;
  readonly #graceMs: number;
  #done = false;
  #killing: Promise<void> | undefined;
  #terminated = false;

  constructor(proc: RemoteProcess, graceMs: number) {
    this.#proc = proc;
    this.#graceMs = graceMs;
    this.stdin = proc.stdin;
    this.stdout = proc.stdout;
    this.stderr = proc.stderr;
    this.exited = proc.exited.then(
      (code) => {
        this.#done = true;
        return { code, signal: null };
      },
      (err: unknown) => {
        this.#done = true;
        // terminate ends the command without an exit code: the internal process rejects with an AbortError.
        if (this.#terminated && err instanceof AbortError) return { code: null, signal: null };
        throw err;
      },
    );
    this.exited.catch(() => undefined);
  }

  /** 'ctrl_c': the internal process's ctrl_c. 'terminate' (the default): ctrl_c, then terminate after the grace period. Idempotent. */
  kill(signal: WinrsKillSignal = 'terminate'): Promise<void> {
    if (signal === 'ctrl_c')
      return this.#done ? Promise.resolve() : this.#proc.kill('ctrl_c').catch(() => undefined);
    this.#killing ??= this.#kill();
    return this.#killing;
  }

  async #kill(): Promise<void> {
    if (this.#done) return;
    await this.#proc.kill('ctrl_c').catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([
      this.exited.then(
        () => true,
        () => true,
      ),
      new Promise<boolean>((ok) => {
        timer = setTimeout(() => ok(false), this.#graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (ended) return;
    this.#terminated = true;
    await this.#proc.kill('terminate').catch(() => undefined);
  }
}

/** A jump-host winrs runner over an existing connection. */
export function createJumpRunner(options: JumpRunnerOptions): JumpWinrsRunner {
  return new JumpWinrsRunner(options);
}

/** Opens the jump connection: connect() itself, handed in by the strategy registry (no import cycle). */
export type JumpConnect = (options: Readonly<Record<string, unknown>>) => Promise<Connection>;

/**
 * The runner factory of `winrsProxyProtocol: 'jump'`. `winrsProxyConnectionOptions` are either
 * `{ connection, killGraceMs? }` (an open Connection to the jump host, which the caller keeps and closes) or the
 * connect() options of the jump host (connectionType defaults to 'WINRM_INTERNAL'; `killGraceMs` is taken out
 * first), opened before connect() resolves and closed with the winrs-native connection.
 */
export function jumpRunnerFactory(open: JumpConnect): WinrsRunnerFactory {
  return async (proxyOptions) => {
    const { connection, killGraceMs, ...rest } = proxyOptions as Record<string, unknown>;
    if (killGraceMs !== undefined && typeof killGraceMs !== 'number') {
      throw new InvalidArgumentError(
        'winrsProxyConnectionOptions.killGraceMs must be a number of milliseconds',
        {
          argument: 'winrsProxyConnectionOptions.killGraceMs',
        },
      );
    }
    const grace = killGraceMs === undefined ? {} : { killGraceMs };
    if (connection !== undefined) {
      return new JumpWinrsRunner({ connection: connection as Connection, ...grace });
    }
    const conn = await open({ connectionType: 'WINRM_INTERNAL', ...rest });
    return new JumpWinrsRunner({ connection: conn, ownsConnection: true, ...grace });
  };
}
