/** Turning protocol error codes and local failures into errors that say what happened and what to do. */
import { win32 } from 'node:path';
import { AbortError, ConnectionError, TimeoutError, TransferError, type WinRmError } from '../errors.ts';

export type Operation = 'upload' | 'download' | 'list' | 'cleanup';

/**
 * Error codes the scripts send in `#ERR <code> <message>` (docs/transfer-protocol.md, "Errors"). The message is
 * the remote .NET exception text and is quoted in ours.
 */
export function remoteError(op: Operation, code: string, detail: string, path: string): WinRmError {
  const verb =
    op === 'list' ? 'Listing' : op === 'cleanup' ? 'Cleanup' : op === 'upload' ? 'Upload' : 'Download';
  const at = `${verb} of "${path}" failed`;
  const remotePath = path;
  switch (code) {
    case 'NO_DIR':
      return new TransferError(
        `${at}: the remote directory "${win32.dirname(path)}" does not exist (${detail})`,
        {
          remotePath,
          reason: code,
          remedy:
            'create the directory first (uploadDirectory creates missing directories), or correct the path',
        },
      );
    case 'ACCESS_DENIED':
      return new TransferError(`${at}: access denied on the remote host (${detail})`, {
        remotePath,
        reason: code,
        remedy:
          op === 'upload'
            ? "connect as an account allowed to write there, or clear the target's read-only attribute"
            : 'connect as an account allowed to read it',
      });
    case 'EXISTS':
      return new TransferError(`${at}: the target already exists and overwrite is false (${detail})`, {
        remotePath,
        reason: code,
        remedy: 'pass overwrite: true to replace it, or choose another path',
      });
    case 'NOT_FOUND':
      return new TransferError(
        `${at}: the remote ${op === 'list' ? 'directory' : 'file'} does not exist (${detail})`,
        {
          remotePath,
          reason: code,
          remedy: 'check the path; remote paths are Windows paths such as C:\\Users\\me\\file.txt',
        },
      );
    case 'IS_DIR':
      return new TransferError(`${at}: the remote path is a directory (${detail})`, {
        remotePath,
        reason: code,
        remedy: op === 'upload' ? 'name the file to create, or use uploadDirectory' : 'use downloadDirectory',
      });
    case 'NOT_DIR':
      return new TransferError(`${at}: the remote path is a file, not a directory (${detail})`, {
        remotePath,
        reason: code,
      });
    case 'BAD_PATH':
      return new TransferError(`${at}: the remote path is not valid on Windows (${detail})`, {
        remotePath,
        reason: code,
        remedy: 'use a drive-qualified path without the characters <>:"|?* in names',
      });
    case 'HASH_MISMATCH':
      return new TransferError(
        `${at}: hash mismatch, the remote host received other bytes than were sent (${detail}); the target was not replaced and the temporary file was removed`,
        {
          remotePath,
          reason: code,
          remedy: 'retry; if it repeats, something between this client and the host alters data',
        },
      );
    case 'ABORTED':
      return new AbortError(`The ${op} of "${path}" was cancelled; the target was left as it was`);
    default:
      return new TransferError(`${at}: ${code} on the remote host (${detail})`, { remotePath, reason: code });
  }
}

/** The error for a stop the caller asked for (AbortSignal, timeout, or close() of the connection). */
export function stopError(
  reason: 'abort' | 'timeout' | 'close',
  op: Operation,
  path: string,
  bytes: number,
  timeoutMs: number | undefined,
  cause: unknown,
): WinRmError {
  const what = `The ${op} of "${path}"`;
  const tail = `after ${bytes} bytes; the target was left as it was and no temporary file remains`;
  if (reason === 'close') {
    return new ConnectionError(`${what} was stopped because the connection was closed ${tail}`, {
      remedy: 'let transfers finish (await them) before calling close()',
    });
  }
  return reason === 'timeout'
    ? new TimeoutError(`${what} did not finish within ${timeoutMs} ms and was stopped ${tail}`, { timeoutMs })
    : new AbortError(`${what} was cancelled ${tail}`, { cause });
}

/** Hash or length disagreement found by the client. */
export function mismatchError(
  op: Operation,
  path: string,
  local: { bytes: number; sha256: string },
  remote: { bytes: number; sha256: string },
  consequence: string,
): TransferError {
  return new TransferError(
    `${op === 'upload' ? 'Upload' : 'Download'} of "${path}" failed verification: hash mismatch, this side has ${local.bytes} bytes with SHA-256 ${local.sha256}, the remote host reported ${remote.bytes} bytes with SHA-256 ${remote.sha256}; ${consequence}`,
    {
      remotePath: path,
      reason: 'HASH_MISMATCH',
      remedy: 'retry; if it repeats, something between this client and the host alters data',
    },
  );
}
