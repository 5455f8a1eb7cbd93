/**
 * File transfer over WinRM itself (no SMB): the entry points the connection strategies delegate to. The
 * protocol is documented in docs/transfer-protocol.md; the remote side is the .ps1 assets beside this module.
 */
import { Readable, type Writable } from 'node:stream';
import type { DirectoryTransferResult, TransferOptions, TransferResult } from '../connection.ts';
import { TransferError } from '../errors.ts';
import { checkOptions } from './control.ts';
import { downloadDirectoryTree, uploadDirectoryTree } from './directory.ts';
import { runDownload } from './download.ts';
import { chunkFor, parallelDownload, parallelUpload, streamCount } from './parallel.ts';
import type { TransferPeer } from './session.ts';
import { describeSource, type UploadSource } from './sources.ts';
import { runUpload } from './upload.ts';

export { chunkForCapacity } from './framing.ts';
export type { TransferPeer } from './session.ts';
export type { UploadSource } from './sources.ts';

function checkRemotePath(remotePath: unknown): asserts remotePath is string {
  if (typeof remotePath !== 'string' || remotePath.trim() === '' || remotePath.includes('\0')) {
    throw new TransferError('The remote path must be a non-empty Windows path such as C:\\temp\\file.txt');
  }
}

export async function uploadFile(
  peer: TransferPeer,
  source: UploadSource,
  remotePath: string,
  options: TransferOptions = {},
): Promise<TransferResult> {
  checkRemotePath(remotePath);
  const started = performance.now();
  const size = await describeSource(source);
  checkOptions(options);
  const streams = streamCount(options, peer);
  if (streams > 1 && size !== undefined && !(source instanceof Readable) && size > chunkFor(peer, options)) {
    return parallelUpload(peer, source, size, remotePath, options, streams);
  }
  const r = await runUpload(peer, [{ kind: 'file', remotePath, source, size }], options, size);
  return { ...r.files[0]!, durationMs: performance.now() - started };
}

export async function downloadFile(
  peer: TransferPeer,
  remotePath: string,
  destination: string | Writable,
  options: TransferOptions = {},
): Promise<TransferResult> {
  checkRemotePath(remotePath);
  checkOptions(options);
  const streams = streamCount(options, peer);
  if (streams > 1 && typeof destination === 'string') {
    return parallelDownload(peer, remotePath, destination, options, streams);
  }
  const started = performance.now();
  const [r] = await runDownload(peer, [{ remotePath, destination }], options);
  return { ...r!, durationMs: performance.now() - started };
}

export function uploadDirectory(
  peer: TransferPeer,
  localDir: string,
  remoteDir: string,
  options: TransferOptions = {},
): Promise<DirectoryTransferResult> {
  return uploadDirectoryTree(peer, localDir, remoteDir, options);
}

export function downloadDirectory(
  peer: TransferPeer,
  remoteDir: string,
  localDir: string,
  options: TransferOptions = {},
): Promise<DirectoryTransferResult> {
  return downloadDirectoryTree(peer, remoteDir, localDir, options);
}
