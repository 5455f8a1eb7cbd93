/**
 * Client side of uploads: one upload.ps1 process per call (a whole directory is one batch). Data goes over stdin
 * as base64 lines sized to fill Send envelopes; the remote writes a temporary file beside each target, checks
 * length and SHA-256 against the `#E` record, and only then renames it over the target.
 */
import { createHash } from 'node:crypto';
import { win32 } from 'node:path';
import type { TransferOptions, TransferResult } from '../connection.ts';
import { ProtocolError, TransferError, type WinRmError } from '../errors.ts';
import { checkOptions, StopControl } from './control.ts';
import { mismatchError, remoteError, stopError } from './errors.ts';
import {
  chunkForCapacity,
  controlLine,
  dataLine,
  field,
  newTransferId,
  parseErrorLine,
  unfield,
} from './framing.ts';
import { type ExitOutcome, ScriptSession, SessionStopped, type TransferPeer } from './session.ts';
import { chunksOf, type UploadSource } from './sources.ts';

/**
 * How long a stopped upload (AbortSignal, timeout, close()) may take, from the stop, to send its cancel record,
 * let the remote remove its temporary file and exit, before the process is killed: 10,000 ms.
 */
export const CANCEL_GRACE_MS = 10_000;

/**
 * How long cleanup.ps1 may take to remove the temporary files of a killed or failed upload: 15,000 ms (the script
 * retries a file still in use for about 5 s). After it the upload rejects naming the files left.
 */
export const CLEANUP_TIMEOUT_MS = 15_000;

export type UploadEntry =
  | { kind: 'file'; remotePath: string; source: UploadSource; size: number | undefined }
  | { kind: 'dir'; remotePath: string };

export interface UploadBatchResult {
  files: TransferResult[];
  directories: string[];
  bytes: number;
}

interface FileRecord {
  id: string;
  remotePath: string;
  bytes: number;
  sha256: string;
  startedAt: number;
}

interface Ack {
  bytes: number;
  sha256: string;
  remotePath: string;
  at: number;
}

/** Upload a batch of directories and files through one remote process. */
export async function runUpload(
  peer: TransferPeer,
  entries: readonly UploadEntry[],
  options: TransferOptions,
  total: number | undefined,
): Promise<UploadBatchResult> {
  checkOptions(options);
  const overwrite = options.overwrite ?? true;
  const control = new StopControl(options.signal, options.timeout, peer.closing);
  const firstPath = entries.find((e) => e.kind === 'file')?.remotePath ?? entries[0]?.remotePath ?? '';
  try {
    if (control.reason)
      throw stopError(control.reason, 'upload', firstPath, 0, control.timeoutMs, control.cause);
    // A stop while the process starts is acted on once it runs: it is told to finish, and the upload rejects.
    const session = await ScriptSession.open(peer, 'upload');
    const chunk = options.chunkSize ?? chunkForCapacity(session.capacity);
    const files: FileRecord[] = [];
    const acks: Ack[] = [];
    const directories: string[] = [];
    let remote: { code: string; message: string } | undefined;
    // From the stop on, the cancel (the #A record, the remote removing its temporary file, the exit) has
    // CANCEL_GRACE_MS; then the process is killed and cleanup.ps1 removes what it left.
    let grace: NodeJS.Timeout | undefined;
    const armGrace = () => {
      grace ??= setTimeout(() => void session.kill(), CANCEL_GRACE_MS);
    };
    const stopWriting = control.onStop(() => {
      session.interrupt();
      armGrace();
    });
    const reader = (async () => {
      for await (const line of session.lines) {
        const f = line.split(' ');
        if (f[0] === '#WRCP') {
          if (f[1] !== '1' || f[2] !== 'upload')
            throw new ProtocolError(`Unexpected transfer script "${line}"`);
        } else if (f[0] === '#OK' && f.length === 4) {
          acks.push({
            bytes: Number(f[1]),
            sha256: f[2]!,
            remotePath: unfield(f[3], 'path'),
            at: performance.now(),
          });
        } else if (f[0] === '#DIR') {
          directories.push(unfield(f[1], 'path'));
        } else if (f[0] === '#ERR') {
          remote = parseErrorLine(f);
          session.interrupt();
        } else if (f[0] !== '#WARN') {
          throw new ProtocolError(`The upload script sent an unexpected line: ${line.slice(0, 80)}`);
        }
      }
    })();
    const readerDone = reader.then(
      () => undefined,
      (err: unknown) => err,
    );

    let bytes = 0;
    let midFile = false;
    /** Entries whose last record (#D, or a file's #E) was handed on: all of them, and a stop cannot undo it. */
    let done = 0;
    let localError: WinRmError | undefined;
    let stdinFailed = false;
    try {
      for (const entry of entries) {
        if (control.stopped || remote) break;
        if (entry.kind === 'dir') {
          const record = controlLine('#D', field(entry.remotePath));
          try {
            await session.send(record);
          } finally {
            if (session.lastAccepted === record) done++;
          }
          continue;
        }
        const rec: FileRecord = {
          id: newTransferId(),
          remotePath: entry.remotePath,
          bytes: 0,
          sha256: '',
          startedAt: performance.now(),
        };
        const header = controlLine('#F', field(entry.remotePath), overwrite ? 1 : 0, rec.id);
        try {
          await session.send(header);
        } finally {
          // A line handed to stdin goes out even when send() was interrupted: the remote opens the file.
          if (session.lastAccepted === header) {
            files.push(rec);
            midFile = true;
          }
        }
        const hash = createHash('sha256');
        const pieces = chunksOf(entry.source, chunk)[Symbol.asyncIterator]();
        try {
          for (;;) {
            let next: IteratorResult<Buffer>;
            try {
              next = await pieces.next();
            } catch (err) {
              localError = new TransferError(
                `Upload of "${entry.remotePath}" failed: reading the local source failed (${(err as Error).message}); the target was left as it was`,
                { remotePath: entry.remotePath, cause: err },
              );
              break;
            }
            if (next.done) break;
            if (control.stopped || remote) break;
            hash.update(next.value);
            rec.bytes += next.value.length;
            bytes += next.value.length;
            await session.send(dataLine(next.value));
            options.onProgress?.({ bytes, total, path: entry.remotePath });
          }
        } finally {
          // Closes the local file when the loop ends early (cancel, remote error, failed Send).
          await pieces.return?.(undefined);
        }
        if (localError || control.stopped || remote) break;
        rec.sha256 = hash.digest('hex');
        const trailer = controlLine('#E', rec.bytes, rec.sha256);
        try {
          await session.send(trailer);
        } finally {
          // Once #E is out the remote verifies and renames: a #A after it would be a protocol error.
          if (session.lastAccepted === trailer) {
            midFile = false;
            done++;
          }
        }
      }
    } catch (err) {
      if (!(err instanceof SessionStopped)) stdinFailed = true;
    }
    const sentAll = done === entries.length && !localError;
    stopWriting();
    // A stop from here on (or a cancel after a local error) only bounds the goodbye and the exit.
    const offGrace = control.onStop(armGrace);

    // Finish the conversation: cancel the file in progress, or just say goodbye.
    const cancelling = midFile && !remote;
    if (cancelling) armGrace();
    if (!stdinFailed && !remote) {
      session.resume();
      try {
        if (cancelling) await session.send(controlLine('#A'));
        await session.send(controlLine('#Q'));
        await session.end();
      } catch {
        stdinFailed = true;
      }
    } else {
      await session.end().catch(() => undefined);
    }
    let exit: ExitOutcome;
    try {
      exit = await session.exited;
    } finally {
      offGrace();
      if (grace) clearTimeout(grace);
    }
    const readError = await readerDone;
    if (readError instanceof ProtocolError) throw readError;

    const unacked = files.slice(acks.length);
    const graceful = remote !== undefined || (exit.code !== undefined && unacked.length === 0);
    if (remote) {
      if (remote.code === 'ABORTED' && (control.reason || localError)) {
        throw (
          localError ??
          stopError(
            control.reason!,
            'upload',
            unacked[0]?.remotePath ?? firstPath,
            bytes,
            control.timeoutMs,
            control.cause,
          )
        );
      }
      throw remoteError(
        'upload',
        remote.code,
        remote.message,
        unacked[0]?.remotePath ?? lastDir(entries, directories),
      );
    }
    for (let i = 0; i < acks.length; i++) {
      const a = acks[i]!;
      const r = files[i]!;
      if (a.bytes !== r.bytes || a.sha256 !== r.sha256) {
        throw mismatchError('upload', r.remotePath, r, a, 'the remote host had already replaced the target');
      }
    }
    // Success only when every entry went out and was answered: a stop before the last #E is never a success.
    if (sentAll && unacked.length === 0 && exit.code === 0) {
      return {
        files: files.map((r, i) => ({
          bytes: r.bytes,
          sha256: r.sha256,
          remotePath: acks[i]!.remotePath,
          durationMs: acks[i]!.at - r.startedAt,
        })),
        directories,
        bytes,
      };
    }
    // The process ended without a verdict for some files: their temporary files may still be there.
    const leftovers = graceful ? [] : await removeLeftovers(peer, unacked);
    const path = unacked[0]?.remotePath ?? firstPath;
    if (localError) throw localError;
    if (control.reason)
      throw stopError(control.reason, 'upload', path, bytes, control.timeoutMs, control.cause);
    const cause = exit.error ?? new Error(`exit code ${exit.code}`);
    const stderr = session.stderrText();
    const tempNote =
      leftovers.length === 0
        ? 'the temporary file was removed'
        : `the temporary file ${leftovers.join(', ')} could not be removed: delete it once the host is reachable`;
    if (exit.error) {
      throw new TransferError(
        `Upload of "${path}" failed: the connection to the host failed after ${bytes} bytes were sent (${cause.message}); the target was left as it was and ${tempNote}`,
        { remotePath: path, cause, remedy: 'check the network path to the host and retry' },
      );
    }
    throw new TransferError(
      `Upload of "${path}" failed: the remote PowerShell process ended with exit code ${exit.code} without a result${stderr ? `: ${stderr}` : ''}; the target was left as it was and ${tempNote}`,
      { remotePath: path, remedy: 'check that Windows PowerShell (powershell.exe) runs for this account' },
    );
  } finally {
    control.dispose();
  }
}

function lastDir(entries: readonly UploadEntry[], done: readonly string[]): string {
  const dirs = entries.filter((e) => e.kind === 'dir');
  return dirs[done.length]?.remotePath ?? dirs.at(-1)?.remotePath ?? '';
}

/**
 * Run cleanup.ps1 for uploads that did not report; returns the temp files it could not confirm removed. Bounded
 * by CLEANUP_TIMEOUT_MS (then the cleanup process is killed and the temp files are named in the error).
 */
export async function removeLeftovers(
  peer: TransferPeer,
  records: ReadonlyArray<Pick<FileRecord, 'remotePath' | 'id'>>,
): Promise<string[]> {
  const temps = records.map((r) => win32.join(win32.dirname(r.remotePath), `.wrcp-${r.id}.tmp`));
  if (records.length === 0) return [];
  let session: ScriptSession | undefined;
  let timer: NodeJS.Timeout | undefined;
  const work = (async () => {
    session = await ScriptSession.open(peer, 'cleanup');
    for (const r of records) await session.send(controlLine('#C', field(r.remotePath), r.id));
    await session.send(controlLine('#Q'));
    await session.end();
    let ok = 0;
    for await (const line of session.lines) if (line.startsWith('#OK ')) ok++;
    const exit = await session.exited;
    return exit.code === 0 && ok === records.length ? [] : temps.slice(ok);
  })();
  const expired = new Promise<string[]>((resolve) => {
    timer = setTimeout(() => {
      void session?.kill();
      resolve(temps);
    }, CLEANUP_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work, expired]);
  } catch {
    return temps;
  } finally {
    clearTimeout(timer);
    // A cleanup still starting when the time ran out settles on its own; its outcome is no longer awaited.
    work.catch(() => undefined);
  }
}
