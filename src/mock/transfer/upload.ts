/** Emulation of upload.ps1 against the mock's file area (docs/transfer-protocol.md, "Upload"). */
import { createHash } from 'node:crypto';
import { type FileHandle, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, win32 } from 'node:path';
import { failures, fromBase64, fromField, fullPath, ScriptFailure, toField } from './failure.ts';
import { type ScriptIo, writeLine } from './io.ts';
import { ProcessKilled } from './lines.ts';

/** The mock's stand-in for ACLs: a host directory without the owner's write bit denies creating files. */
export async function writable(hostDir: string): Promise<boolean> {
  const s = await stat(hostDir);
  return (s.mode & 0o200) !== 0;
}

function hostPath(io: ScriptIo, winPath: string): string {
  const p = io.files.resolve(winPath, io.cwd);
  if (!p) throw new ScriptFailure('IO', `mock: the path '${winPath}' is not on an emulated drive`);
  return p;
}

/**
 * The checks upload.ps1 makes before it writes a target (`#F` and `#P`: fields[1] the path, fields[2] overwrite,
 * fields[3] the temp id), in its order: a file name, not a directory, the directory exists, overwrite, access.
 */
async function checkTarget(
  io: ScriptIo,
  fields: string[],
): Promise<{ target: string; hostTarget: string; temp: string; hostTemp: string }> {
  const target = fullPath(fromField(fields[1]), io.cwd);
  const overwrite = fields[2] === '1';
  const directory = win32.dirname(target);
  if (win32.basename(target) === '' || directory === target) {
    throw new ScriptFailure('BAD_PATH', `'${target}' does not name a file`);
  }
  const hostTarget = hostPath(io, target);
  const hostDir = dirname(hostTarget);
  const existing = await stat(hostTarget).catch(() => undefined);
  if (existing?.isDirectory()) throw new ScriptFailure('IS_DIR', `'${target}' is a directory`);
  if (!(await stat(hostDir).catch(() => undefined))?.isDirectory()) {
    throw new ScriptFailure('NO_DIR', `the directory '${directory}' does not exist`);
  }
  if (!overwrite && existing) throw new ScriptFailure('EXISTS', `'${target}' already exists`);
  const temp = win32.join(directory, `.wrcp-${fields[3]}.tmp`);
  if (!(await writable(hostDir))) throw failures.accessDenied(temp);
  return { target, hostTarget, temp, hostTemp: join(hostDir, `.wrcp-${fields[3]}.tmp`) };
}

async function receiveFile(io: ScriptIo, fields: string[]): Promise<void> {
  if (fields.length !== 4 || !/^[0-9a-f]{16}$/.test(fields[3]!))
    throw failures.protocol('malformed #F record');
  const overwrite = fields[2] === '1';
  const { target, hostTarget, temp, hostTemp } = await checkTarget(io, fields);
  const hash = createHash('sha256');
  let length = 0;
  let fh: FileHandle | undefined;
  let killed = false;
  let corrupt = io.faults?.takeUpload() ?? false;
  try {
    fh = await open(hostTemp, 'wx').catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EEXIST'
        ? new ScriptFailure('IO', `The file '${temp}' already exists.`)
        : new ScriptFailure('IO', err.message);
    });
    let line: string | null;
    for (;;) {
      line = await io.reader.readLine();
      if (line === null) throw new ScriptFailure('EOF', 'stdin ended in the middle of a file');
      if (line.startsWith('#')) break;
      const bytes = fromBase64(line);
      if (corrupt && bytes.length > 0) {
        bytes[bytes.length >> 1]! ^= 0x01;
        corrupt = false;
      }
      hash.update(bytes);
      await fh.write(bytes);
      length += bytes.length;
    }
    const trailer = line.split(' ');
    if (trailer[0] === '#A') throw new ScriptFailure('ABORTED', 'the client cancelled the upload');
    if (trailer[0] !== '#E' || trailer.length !== 3) throw failures.protocol('malformed #E record');
    const sha256 = hash.digest('hex');
    await fh.close();
    fh = undefined;
    if (String(length) !== trailer[1] || sha256 !== trailer[2]) {
      throw new ScriptFailure(
        'HASH_MISMATCH',
        `received ${length} bytes with SHA-256 ${sha256}, the client sent ${trailer[1]} bytes with SHA-256 ${trailer[2]}`,
      );
    }
    const now = await stat(hostTarget).catch(() => undefined);
    if (now) {
      if (!overwrite) throw new ScriptFailure('EXISTS', `'${target}' already exists`);
      // File.Replace refuses a read-only target (the mock's read-only attribute: no write bit at all).
      if ((now.mode & 0o222) === 0) throw failures.accessDenied(target);
    }
    await rename(hostTemp, hostTarget);
    await writeLine(io, `#OK ${length} ${sha256} ${toField(target)}`);
  } catch (err) {
    // A killed process runs no finally block: its temporary file stays (cleanup.ps1 removes it later).
    if (err instanceof ProcessKilled) killed = true;
    throw err;
  } finally {
    await fh?.close().catch(() => undefined);
    if (!killed) await rm(hostTemp, { force: true });
  }
}

async function newFolder(io: ScriptIo, fields: string[]): Promise<void> {
  if (fields.length !== 2) throw failures.protocol('malformed #D record');
  const path = fullPath(fromField(fields[1]), io.cwd);
  const host = hostPath(io, path);
  const s = await stat(host).catch(() => undefined);
  if (s && !s.isDirectory()) throw new ScriptFailure('NOT_DIR', `'${path}' is a file, not a directory`);
  if (!s) {
    // Directory.CreateDirectory creates every missing level; the deepest existing one must allow it.
    let probe = dirname(host);
    while (!(await stat(probe).catch(() => undefined))) probe = dirname(probe);
    if (!(await writable(probe))) throw failures.accessDenied(path);
    await mkdir(host, { recursive: true });
  }
  await writeLine(io, `#DIR ${toField(path)}`);
}

/**
 * The parallel file this process created with #P (docs/transfer-protocol.md, "Parallel streams"): removed by the
 * script's catch block on any failure, as upload.ps1 does.
 */
interface ParallelFile {
  target: string;
  hostTarget: string;
  hostTemp: string;
  overwrite: boolean;
}

const COUNT = /^[0-9]{1,15}$/;

async function openParallel(io: ScriptIo, fields: string[], open_: ParallelFile | undefined) {
  if (fields.length !== 5 || !/^[0-9a-f]{16}$/.test(fields[3]!) || !COUNT.test(fields[4]!))
    throw failures.protocol('malformed #P record');
  if (open_) throw failures.protocol('a parallel file is already open');
  const overwrite = fields[2] === '1';
  const { target, hostTarget, temp, hostTemp } = await checkTarget(io, fields);
  const fh = await open(hostTemp, 'wx').catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'EEXIST'
      ? new ScriptFailure('IO', `The file '${temp}' already exists.`)
      : new ScriptFailure('IO', err.message);
  });
  const file: ParallelFile = { target, hostTarget, hostTemp, overwrite };
  try {
    // FileStream.SetLength: the file has its final length at once; ranges are written into it.
    await fh.truncate(Number(fields[4]));
  } finally {
    await fh.close();
  }
  await writeLine(io, `#READY ${toField(target)}`);
  return file;
}

async function writeRange(io: ScriptIo, fields: string[]): Promise<void> {
  if (fields.length !== 4 || !/^[0-9a-f]{16}$/.test(fields[2]!) || !COUNT.test(fields[3]!))
    throw failures.protocol('malformed #W record');
  const target = fullPath(fromField(fields[1]), io.cwd);
  const temp = win32.join(win32.dirname(target), `.wrcp-${fields[2]}.tmp`);
  const hostTemp = hostPath(io, temp);
  const offset = Number(fields[3]);
  // FileMode.Open: the temporary file must exist (made by #P, possibly in another process).
  const fh = await open(hostTemp, 'r+').catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'ENOENT'
      ? new ScriptFailure('IO', `Could not find file '${temp}'.`)
      : new ScriptFailure('IO', err.message);
  });
  try {
    const size = (await fh.stat()).size;
    const hash = createHash('sha256');
    let length = 0;
    let corrupt = io.faults?.takeUpload() ?? false;
    let line: string | null;
    for (;;) {
      line = await io.reader.readLine();
      if (line === null) throw new ScriptFailure('EOF', 'stdin ended in the middle of a range');
      if (line.startsWith('#')) break;
      const bytes = fromBase64(line);
      if (offset + length + bytes.length > size)
        throw failures.protocol('the range goes beyond the length given in #P');
      hash.update(bytes);
      if (corrupt && bytes.length > 0) {
        bytes[bytes.length >> 1]! ^= 0x01;
        corrupt = false;
      }
      await fh.write(bytes, 0, bytes.length, offset + length);
      length += bytes.length;
    }
    const trailer = line.split(' ');
    if (trailer[0] === '#A') throw new ScriptFailure('ABORTED', 'the client cancelled the upload');
    if (trailer[0] !== '#E' || trailer.length !== 3) throw failures.protocol('malformed #E record');
    const sha256 = hash.digest('hex');
    if (String(length) !== trailer[1] || sha256 !== trailer[2]) {
      throw new ScriptFailure(
        'HASH_MISMATCH',
        `received ${length} bytes at offset ${offset} with SHA-256 ${sha256}, the client sent ${trailer[1]} bytes with SHA-256 ${trailer[2]}`,
      );
    }
    await fh.close();
    await writeLine(io, `#RANGE ${offset} ${length}`);
  } finally {
    await fh.close().catch(() => undefined);
  }
}

async function completeParallel(io: ScriptIo, fields: string[], file: ParallelFile | undefined) {
  if (fields.length !== 3) throw failures.protocol('malformed #V record');
  if (!file) throw failures.protocol('no parallel file is open');
  // One SHA-256 over the assembled file, read from the start (a corrupted range write shows here).
  const hash = createHash('sha256');
  let length = 0;
  const fh = await open(file.hostTemp, 'r');
  try {
    const buf = Buffer.allocUnsafe(1024 * 1024);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      length += bytesRead;
      if (io.signal.aborted) throw new ProcessKilled(String(io.signal.reason));
    }
  } finally {
    await fh.close();
  }
  const sha256 = hash.digest('hex');
  if (String(length) !== fields[1] || sha256 !== fields[2]) {
    throw new ScriptFailure(
      'HASH_MISMATCH',
      `assembled ${length} bytes with SHA-256 ${sha256}, the client sent ${fields[1]} bytes with SHA-256 ${fields[2]}`,
    );
  }
  const now = await stat(file.hostTarget).catch(() => undefined);
  if (now) {
    if (!file.overwrite) throw new ScriptFailure('EXISTS', `'${file.target}' already exists`);
    if ((now.mode & 0o222) === 0) throw failures.accessDenied(file.target);
  }
  await rename(file.hostTemp, file.hostTarget);
  await writeLine(io, `#OK ${length} ${sha256} ${toField(file.target)}`);
}

export async function emulateUpload(io: ScriptIo): Promise<number> {
  await writeLine(io, '#WRCP 1 upload');
  let parallel: ParallelFile | undefined;
  try {
    for (;;) {
      const line = await io.reader.readLine();
      if (line === null || line === '#Q') {
        if (parallel) throw new ScriptFailure('EOF', 'stdin ended before #V');
        return 0;
      }
      const fields = line.split(' ');
      if (fields[0] === '#F') await receiveFile(io, fields);
      else if (fields[0] === '#D') await newFolder(io, fields);
      else if (fields[0] === '#P') parallel = await openParallel(io, fields, parallel);
      else if (fields[0] === '#W') await writeRange(io, fields);
      else if (fields[0] === '#V') {
        await completeParallel(io, fields, parallel);
        parallel = undefined;
      } else if (fields[0] === '#A' && parallel)
        throw new ScriptFailure('ABORTED', 'the client cancelled the upload');
      else throw failures.protocol('unexpected record');
    }
  } catch (err) {
    // upload.ps1's catch block removes the parallel file it created; a killed process runs no catch block.
    if (parallel && !(err instanceof ProcessKilled) && !io.signal.aborted)
      await rm(parallel.hostTemp, { force: true });
    throw err;
  }
}
