/**
 * One run of a transfer script: powershell.exe started through bootstrap.ps1, stdin written in lines packed to
 * fill Send envelopes (with back-pressure), stdout read as protocol lines, stderr kept for diagnosis.
 */
import { Buffer } from 'node:buffer';
import { decodeClixml } from '../cmdline.ts';
import type { ProcessOptions, RemoteProcess } from '../connection.ts';
import { WinRmError } from '../errors.ts';
import { readLines } from './framing.ts';
import { scriptLine, type TransferScript, transferCommandLine } from './scripts.ts';

/** What the transfer code needs from a connection strategy. */
export interface TransferPeer {
  startProcess(command: string, options?: ProcessOptions): Promise<RemoteProcess>;
  /** Raw stdin bytes that fit into one Send under the negotiated MaxEnvelopeSize (empty envelope measured). */
  stdinCapacity(): number;
  /**
   * Requests the peer can have in flight at once (WinRM: maxConcurrentRequests). Each stream of a parallel
   * transfer needs two (its Send or Receive beside the Receive that polls its output), so a transfer runs at
   * most half of these as streams. Optional: without it the streams are not bounded by requests.
   */
  concurrentRequests?(): number | undefined;
  /**
   * Aborted when the connection's close() begins. A transfer then stops as on a cancel, removes its temporary
   * files (a cleanup process may still be started while close() waits for transfers) and settles; close() waits
   * for that before it terminates processes. Optional: a peer without it has transfers stopped by the kill.
   */
  readonly closing?: AbortSignal;
}

/** Longest line either side accepts: data lines are at most one envelope; 16 MiB leaves room for chunkSize. */
export const MAX_LINE = 64 * 1024 * 1024;
const STDERR_KEEP = 64 * 1024;

/** Thrown into a waiting writer when the session is being stopped. */
export class SessionStopped extends Error {}

export type ExitOutcome = { code: number; error?: undefined } | { code?: undefined; error: Error };

export class ScriptSession {
  readonly lines: AsyncGenerator<string>;
  readonly exited: Promise<ExitOutcome>;
  private pending: Buffer[] = [];
  private pendingSize = 0;
  private stderrParts: Buffer[] = [];
  private stderrSize = 0;
  private stdinError: Error | undefined;
  private stopWaiters = new Set<() => void>();
  private stopped = false;
  /** The last line handed on (queued for packing or written to stdin): a line given to send() that threw may still go out. */
  lastAccepted: Buffer | undefined;

  private constructor(
    private readonly proc: RemoteProcess,
    readonly capacity: number,
  ) {
    // Write errors surface through `exited`; without a listener they would be uncaught.
    proc.stdin.on('error', (err: Error) => {
      this.stdinError ??= err;
    });
    proc.stderr.on('data', (chunk: Buffer) => {
      if (this.stderrSize < STDERR_KEEP) {
        this.stderrParts.push(chunk);
        this.stderrSize += chunk.length;
      }
    });
    this.lines = readLines(proc.stdout, MAX_LINE);
    this.exited = proc.exited.then(
      (code) => ({ code }),
      (error: unknown) => ({ error: error instanceof Error ? error : new WinRmError(String(error)) }),
    );
  }

  /**
   * Start the script. `signal` cancels a start still waiting (for a shell, for the Command's answer); once the
   * process runs, aborting it kills the process, so callers abort it only for starts that have not resolved.
   */
  static async open(
    peer: TransferPeer,
    script: TransferScript,
    signal?: AbortSignal,
  ): Promise<ScriptSession> {
    const proc = await peer.startProcess(transferCommandLine(), { codepage: 65001, signal });
    const session = new ScriptSession(proc, Math.max(64, peer.stdinCapacity()));
    await session.send(scriptLine(script));
    return session;
  }

  /** PowerShell's own error output (CLIXML decoded), for messages when the script did not answer. */
  stderrText(): string {
    return decodeClixml(Buffer.concat(this.stderrParts).toString('utf8')).trim();
  }

  /** Queue a line; lines are packed into writes of at most one Send's capacity. */
  async send(line: Buffer): Promise<void> {
    if (this.pendingSize > 0 && this.pendingSize + line.length > this.capacity) await this.flush();
    if (line.length >= this.capacity) await this.write(line, line);
    else {
      this.pending.push(line);
      this.pendingSize += line.length;
      this.lastAccepted = line;
    }
  }

  async flush(): Promise<void> {
    if (this.pendingSize === 0) return;
    const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingSize);
    this.pending = [];
    this.pendingSize = 0;
    await this.write(data);
  }

  /** Flush and close stdin: the lines still queued and End="true" go in one Send. */
  async end(): Promise<void> {
    const stdin = this.proc.stdin;
    if (this.pendingSize === 0) {
      if (!stdin.destroyed && !stdin.writableEnded) stdin.end();
      return;
    }
    if (this.stdinError || stdin.destroyed || stdin.writableEnded) {
      throw this.stdinError ?? new SessionStopped('stdin is closed');
    }
    const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingSize);
    this.pending = [];
    this.pendingSize = 0;
    stdin.end(data);
  }

  private async write(data: Buffer, line?: Buffer): Promise<void> {
    const stdin = this.proc.stdin;
    if (this.stdinError || stdin.destroyed || stdin.writableEnded) {
      throw this.stdinError ?? new SessionStopped('stdin is closed');
    }
    const flowing = stdin.write(data);
    // Written means queued in the stream: it goes out even when the wait for 'drain' below is interrupted.
    if (line) this.lastAccepted = line;
    if (flowing) return;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        stdin.off('drain', onDrain);
        stdin.off('close', onClose);
        this.stopWaiters.delete(onStop);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(this.stdinError ?? new SessionStopped('stdin closed'));
      const onStop = () => done(new SessionStopped('stopped'));
      stdin.on('drain', onDrain);
      stdin.on('close', onClose);
      if (this.stopped) onStop();
      else this.stopWaiters.add(onStop);
    });
  }

  /** Wake a writer waiting for back-pressure (cancel, remote error): it throws SessionStopped. */
  interrupt(): void {
    this.stopped = true;
    for (const w of [...this.stopWaiters]) w();
  }

  /** Allow writing again after an interrupt (the cancel record still has to go out). */
  resume(): void {
    this.stopped = false;
  }

  /** Kill the remote process (terminate). */
  async kill(): Promise<void> {
    this.interrupt();
    await this.proc.kill('terminate').catch(() => undefined);
  }

  /** Drain stdout without interpreting it (after a failure), so the process can finish. */
  async drain(): Promise<void> {
    try {
      for await (const _ of this.lines) {
      }
    } catch {
      // The outcome comes from `exited`.
    }
  }
}
