/**
 * The winrs-native strategy (Overthere's WINRM_NATIVE): every command is one winrs process, started by a
 * runner (./runner.ts) on this machine, on an SSH proxy or on a Windows jump host. stdin, stdout and stderr are
 * winrs's; its exit code is the remote command's. winrs's own failures (`Winrs error:` on stderr) become typed
 * errors (./errors.ts). Execute, PowerShell, transfers (over winrs's stdin and stdout) and close tracking come
 * from BaseConnection.
 */
import { PassThrough } from 'node:stream';
import { checkCodepage } from '../codepage.ts';
import type { ConnectionStats, ProcessOptions, RemoteProcess, RemoteSignal } from '../connection.ts';
import { DebugLog } from '../debug.ts';
import { AbortError, ConnectionError, type WinRmError } from '../errors.ts';
import type { NativeConfig } from '../options/native.ts';
import type { Abortable } from '../process/base-connection.ts';
import { BaseConnection } from '../process/base-connection.ts';
import { ProcessLifecycle } from '../process/lifecycle.ts';
import { buildWinrsArgv, maskWinrsArgv } from './argv.ts';
import { winrsFailure } from './errors.ts';
import type { WinrsChild, WinrsRunner, WinrsRunnerFactory } from './runner.ts';
import { checkLocalWinrs, LocalWinrsRunner } from './runners/local.ts';

/** stderr bytes kept to look for `Winrs error:` lines (winrs writes them before it exits). */
const STDERR_SCAN_BYTES = 64 * 1024;

/** Factories of the proxy runners ('ssh', 'jump'), by winrsProxyProtocol. */
export type WinrsRunnerFactories = Partial<Record<'ssh' | 'jump', WinrsRunnerFactory>>;

class NativeProcess implements RemoteProcess, Abortable {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly stdin;
  private readonly life: ProcessLifecycle;
  private scanned: Buffer[] = [];
  private scannedBytes = 0;

  constructor(
    private readonly child: WinrsChild,
    options: ProcessOptions,
  ) {
    this.stdin = child.stdin;
    this.life = new ProcessLifecycle({ stdin: this.stdin, stdout: this.stdout, stderr: this.stderr });
    child.stdout.pipe(this.stdout, { end: false });
    child.stderr.on('data', (chunk: Buffer) => {
      if (this.scannedBytes < STDERR_SCAN_BYTES) {
        this.scanned.push(chunk);
        this.scannedBytes += chunk.length;
      }
    });
    child.stderr.pipe(this.stderr, { end: false });
    child.stdout.on('error', () => undefined);
    child.stderr.on('error', () => undefined);
    // A deadline, the caller's abort or kill('terminate'): the caller is answered at once, winrs is stopped.
    this.life.stop.signal.addEventListener(
      'abort',
      () => {
        const reason = this.life.failure!;
        this.life.fail(reason);
        void this.stopChild();
      },
      { once: true },
    );
    this.life.arm(options.timeout, options.signal);
    void this.watch();
  }

  get exited(): Promise<number> {
    return this.life.exited;
  }

  /** Ctrl-C first (what winrs forwards to the remote command), then terminate (as a second Ctrl-C does). */
  private async stopChild(): Promise<void> {
    await this.child.kill('ctrl_c').catch(() => undefined);
    await this.child.kill('terminate').catch(() => undefined);
  }

  private async watch(): Promise<void> {
    let exit: { code: number | null; signal: string | null };
    try {
      exit = await this.child.exited;
      await Promise.all([ended(this.child.stdout), ended(this.child.stderr)]);
    } catch (err) {
      if (!this.life.finished) {
        this.life.fail(new ConnectionError('The winrs process was lost', { cause: err }));
      }
      return;
    }
    if (this.life.finished || this.life.failure) return;
    const stderr = Buffer.concat(this.scanned).toString('utf8');
    this.scanned = [];
    if (exit.code === null) {
      this.life.fail(
        new ConnectionError(`winrs was ended by ${exit.signal ?? 'a signal'} before the command finished`),
      );
      return;
    }
    const failure = exit.code !== 0 ? winrsFailure(stderr, exit.code) : undefined;
    if (failure) this.life.fail(failure);
    else this.life.succeed(exit.code);
  }

  async kill(signal: RemoteSignal = 'ctrl_c'): Promise<void> {
    if (this.life.finished) return;
    if (signal === 'terminate') {
      this.life.abort(new AbortError('The process was killed (terminate)'));
      return;
    }
    // ctrl_c and ctrl_break: winrs forwards the console's Ctrl-C / Ctrl-Break as a ctrl_c Signal.
    await this.child.kill('ctrl_c');
  }

  abortWith(err: WinRmError): void {
    this.life.abort(err);
  }
}

function ended(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve) => {
    const s = stream as NodeJS.ReadableStream & { readableEnded?: boolean; destroyed?: boolean };
    if (s.readableEnded || s.destroyed) return resolve();
    stream.once('end', resolve);
    stream.once('close', resolve);
  });
}

export class WinRsNativeConnection extends BaseConnection {
  readonly connectionType = 'WINRM_NATIVE' as const;
  private runner: WinrsRunner | undefined;
  private readying: Promise<WinrsRunner> | undefined;
  private readonly children = new Set<Promise<unknown>>();

  constructor(
    private readonly config: NativeConfig,
    private readonly factories: WinrsRunnerFactories = {},
  ) {
    const debug = new DebugLog(config.logger);
    debug.addSecret(config.password);
    super(debug, config.codepage);
    this.closeTimeoutMs = config.closeTimeoutMs;
  }

  /**
   * connect()'s step: make the runner (open the SSH or jump connection), and for 'local' check that winrs is
   * there. Rejects with an InvalidArgumentError naming the options when it is not.
   */
  ready(): Promise<WinrsRunner> {
    this.readying ??= this.makeRunner().then((r) => {
      this.runner = r;
      return r;
    });
    return this.readying;
  }

  private async makeRunner(): Promise<WinrsRunner> {
    const c = this.config;
    if (c.runner) return c.runner;
    if (c.proxyProtocol === 'local') {
      checkLocalWinrs(c.winrsPath);
      return new LocalWinrsRunner();
    }
    const factory = this.factories[c.proxyProtocol];
    if (!factory) {
      throw new ConnectionError(`The '${c.proxyProtocol}' winrs runner is not available in this build`, {
        remedy: "use winrsProxyProtocol 'local'",
      });
    }
    return factory(c.proxyOptions ?? {}, { connectTimeoutMs: c.connectTimeoutMs, debug: this.debug });
  }

  /** The winrs arguments of `line` with `options` (for tests and diagnostics: the password masked). */
  describe(line: string, options: ProcessOptions = {}): string[] {
    return maskWinrsArgv(this.argv(line, options));
  }

  private argv(line: string, options: ProcessOptions): string[] {
    const c = this.config;
    return buildWinrsArgv(
      {
        host: c.host,
        port: c.port,
        https: c.https,
        ...(c.password ? { account: c.account, password: c.password } : {}),
        ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
        ...(options.env !== undefined ? { env: options.env } : {}),
        noEcho: c.noEcho,
        noProfile: options.noProfile ?? c.noProfile,
        allowDelegate: c.allowDelegate,
        compression: c.compression,
        unencrypted: c.unencrypted,
        codepage: checkCodepage(options.codepage ?? c.codepage),
      },
      line,
    );
  }

  protected async launch(line: string, options: ProcessOptions): Promise<RemoteProcess> {
    const args = this.argv(line, options);
    const runner = await this.ready();
    if (options.signal?.aborted) {
      throw new AbortError('The command was aborted; winrs was not started', {
        cause: options.signal.reason,
      });
    }
    this.debug.log('winrs', () => `${this.config.winrsPath ?? 'winrs'} ${maskWinrsArgv(args).join(' ')}`);
    const child = await runner.spawn(this.config.winrsPath ?? 'winrs.exe', args);
    const tracked = child.exited.catch(() => undefined);
    this.children.add(tracked);
    tracked.finally(() => this.children.delete(tracked)).catch(() => undefined);
    return new NativeProcess(child, options);
  }

  stats(): ConnectionStats {
    return { processesRunning: this.processesRunning };
  }

  /** After every process: wait for the winrs processes still stopping, then release the runner. */
  protected async releaseResources(): Promise<void> {
    await Promise.allSettled([...this.children]);
    await this.readying?.catch(() => undefined);
    await this.runner?.close();
  }

  protected override dropResources(): void {
    this.runner?.destroy();
  }
}
