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

/** How long a cancelled upload may take to remove its temporary file before the process is killed. */
export const CANCEL_GRACE_MS = 10_000;

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
  const control = new StopControl(options.signal, options.timeout);
  const firstPath = entries.find((e) => e.kind === 'file')?.remotePath ?? entries[0]?.remotePath ?? '';
  try {
    if (control.reason)
      throw stopError(control.reason, 'upload', firstPath, 0, control.timeoutMs, control.cause);
    const session = await ScriptSession.open(peer, 'upload');
    const chunk = options.chunkSize ?? chunkForCapacity(session.capacity);
    const files: FileRecord[] = [];
    const acks: Ack[] = [];
    const directories: string[] = [];
    let remote: { code: string; message: string } | undefined;
    const stopWriting = control.onStop(() => session.interrupt());

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
    let localError: WinRmError | undefined;
    let stdinFailed = false;
    try {
      for (const entry of entries) {
        if (control.stopped || remote) break;
        if (entry.kind === 'dir') {
          await session.send(controlLine('#D', field(entry.remotePath)));
          continue;
        }
        const rec: FileRecord = {
          id: newTransferId(),
          remotePath: entry.remotePath,
          bytes: 0,
          sha256: '',
          startedAt: performance.now(),
        };
        files.push(rec);
        await session.send(controlLine('#F', field(entry.remotePath), overwrite ? 1 : 0, rec.id));
        midFile = true;
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
        await session.send(controlLine('#E', rec.bytes, rec.sha256));
        midFile = false;
      }
    } catch (err) {
      if (!(err instanceof SessionStopped)) stdinFailed = true;
    }
    stopWriting();

    // Finish the conversation: cancel the file in progress, or just say goodbye.
    const cancelling = midFile && !remote;
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
    const exit = await waitForExit(session, control, cancelling);
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
    if (unacked.length === 0 && exit.code === 0 && !localError) {
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

/** Wait for the process; after a cancel (or a stop while waiting) give it CANCEL_GRACE_MS, then kill it. */
async function waitForExit(
  session: ScriptSession,
  control: StopControl,
  cancelling: boolean,
): Promise<ExitOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    timer ??= setTimeout(() => void session.kill(), CANCEL_GRACE_MS);
  };
  if (cancelling) arm();
  const off = control.onStop(arm);
  try {
    return await session.exited;
  } finally {
    off();
    if (timer) clearTimeout(timer);
  }
}

/** Run cleanup.ps1 for uploads that did not report; returns the temp files it could not confirm removed. */
async function removeLeftovers(peer: TransferPeer, records: readonly FileRecord[]): Promise<string[]> {
  const temps = records.map((r) => win32.join(win32.dirname(r.remotePath), `.wrcp-${r.id}.tmp`));
  if (records.length === 0) return [];
  try {
    const session = await ScriptSession.open(peer, 'cleanup');
    for (const r of records) await session.send(controlLine('#C', field(r.remotePath), r.id));
    await session.send(controlLine('#Q'));
    await session.end();
    let ok = 0;
    for await (const line of session.lines) if (line.startsWith('#OK ')) ok++;
    const exit = await session.exited;
    return exit.code === 0 && ok === records.length ? [] : temps.slice(ok);
  } catch {
    return temps;
  }
}
