/**
 * Parallel streams (docs/transfer-protocol.md, "Parallel streams"): one file moves through several remote
 * processes at once, each in its own shell, so several Send (or Receive) envelopes are in flight instead of one.
 *
 * Upload: the first process (the coordinator) creates the temporary file at its final length (#P); every process,
 * the coordinator included, takes ranges from one queue and writes them at their offsets (#W ... #E); when every
 * range is acknowledged the coordinator hashes the assembled file once (#V), compares it with the client's
 * SHA-256 of the whole source and renames it over the target. Download: the coordinator holds the file open
 * (#S, no writer can open it meanwhile), the processes read ranges (#R) that the client writes at their offsets
 * into a local temporary file, the coordinator hashes the whole remote file (#V) and the client compares it with
 * its own hash of the assembled local file before the rename.
 *
 * A process that cannot start (the client's shell budget, or MaxShellsPerUser refusing the Create) simply takes no
 * range: the others do the work, down to the coordinator alone. A stream that fails fails the whole transfer: the
 * others are cancelled, the coordinator removes the temporary file (or cleanup.ps1 does), the target is untouched.
 */
import { createHash } from 'node:crypto';
import { type FileHandle, link, open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { TransferOptions, TransferResult } from '../connection.ts';
import { ProtocolError, TransferError, WinRmError } from '../errors.ts';
import { checkOptions, StopControl } from './control.ts';
import { checkLocalDestination } from './download.ts';
import { mismatchError, remoteError, stopError } from './errors.ts';
import {
  chunkForCapacity,
  controlLine,
  dataLine,
  decodeBase64,
  field,
  newTransferId,
  parseErrorLine,
  unfield,
} from './framing.ts';
import { type ExitOutcome, ScriptSession, type TransferPeer } from './session.ts';
import { CANCEL_GRACE_MS, removeLeftovers } from './upload.ts';

/**
 * Default number of streams: 8. Each stream is one remote process in its own shell and keeps one Send (or
 * Receive) in flight beside the Receive that polls its output, so 8 streams use 16 requests at once: the
 * connection's default maxConcurrentRequests. Windows allows 30 shells per user by default (MaxShellsPerUser).
 * Through a 10 ms round trip, 64 MB moved about 20% faster with 8 than with 4 (bench/README.md).
 */
export const DEFAULT_STREAMS = 8;
/** A range is at most this many data lines (about 4.6 MB at 512,000-byte envelopes). */
const RANGE_CHUNKS = 16;
/** Ranges asked for at once from one download process, so it never waits for the next #R. */
const DOWNLOAD_AHEAD = 2;

export interface Range {
  offset: number;
  length: number;
}

/**
 * The streams a transfer uses: options.streams (default DEFAULT_STREAMS), at most half the peer's concurrent
 * requests. More streams than that would leave every request a Receive that waits for output, which only the
 * Sends queued behind them could cause, until OperationTimeout ends each one: 8 streams on 8 requests moved
 * 64 MB in 222 s where 4 streams took 1.8 s.
 */
export function streamCount(options: TransferOptions, peer: TransferPeer): number {
  const wanted = options.streams ?? DEFAULT_STREAMS;
  const requests = peer.concurrentRequests?.();
  return requests === undefined ? wanted : Math.max(1, Math.min(wanted, Math.floor(requests / 2)));
}

/** The raw bytes of one data line for this peer and options (docs/transfer-protocol.md, "Chunk size"). */
export function chunkFor(peer: TransferPeer, options: TransferOptions): number {
  return options.chunkSize ?? chunkForCapacity(Math.max(64, peer.stdinCapacity()));
}

/**
 * Cut [0, size) into ranges of whole data lines: about four ranges per stream (so a fast stream takes more of
 * them), each at most RANGE_CHUNKS lines.
 */
export function splitRanges(size: number, chunk: number, streams: number): Range[] {
  const lines = Math.ceil(size / chunk);
  const per = Math.max(1, Math.min(RANGE_CHUNKS, Math.floor(lines / (streams * 4))));
  const step = per * chunk;
  const out: Range[] = [];
  for (let o = 0; o < size; o += step) out.push({ offset: o, length: Math.min(step, size - o) });
  return out;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Wakes every waiter on any change (a line read, a process exit, a stop). */
class Changes {
  private waiters: Array<() => void> = [];
  notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
  next(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  async until(cond: () => boolean): Promise<void> {
    while (!cond()) await this.next();
  }
}

/** One remote process of a parallel transfer and what it has answered. */
class Stream {
  exit: ExitOutcome | undefined;
  remote: { code: string; message: string } | undefined;
  protocolError: ProtocolError | undefined;
  /** A #W (upload) was handed on and its #E / #A not yet. */
  midRange = false;
  /** Upload: ranges whose #E was handed on / acknowledged with #RANGE. */
  sent = 0;
  acked = 0;
  finished = false;
  readonly done: Promise<void>;

  constructor(
    readonly session: ScriptSession,
    changes: Changes,
    onLine: (s: Stream, fields: string[], line: string) => Promise<void> | void,
  ) {
    const reader = (async () => {
      for await (const line of session.lines) {
        await onLine(this, line.split(' '), line);
        changes.notify();
      }
    })().catch((err: unknown) => {
      if (err instanceof ProtocolError) this.protocolError = err;
      session.interrupt();
      void session.kill();
    });
    this.done = Promise.all([reader, session.exited]).then(([, exit]) => {
      this.exit = exit;
      changes.notify();
    });
  }

  /** Say goodbye: cancel a range in progress, #Q, close stdin. Errors end up in `exit`. */
  async finish(cancel: boolean): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.session.resume();
    try {
      if (this.midRange || cancel) await this.session.send(controlLine('#A'));
      await this.session.send(controlLine('#Q'));
      await this.session.end();
    } catch {
      // The process is gone or going: its outcome is in `exit`.
    }
  }
}

/** Extra processes started beside the coordinator; a start still waiting when the work is done is cancelled. */
class Extras {
  readonly starts: Array<{ ac: AbortController; settled: boolean; promise: Promise<void> }> = [];
  start(peer: TransferPeer, script: 'upload' | 'download', use: (s: ScriptSession) => Promise<void>) {
    const ac = new AbortController();
    const entry = { ac, settled: false, promise: Promise.resolve() };
    entry.promise = ScriptSession.open(peer, script, ac.signal).then(
      async (session) => {
        entry.settled = true;
        await use(session);
      },
      () => {
        // Could not start (shell budget, MaxShellsPerUser, a cancelled start): the other streams do the work.
        entry.settled = true;
      },
    );
    this.starts.push(entry);
  }
  /** Cancel the starts that have not finished. */
  cancelPending(): void {
    for (const e of this.starts) if (!e.settled) e.ac.abort();
  }
  all(): Promise<unknown> {
    return Promise.all(this.starts.map((e) => e.promise));
  }
}

/** SHA-256 of a whole Buffer or local file, read once in order. */
async function hashSource(source: string | Buffer): Promise<string> {
  const hash = createHash('sha256');
  if (Buffer.isBuffer(source)) {
    // In slices, yielding between them, so a large Buffer does not hold the event loop for long.
    for (let o = 0; o < source.length; o += 8 * 1024 * 1024) {
      hash.update(source.subarray(o, o + 8 * 1024 * 1024));
      await new Promise<void>((r) => setImmediate(r));
    }
    return hash.digest('hex');
  }
  const fh = await open(source, 'r');
  try {
    const buf = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

async function readExactly(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<Buffer> {
  let n = 0;
  while (n < length) {
    const { bytesRead } = await fh.read(buf, n, length - n, position + n);
    if (bytesRead === 0) throw new Error('the file became shorter while it was read');
    n += bytesRead;
  }
  return buf.subarray(0, length);
}

/** Bound the goodbye of every stream: after CANCEL_GRACE_MS the processes still running are killed. */
function graceKiller(streams: () => Stream[]): { arm(): void; clear(): void } {
  let timer: NodeJS.Timeout | undefined;
  return {
    arm() {
      timer ??= setTimeout(() => {
        for (const s of streams()) if (!s.exit) void s.session.kill();
      }, CANCEL_GRACE_MS);
    },
    clear() {
      if (timer) clearTimeout(timer);
    },
  };
}

/** Upload one file of known size (a local path or a Buffer) over up to `streams` processes. */
export async function parallelUpload(
  peer: TransferPeer,
  source: string | Buffer,
  size: number,
  remotePath: string,
  options: TransferOptions,
  streams: number,
): Promise<TransferResult> {
  checkOptions(options);
  const overwrite = options.overwrite ?? true;
  const control = new StopControl(options.signal, options.timeout, peer.closing);
  const started = performance.now();
  const changes = new Changes();
  const all: Stream[] = [];
  const grace = graceKiller(() => all);
  const extras = new Extras();
  const id = newTransferId();
  let failure: WinRmError | undefined;
  let localError: WinRmError | undefined;
  /** Why a stream ended before its ranges were acknowledged (a cut connection, a killed process). */
  let lost: Error | undefined;
  let bytes = 0;
  let halted = false;
  const halt = () => {
    if (halted) return;
    halted = true;
    grace.arm();
    extras.cancelPending();
    for (const s of all) s.session.interrupt();
    changes.notify();
  };
  const fail = (err: WinRmError) => {
    failure ??= err;
    halt();
  };
  const offStop = control.onStop(halt);
  try {
    if (control.reason)
      throw stopError(control.reason, 'upload', remotePath, 0, control.timeoutMs, control.cause);
    // The chunk follows the envelope size the first exchange negotiated: known once the coordinator runs.
    const coordSession = await ScriptSession.open(peer, 'upload');
    // A range's last data line shares its Send with that range's #E and the next range's #W, so the data lines
    // are shorter by those records; otherwise each range would cost a Send of its own (one more round trip).
    const reserve =
      controlLine('#W', field(remotePath), id, size).length + controlLine('#E', size, '0'.repeat(64)).length;
    const chunk =
      options.chunkSize ?? chunkForCapacity(Math.max(64 + reserve, coordSession.capacity - reserve));
    const queue = splitRanges(size, chunk, streams);
    const total = queue.length;
    const whole = hashSource(source);
    whole.catch(() => undefined);
    let ready: string | undefined;
    let ok: { bytes: number; sha256: string; remotePath: string } | undefined;

    const onLine = (s: Stream, f: string[], line: string) => {
      if (f[0] === '#WRCP') {
        if (f[1] !== '1' || f[2] !== 'upload')
          throw new ProtocolError(`Unexpected transfer script "${line}"`);
      } else if (f[0] === '#READY' && f.length === 2) ready = unfield(f[1], 'path');
      else if (f[0] === '#RANGE' && f.length === 3) {
        s.acked++;
        if (s.acked > s.sent)
          throw new ProtocolError('The upload script acknowledged a range it was not sent');
      } else if (f[0] === '#OK' && f.length === 4) {
        ok = { bytes: Number(f[1]), sha256: f[2]!, remotePath: unfield(f[3], 'path') };
      } else if (f[0] === '#ERR') {
        s.remote = parseErrorLine(f);
        s.session.interrupt();
      } else if (f[0] !== '#WARN') {
        throw new ProtocolError(`The upload script sent an unexpected line: ${line.slice(0, 80)}`);
      }
    };
    /** A stream's end decides: an error, or ranges sent and never acknowledged, fails the upload. */
    const watch = (s: Stream, coordinator: boolean) => {
      void s.done.then(() => {
        if (s.protocolError) return fail(s.protocolError);
        if (s.remote && s.remote.code !== 'ABORTED')
          return fail(remoteError('upload', s.remote.code, s.remote.message, remotePath));
        if (!halted && (s.acked < s.sent || s.midRange || (coordinator && !ok))) {
          lost ??= s.exit?.error ?? new Error(`exit code ${s.exit?.code}`);
          halt();
        }
      });
    };

    /** Take ranges from the queue and send them until it is empty or the upload halts. */
    const pump = async (s: Stream) => {
      const fh = typeof source === 'string' ? await open(source, 'r') : undefined;
      const buf = fh ? Buffer.allocUnsafe(chunk) : undefined;
      try {
        for (;;) {
          if (halted) return;
          const r = queue.shift();
          if (!r) return;
          const head = controlLine('#W', field(remotePath), id, r.offset);
          try {
            await s.session.send(head);
          } finally {
            if (s.session.lastAccepted === head) s.midRange = true;
          }
          const hash = createHash('sha256');
          for (let o = 0; o < r.length; o += chunk) {
            if (halted) return;
            const n = Math.min(chunk, r.length - o);
            let piece: Buffer;
            if (fh && buf) {
              try {
                piece = await readExactly(fh, buf, n, r.offset + o);
              } catch (err) {
                localError ??= new TransferError(
                  `Upload of "${remotePath}" failed: reading the local source failed (${(err as Error).message}); the target was left as it was`,
                  { remotePath, cause: err },
                );
                halt();
                return;
              }
            } else piece = (source as Buffer).subarray(r.offset + o, r.offset + o + n);
            hash.update(piece);
            await s.session.send(dataLine(piece));
            bytes += n;
            options.onProgress?.({ bytes, total: size, path: remotePath });
          }
          const trailer = controlLine('#E', r.length, hash.digest('hex'));
          try {
            await s.session.send(trailer);
          } finally {
            if (s.session.lastAccepted === trailer) {
              s.midRange = false;
              s.sent++;
            }
          }
        }
      } catch {
        // SessionStopped (halted) or a stdin failure: the stream's end is judged by watch().
      } finally {
        await fh?.close();
      }
    };

    const readyGate = deferred();
    const coord: Stream = new Stream(coordSession, changes, onLine);
    all.push(coord);
    watch(coord, true);
    for (let i = 1; i < Math.min(streams, queue.length); i++) {
      extras.start(peer, 'upload', async (session) => {
        const s = new Stream(session, changes, onLine);
        all.push(s);
        watch(s, false);
        if (halted) session.interrupt();
        await readyGate.promise;
        if (ready !== undefined) await pump(s);
        await s.finish(false);
        await s.done;
      });
    }
    const opening = controlLine('#P', field(remotePath), overwrite ? 1 : 0, id, size);
    let created = false;
    try {
      await coord.session.send(opening);
      await coord.session.flush();
    } catch {
      // Judged below from the stream's state.
    } finally {
      created = coord.session.lastAccepted === opening;
    }
    await changes.until(() => ready !== undefined || halted || coord.exit !== undefined);
    readyGate.resolve();
    if (ready !== undefined && !halted) {
      await pump(coord);
      try {
        await coord.session.flush();
      } catch {
        // Judged by watch().
      }
      extras.cancelPending();
      await changes.until(() => halted || all.reduce((n, s) => n + s.acked, 0) === total);
    }
    if (!halted) {
      let digest: string | undefined;
      try {
        digest = await whole;
      } catch (err) {
        localError ??= new TransferError(
          `Upload of "${remotePath}" failed: reading the local source failed (${(err as Error).message}); the target was left as it was`,
          { remotePath, cause: err },
        );
        halt();
      }
      if (digest && !halted) {
        try {
          await coord.session.send(controlLine('#V', size, digest));
          await coord.session.send(controlLine('#Q'));
          await coord.session.end();
          coord.finished = true;
        } catch {
          // Judged by watch().
        }
        await changes.until(() => halted || ok !== undefined || coord.exit !== undefined);
      }
    }
    // The goodbye: other streams first (their handles on the temporary file close), then the coordinator, which
    // removes the temporary file on #A. A stop from here on only bounds it (the grace timer).
    readyGate.resolve();
    extras.cancelPending();
    await Promise.all(all.filter((s) => s !== coord).map((s) => s.finish(false).then(() => s.done)));
    await extras.all();
    await coord.finish(halted && created && !ok);
    await coord.done;
    grace.clear();

    const digest = await whole.catch(() => undefined);
    // The coordinator verified and renamed: the target is the new file, whatever stopped meanwhile.
    if (ok && coord.exit?.code === 0 && !localError) {
      if (ok.bytes !== size || ok.sha256 !== digest) {
        throw mismatchError(
          'upload',
          remotePath,
          { bytes: size, sha256: digest ?? '' },
          ok,
          'the remote host had already replaced the target',
        );
      }
      return {
        bytes: size,
        sha256: ok.sha256,
        remotePath: ok.remotePath,
        durationMs: performance.now() - started,
      };
    }
    // The coordinator's catch block removed the temporary file when it answered #ERR; otherwise it may be left.
    const graceful = coord.remote !== undefined || !created;
    const leftovers = graceful || ok ? [] : await removeLeftovers(peer, [{ remotePath, id }]);
    const tempNote =
      leftovers.length === 0
        ? 'the temporary file was removed'
        : `the temporary file ${leftovers.join(', ')} could not be removed: delete it once the host is reachable`;
    if (localError) throw localError;
    if (control.reason)
      throw stopError(control.reason, 'upload', remotePath, bytes, control.timeoutMs, control.cause);
    if (coord.remote && coord.remote.code !== 'ABORTED')
      throw remoteError('upload', coord.remote.code, coord.remote.message, remotePath);
    if (failure) throw failure;
    if (lost) {
      throw new TransferError(
        `Upload of "${remotePath}" failed: ${lost instanceof WinRmError ? 'the connection to the host failed' : "a stream's remote process ended without a result"} after ${bytes} bytes were sent (${lost.message}); the target was left as it was and ${tempNote}`,
        { remotePath, cause: lost, remedy: 'check the network path to the host and retry' },
      );
    }
    const exit = coord.exit;
    const cause = exit?.error ?? new Error(`exit code ${exit?.code}`);
    const stderr = coord.session.stderrText();
    throw new TransferError(
      `Upload of "${remotePath}" failed: the remote PowerShell process ended without a result (${cause.message})${stderr ? `: ${stderr}` : ''}; the target was left as it was and ${tempNote}`,
      { remotePath, cause, remedy: 'check that Windows PowerShell (powershell.exe) runs for this account' },
    );
  } finally {
    offStop();
    grace.clear();
    control.dispose();
  }
}

/** Download one remote file to a local path over up to `streams` processes. */
export async function parallelDownload(
  peer: TransferPeer,
  remotePath: string,
  destination: string,
  options: TransferOptions,
  streams: number,
): Promise<TransferResult> {
  checkOptions(options);
  const overwrite = options.overwrite ?? true;
  await checkLocalDestination(destination, overwrite, remotePath);
  const control = new StopControl(options.signal, options.timeout, peer.closing);
  const started = performance.now();
  const changes = new Changes();
  const all: Stream[] = [];
  const extras = new Extras();
  let failure: WinRmError | undefined;
  let halted = false;
  const halt = () => {
    if (halted) return;
    halted = true;
    extras.cancelPending();
    // Nothing remote to undo on a download: the processes are killed.
    for (const s of all) void s.session.kill();
    changes.notify();
  };
  const fail = (err: WinRmError) => {
    failure ??= err;
    halt();
  };
  const offStop = control.onStop(halt);
  const temp = join(dirname(destination), `.wrcp-${newTransferId()}.tmp`);
  let fh: FileHandle | undefined;
  let bytes = 0;
  try {
    if (control.reason)
      throw stopError(control.reason, 'download', remotePath, 0, control.timeoutMs, control.cause);
    const coordSession = await ScriptSession.open(peer, 'download');
    const chunk = chunkFor(peer, options);
    let length: number | undefined;
    let fullPath = remotePath;
    let queue: Range[] = [];
    let total = 0;
    let completed = 0;
    let whole: { bytes: number; sha256: string } | undefined;

    /** What each process answers next, in order: the hold (#S), a range (#R), the whole-file hash (#V). */
    type Expect =
      | { kind: 'hold' }
      | { kind: 'range'; range: Range; got: number; hash: ReturnType<typeof createHash>; open: boolean }
      | { kind: 'verify' };
    const expects = new Map<Stream, Expect[]>();
    const onLine = async (s: Stream, f: string[], line: string) => {
      const q = expects.get(s) ?? [];
      const head = q[0];
      if (line.length > 0 && line[0] !== '#') {
        if (head?.kind !== 'range' || !head.open || !fh)
          throw new ProtocolError('The download script sent data outside a range');
        const data = decodeBase64(line, 'data line');
        if (head.got + data.length > head.range.length)
          throw new ProtocolError('The download script sent more than the range');
        head.hash.update(data);
        await fh.write(data, 0, data.length, head.range.offset + head.got);
        head.got += data.length;
        bytes += data.length;
        options.onProgress?.({ bytes, total: length, path: fullPath });
        return;
      }
      if (f[0] === '#WRCP') {
        if (f[1] !== '1' || f[2] !== 'download')
          throw new ProtocolError(`Unexpected transfer script "${line}"`);
      } else if (f[0] === '#H' && f.length === 3 && head?.kind === 'hold') {
        q.shift();
        length = Number(f[1]);
        fullPath = unfield(f[2], 'path');
        if (!Number.isSafeInteger(length) || length < 0)
          throw new ProtocolError(`Bad file length in "${line.slice(0, 80)}"`);
      } else if (f[0] === '#H' && f.length === 3 && head?.kind === 'range' && !head.open) {
        if (Number(f[1]) !== length) {
          throw new TransferError(
            `Download of "${fullPath}" failed: the remote file changed length during the download; nothing partial was kept`,
            { remotePath: fullPath, remedy: 'retry when nothing writes the file' },
          );
        }
        head.open = true;
      } else if (f[0] === '#E' && f.length === 3 && head?.kind === 'range' && head.open) {
        q.shift();
        const local = { bytes: head.got, sha256: head.hash.digest('hex') };
        const remote = { bytes: Number(f[1]), sha256: f[2]! };
        if (
          local.bytes !== head.range.length ||
          local.bytes !== remote.bytes ||
          local.sha256 !== remote.sha256
        ) {
          throw mismatchError('download', fullPath, local, remote, 'the local destination was not written');
        }
        completed++;
      } else if (f[0] === '#E' && f.length === 3 && head?.kind === 'verify') {
        q.shift();
        whole = { bytes: Number(f[1]), sha256: f[2]! };
      } else if (f[0] === '#ERR') {
        const e = parseErrorLine(f);
        throw remoteError('download', e.code, e.message, fullPath);
      } else {
        throw new ProtocolError(`The download script sent an unexpected line: ${line.slice(0, 80)}`);
      }
    };
    const lineHandler = (s: Stream, f: string[], line: string) =>
      onLine(s, f, line).catch((err: unknown) => {
        fail(
          err instanceof WinRmError
            ? err
            : new TransferError(
                `Download of "${fullPath}" failed: writing the local destination failed (${(err as Error).message})`,
                { remotePath: fullPath, cause: err },
              ),
        );
        throw err;
      });
    const watch = (s: Stream) => {
      void s.done.then(() => {
        if (s.protocolError) return fail(s.protocolError);
        const q = expects.get(s) ?? [];
        if (!halted && q.length > 0) {
          const cause = s.exit?.error ?? new Error(`exit code ${s.exit?.code}`);
          fail(
            new TransferError(
              s.exit?.error
                ? `Download of "${fullPath}" failed: the connection to the host failed after ${bytes} bytes were received (${cause.message}); nothing partial was kept`
                : `Download of "${fullPath}" failed: the remote PowerShell process ended with exit code ${s.exit?.code} without a result${s.session.stderrText() ? `: ${s.session.stderrText()}` : ''}`,
              { remotePath: fullPath, cause, remedy: 'check the network path to the host and retry' },
            ),
          );
        }
      });
    };
    /** Queue a record for `s`; `flush: false` leaves it to share a Send with the records that follow it. */
    const ask = async (s: Stream, e: Expect, line: Buffer, flush = true) => {
      const q = expects.get(s)!;
      q.push(e);
      await s.session.send(line);
      if (flush) await s.session.flush();
    };
    /**
     * Keep DOWNLOAD_AHEAD ranges asked of `s` until the queue is empty. The coordinator then asks for the hash of
     * the whole file at once (#V): the file is held, so the hash does not depend on the other streams. Its last
     * #R and the #V share one Send; a coordinator alone (a file of one range) also says goodbye (#Q, End) in it,
     * since no other process reads the file it holds: one Send, one round trip, for the whole of a small file.
     */
    const pump = async (s: Stream) => {
      try {
        for (;;) {
          await changes.until(
            () => halted || queue.length === 0 || (expects.get(s)?.length ?? 0) < DOWNLOAD_AHEAD,
          );
          if (halted || queue.length === 0) break;
          const r = queue.shift()!;
          await ask(
            s,
            { kind: 'range', range: r, got: 0, hash: createHash('sha256'), open: false },
            controlLine('#R', field(fullPath), chunk, r.offset, r.length),
            !(s === coord && queue.length === 0),
          );
        }
        if (s === coord && !halted) {
          const alone = total <= 1;
          await ask(s, { kind: 'verify' }, controlLine('#V'), !alone);
          if (alone) await s.finish(false);
        }
        await changes.until(() => halted || (expects.get(s)?.length ?? 0) === 0);
      } catch {
        // Judged by watch().
      }
    };
    const register = (session: ScriptSession) => {
      const s = new Stream(session, changes, lineHandler);
      expects.set(s, []);
      all.push(s);
      watch(s);
      return s;
    };

    const coord: Stream = register(coordSession);
    await ask(coord, { kind: 'hold' }, controlLine('#S', field(remotePath))).catch(() => undefined);
    await changes.until(() => length !== undefined || halted || coord.exit !== undefined);
    if (length !== undefined && !halted) {
      fh = await open(temp, 'wx');
      await fh.truncate(length);
      queue = splitRanges(length, chunk, streams);
      total = queue.length;
      // Extra processes only for a file of more than one range; they start once the length is known.
      for (let i = 1; i < Math.min(streams, total); i++) {
        extras.start(peer, 'download', async (session) => {
          const s = register(session);
          if (halted) void session.kill();
          if (!halted && queue.length > 0) await pump(s);
          await s.finish(false);
          await s.done;
        });
      }
      await pump(coord);
      extras.cancelPending();
      await changes.until(() => halted || (completed === total && whole !== undefined));
    }
    extras.cancelPending();
    await Promise.all(all.map((s) => s.finish(false).then(() => s.done)));
    await extras.all();
    if (control.reason)
      throw stopError(control.reason, 'download', fullPath, bytes, control.timeoutMs, control.cause);
    if (failure) throw failure;
    if (!whole || !fh || length === undefined) {
      const exit = coord.exit;
      throw new TransferError(
        `Download of "${remotePath}" failed: the remote PowerShell process ended without a result (${exit?.error?.message ?? `exit code ${exit?.code}`})`,
        {
          remotePath,
          cause: exit?.error,
          remedy: 'check that Windows PowerShell (powershell.exe) runs for this account',
        },
      );
    }
    // One SHA-256 over the assembled local file, against the remote hash of the whole held file.
    await fh.close();
    fh = undefined;
    const local = { bytes: length, sha256: await hashSource(temp) };
    if (local.bytes !== whole.bytes || local.sha256 !== whole.sha256) {
      throw mismatchError('download', fullPath, local, whole, 'the local destination was not written');
    }
    if (overwrite) await rename(temp, destination);
    else {
      try {
        await link(temp, destination);
      } catch (err) {
        throw new TransferError(`"${destination}" appeared during the download and overwrite is false`, {
          cause: err,
        });
      }
      await unlink(temp);
    }
    return { ...local, remotePath: fullPath, durationMs: performance.now() - started };
  } catch (err) {
    halt();
    await Promise.all(all.map((s) => s.done));
    await extras.all();
    await fh?.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw err;
  } finally {
    offStop();
    control.dispose();
  }
}
