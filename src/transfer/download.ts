/**
 * Client side of downloads: one download.ps1 process per call (a whole directory is one batch). The remote
 * streams each file as base64 lines and ends it with its length and SHA-256; this side writes as it decodes
 * (never holding a file in memory) and verifies before the file becomes visible.
 */
import { createHash, type Hash } from 'node:crypto';
import { type FileHandle, link, open, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import type { TransferOptions, TransferResult } from '../connection.ts';
import { InvalidArgumentError, ProtocolError, TransferError, WinRmError } from '../errors.ts';
import { checkOptions, StopControl } from './control.ts';
import { mismatchError, remoteError, stopError } from './errors.ts';
import {
  chunkForCapacity,
  controlLine,
  decodeBase64,
  field,
  newTransferId,
  parseErrorLine,
  unfield,
} from './framing.ts';
import { ScriptSession, type TransferPeer } from './session.ts';

export interface DownloadTarget {
  remotePath: string;
  destination: string | Writable;
}

/** Where the bytes of one file go: a temporary file renamed on success, or the caller's Writable. */
interface Sink {
  write(data: Buffer): Promise<void>;
  commit(): Promise<void>;
  discard(err: Error): Promise<void>;
}

/** Refuse a local path destination that cannot work, before anything is sent. */
export async function checkLocalDestination(
  path: string,
  overwrite: boolean,
  remotePath: string,
): Promise<void> {
  if (typeof path !== 'string' || path === '') {
    throw new InvalidArgumentError('The download destination must be a local path or a Writable', {
      argument: 'destination',
    });
  }
  const dir = await stat(dirname(path)).catch(() => undefined);
  if (!dir?.isDirectory()) {
    throw new TransferError(
      `Download of "${remotePath}" failed: the local directory "${dirname(path)}" does not exist`,
      {
        remotePath,
        remedy: 'create it first',
      },
    );
  }
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) {
    throw new TransferError(`Download of "${remotePath}" failed: the local path "${path}" is a directory`, {
      remotePath,
      remedy: 'name the file to create, or use downloadDirectory',
    });
  }
  if (existing && !overwrite) {
    throw new TransferError(
      `Download of "${remotePath}" failed: "${path}" already exists and overwrite is false`,
      {
        remotePath,
        remedy: 'pass overwrite: true to replace it, or choose another path',
      },
    );
  }
}

async function fileSink(path: string, overwrite: boolean): Promise<Sink> {
  const temp = join(dirname(path), `.wrcp-${newTransferId()}.tmp`);
  const fh: FileHandle = await open(temp, 'wx');
  let closed = false;
  const close = async () => {
    if (!closed) {
      closed = true;
      await fh.close();
    }
  };
  return {
    write: async (data) => {
      await fh.write(data);
    },
    commit: async () => {
      await close();
      if (overwrite) await rename(temp, path);
      else {
        // link() refuses an existing name: a no-clobber rename.
        try {
          await link(temp, path);
        } catch (err) {
          await unlink(temp).catch(() => undefined);
          throw new TransferError(`"${path}" appeared during the download and overwrite is false`, {
            cause: err,
          });
        }
        await unlink(temp);
      }
    },
    discard: async () => {
      await close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
    },
  };
}

function streamSink(stream: Writable): Sink {
  return {
    write: (data) =>
      new Promise<void>((resolve, reject) => {
        if (stream.destroyed) return reject(new TransferError('The destination stream was destroyed'));
        if (stream.write(data)) return resolve();
        const done = (err?: Error) => {
          stream.off('drain', onDrain);
          stream.off('close', onClose);
          stream.off('error', done);
          if (err) reject(err);
          else resolve();
        };
        const onDrain = () => done();
        const onClose = () =>
          done(new TransferError('The destination stream closed before the download ended'));
        stream.on('drain', onDrain);
        stream.on('close', onClose);
        stream.on('error', done);
      }),
    commit: () =>
      new Promise<void>((resolve, reject) => {
        stream.once('error', reject);
        stream.end(() => resolve());
      }),
    discard: async (err) => {
      stream.destroy(err);
    },
  };
}

/** Download a batch of files through one remote process. */
export async function runDownload(
  peer: TransferPeer,
  targets: readonly DownloadTarget[],
  options: TransferOptions,
  knownTotal?: number,
): Promise<TransferResult[]> {
  checkOptions(options);
  const overwrite = options.overwrite ?? true;
  for (const t of targets) {
    if (typeof t.destination === 'string')
      await checkLocalDestination(t.destination, overwrite, t.remotePath);
  }
  const control = new StopControl(options.signal, options.timeout, peer.closing);
  let bytes = 0;
  let index = 0;
  let sink: Sink | undefined;
  const results: TransferResult[] = [];
  try {
    if (control.reason)
      throw stopError(
        control.reason,
        'download',
        targets[0]?.remotePath ?? '',
        0,
        control.timeoutMs,
        control.cause,
      );
    const session = await ScriptSession.open(peer, 'download');
    const block = options.chunkSize ?? chunkForCapacity(session.capacity);
    for (const t of targets) await session.send(controlLine('#G', field(t.remotePath), block));
    await session.send(controlLine('#Q'));
    await session.end();
    const off = control.onStop(() => void session.kill());
    let failure: WinRmError | undefined;
    let total = knownTotal;
    let hash: Hash | undefined;
    let fileBytes = 0;
    let started = 0;
    let remotePath = '';
    let hello = false;
    try {
      for await (const line of session.lines) {
        if (line.length > 0 && line[0] !== '#') {
          if (!sink || !hash) throw new ProtocolError('The download script sent data outside a file');
          const data = decodeBase64(line, 'data line');
          hash.update(data);
          fileBytes += data.length;
          bytes += data.length;
          await sink.write(data);
          options.onProgress?.({ bytes, total, path: remotePath });
          continue;
        }
        const f = line.split(' ');
        if (f[0] === '#WRCP') {
          if (f[1] !== '1' || f[2] !== 'download')
            throw new ProtocolError(`Unexpected transfer script "${line}"`);
          hello = true;
        } else if (f[0] === '#H' && f.length === 3 && hello) {
          const target = targets[index];
          if (!target || sink) throw new ProtocolError('The download script started an unexpected file');
          remotePath = unfield(f[2], 'path');
          if (knownTotal === undefined && targets.length === 1) total = Number(f[1]);
          sink =
            typeof target.destination === 'string'
              ? await fileSink(target.destination, overwrite)
              : streamSink(target.destination);
          hash = createHash('sha256');
          fileBytes = 0;
          started = performance.now();
          options.onProgress?.({ bytes, total, path: remotePath });
        } else if (f[0] === '#E' && f.length === 3 && sink && hash) {
          const local = { bytes: fileBytes, sha256: hash.digest('hex') };
          const remote = { bytes: Number(f[1]), sha256: f[2]! };
          if (local.bytes !== remote.bytes || local.sha256 !== remote.sha256) {
            throw mismatchError(
              'download',
              remotePath,
              local,
              remote,
              'the local destination was not written',
            );
          }
          const done = sink;
          sink = undefined;
          hash = undefined;
          await done.commit();
          results.push({ ...local, remotePath, durationMs: performance.now() - started });
          index++;
        } else if (f[0] === '#ERR') {
          const e = parseErrorLine(f);
          failure = remoteError('download', e.code, e.message, targets[index]?.remotePath ?? '');
        } else {
          throw new ProtocolError(`The download script sent an unexpected line: ${line.slice(0, 80)}`);
        }
      }
    } catch (err) {
      // A premature close means the process failed: its outcome comes from `exited`.
      const premature = (err as NodeJS.ErrnoException).code === 'ERR_STREAM_PREMATURE_CLOSE';
      if (!control.reason && !premature) {
        failure ??=
          err instanceof WinRmError
            ? err
            : new TransferError(
                `Download of "${remotePath}" failed: writing the local destination failed (${(err as Error).message})`,
                { remotePath, cause: err },
              );
      }
      await session.kill();
    } finally {
      off();
    }
    const exit = await session.exited;
    if (control.reason)
      throw stopError(
        control.reason,
        'download',
        targets[index]?.remotePath ?? '',
        bytes,
        control.timeoutMs,
        control.cause,
      );
    if (failure) throw failure;
    if (index === targets.length && exit.code === 0) return results;
    const path = targets[index]?.remotePath ?? '';
    if (exit.error) {
      throw new TransferError(
        `Download of "${path}" failed: the connection to the host failed after ${bytes} bytes were received (${exit.error.message}); nothing partial was kept`,
        { remotePath: path, cause: exit.error, remedy: 'check the network path to the host and retry' },
      );
    }
    const stderr = session.stderrText();
    throw new TransferError(
      `Download of "${path}" failed: the remote PowerShell process ended with exit code ${exit.code} without a result${stderr ? `: ${stderr}` : ''}`,
      { remotePath: path, remedy: 'check that Windows PowerShell (powershell.exe) runs for this account' },
    );
  } catch (err) {
    await sink?.discard(err as Error);
    throw err;
  } finally {
    control.dispose();
  }
}
