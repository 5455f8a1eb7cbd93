/** Directory trees: walked locally and uploaded as one batch; listed remotely (list.ps1) and downloaded as one batch. */
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join, win32 } from 'node:path';
import type { DirectoryTransferResult, TransferOptions } from '../connection.ts';
import { ProtocolError, TransferError } from '../errors.ts';
import { checkOptions } from './control.ts';
import { runDownload } from './download.ts';
import { remoteError } from './errors.ts';
import { controlLine, field, parseErrorLine, unfield } from './framing.ts';
import { streamCount } from './parallel.ts';
import { ScriptSession, type TransferPeer } from './session.ts';
import { runUpload, type UploadEntry } from './upload.ts';

interface LocalTree {
  directories: string[][];
  files: Array<{ parts: string[]; path: string; size: number }>;
}

/** Walk a local directory: sub-directories (empty ones too) and files, in a stable order. */
async function walk(root: string): Promise<LocalTree> {
  const tree: LocalTree = { directories: [], files: [] };
  const visit = async (dir: string, parts: string[]) => {
    const names = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const d of names) {
      const path = join(dir, d.name);
      const rel = [...parts, d.name];
      // Symbolic links: followed to files, not into directories (no loops).
      const isFile =
        d.isFile() || (d.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isFile());
      if (d.isDirectory()) {
        tree.directories.push(rel);
        await visit(path, rel);
      } else if (isFile) {
        tree.files.push({ parts: rel, path, size: (await stat(path)).size });
      }
    }
  };
  await visit(root, []);
  return tree;
}

async function requireLocalDirectory(path: string, what: string): Promise<void> {
  const s = await stat(path).catch(() => undefined);
  if (!s?.isDirectory()) {
    throw new TransferError(`The local ${what} "${path}" is not a directory`, {
      remedy: 'name an existing directory',
    });
  }
}

function checkRemotePath(remotePath: unknown): asserts remotePath is string {
  if (typeof remotePath !== 'string' || remotePath.trim() === '' || remotePath.includes('\0')) {
    throw new TransferError('The remote path must be a non-empty Windows path such as C:\\temp\\file.txt');
  }
}

export async function uploadDirectoryTree(
  peer: TransferPeer,
  localDir: string,
  remoteDir: string,
  options: TransferOptions,
): Promise<DirectoryTransferResult> {
  checkRemotePath(remoteDir);
  checkOptions(options);
  const started = performance.now();
  await requireLocalDirectory(localDir, 'source');
  const tree = await walk(localDir);
  const entries: UploadEntry[] = [
    { kind: 'dir', remotePath: remoteDir },
    ...tree.directories.map(
      (parts): UploadEntry => ({ kind: 'dir', remotePath: win32.join(remoteDir, ...parts) }),
    ),
    ...tree.files.map(
      (f): UploadEntry => ({
        kind: 'file',
        remotePath: win32.join(remoteDir, ...f.parts),
        source: f.path,
        size: f.size,
      }),
    ),
  ];
  const total = tree.files.reduce((n, f) => n + f.size, 0);
  const streams = streamCount(options, peer);
  if (streams > 1 && tree.files.length > 1) {
    // The directories first (one process), then the files spread over the streams, one upload.ps1 each.
    const dirs = entries.filter((e) => e.kind === 'dir');
    const files = entries.filter((e) => e.kind === 'file');
    const made = await runUpload(peer, dirs, { ...options, onProgress: undefined }, 0);
    // One deadline for the whole call: the file batches get what the directories left of it.
    const left =
      options.timeout === undefined
        ? undefined
        : Math.max(1, options.timeout - (performance.now() - started));
    const results = await spread(
      files,
      streams,
      (e) => e.size ?? 0,
      { ...options, timeout: left },
      (batch, opts) => runUpload(peer, batch, opts, total).then((r) => r.files),
    );
    return {
      remotePath: made.directories[0] ?? remoteDir,
      files: results,
      directories: made.directories.length,
      bytes: results.reduce((n, f) => n + f.bytes, 0),
      durationMs: performance.now() - started,
    };
  }
  const r = await runUpload(peer, entries, options, total);
  return {
    remotePath: r.directories[0] ?? remoteDir,
    files: r.files,
    directories: r.directories.length,
    bytes: r.bytes,
    durationMs: performance.now() - started,
  };
}

/**
 * Run `items` as up to `streams` batches at once (one remote process each), the largest items first onto the
 * least loaded batch. The first failure stops the other batches (their own cancel path: old targets kept, temporary
 * files removed) and is what the call rejects with. Results come back in the order of `items`; progress is the
 * sum over the batches.
 */
async function spread<T, R>(
  items: readonly T[],
  streams: number,
  weight: (item: T) => number,
  options: TransferOptions,
  run: (batch: T[], options: TransferOptions) => Promise<R[]>,
): Promise<R[]> {
  const count = Math.min(streams, items.length);
  const batches: Array<{ items: T[]; index: number[]; load: number; bytes: number }> = Array.from(
    { length: count },
    () => ({ items: [], index: [], load: 0, bytes: 0 }),
  );
  const order = items.map((_, i) => i).sort((a, b) => weight(items[b]!) - weight(items[a]!) || a - b);
  for (const i of order) {
    const b = batches.reduce((m, x) => (x.load < m.load ? x : m));
    b.index.push(i);
    b.load += weight(items[i]!) + 1;
  }
  // Keep each batch in the caller's order.
  for (const b of batches) {
    b.index.sort((x, y) => x - y);
    b.items = b.index.map((i) => items[i]!);
  }
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  let first: { error: unknown } | undefined;
  const out: R[] = new Array(items.length);
  const settled = await Promise.allSettled(
    batches.map((b) =>
      run(b.items, {
        ...options,
        signal,
        onProgress: options.onProgress
          ? (p) => {
              b.bytes = p.bytes;
              options.onProgress?.({ ...p, bytes: batches.reduce((n, x) => n + x.bytes, 0) });
            }
          : undefined,
      }).then(
        (results) => {
          results.forEach((r, k) => {
            out[b.index[k]!] = r;
          });
        },
        (error: unknown) => {
          if (!first) {
            first = { error };
            stop.abort();
          }
        },
      ),
    ),
  );
  void settled;
  if (first) throw first.error;
  return out;
}

export interface RemoteTree {
  root: string;
  directories: string[][];
  files: Array<{ parts: string[]; size: number }>;
}

function segments(rel: string): string[] {
  const parts = rel.split('\\');
  for (const p of parts) {
    if (p === '' || p === '.' || p === '..' || /[/\0]/.test(p)) {
      throw new ProtocolError(`The list script sent an unsafe relative path "${rel}"`);
    }
  }
  return parts;
}

/** List a remote directory tree with list.ps1. */
export async function listRemoteTree(peer: TransferPeer, remoteDir: string): Promise<RemoteTree> {
  const session = await ScriptSession.open(peer, 'list');
  await session.send(controlLine('#L', field(remoteDir)));
  await session.end();
  const tree: RemoteTree = { root: remoteDir, directories: [], files: [] };
  let failure: { code: string; message: string } | undefined;
  let complete = false;
  try {
    for await (const line of session.lines) {
      const f = line.split(' ');
      if (f[0] === '#WRCP') {
        if (f[1] !== '1' || f[2] !== 'list') throw new ProtocolError(`Unexpected transfer script "${line}"`);
      } else if (f[0] === '#R') tree.root = unfield(f[1], 'path');
      else if (f[0] === '#D') tree.directories.push(segments(unfield(f[1], 'path')));
      else if (f[0] === '#F' && f.length === 3)
        tree.files.push({ parts: segments(unfield(f[1], 'path')), size: Number(f[2]) });
      else if (f[0] === '#END') complete = true;
      else if (f[0] === '#ERR') failure = parseErrorLine(f);
      else throw new ProtocolError(`The list script sent an unexpected line: ${line.slice(0, 80)}`);
    }
  } catch (err) {
    if (err instanceof ProtocolError) {
      await session.kill();
      throw err;
    }
  }
  const exit = await session.exited;
  if (failure) throw remoteError('list', failure.code, failure.message, remoteDir);
  if (!complete || exit.code !== 0) {
    throw new TransferError(
      `Listing of "${remoteDir}" failed: ${exit.error ? `the connection failed (${exit.error.message})` : `the remote PowerShell process ended with exit code ${exit.code} without a result: ${session.stderrText()}`}`,
      { remotePath: remoteDir, cause: exit.error },
    );
  }
  return tree;
}

export async function downloadDirectoryTree(
  peer: TransferPeer,
  remoteDir: string,
  localDir: string,
  options: TransferOptions,
): Promise<DirectoryTransferResult> {
  checkRemotePath(remoteDir);
  checkOptions(options);
  const started = performance.now();
  const tree = await listRemoteTree(peer, remoteDir);
  await mkdir(localDir, { recursive: true });
  for (const parts of tree.directories) await mkdir(join(localDir, ...parts), { recursive: true });
  const targets = tree.files.map((f) => ({
    remotePath: win32.join(tree.root, ...f.parts),
    destination: join(localDir, ...f.parts),
  }));
  const total = tree.files.reduce((n, f) => n + f.size, 0);
  const streams = streamCount(options, peer);
  const sizes = new Map(targets.map((t, i) => [t, tree.files[i]!.size]));
  const files =
    targets.length === 0
      ? []
      : streams > 1 && targets.length > 1
        ? await spread(
            targets,
            streams,
            (t) => sizes.get(t) ?? 0,
            options,
            (batch, opts) => runDownload(peer, batch, opts, total),
          )
        : await runDownload(peer, targets, options, total);
  return {
    remotePath: tree.root,
    files,
    directories: tree.directories.length + 1,
    bytes: files.reduce((n, f) => n + f.bytes, 0),
    durationMs: performance.now() - started,
  };
}
