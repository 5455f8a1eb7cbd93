/** Emulation of download.ps1 (docs/transfer-protocol.md, "Download"). */
import { createHash } from 'node:crypto';
import { type FileHandle, open, stat } from 'node:fs/promises';
import { failures, fromField, fullPath, ScriptFailure, toField } from './failure.ts';
import { type ScriptIo, writeLine } from './io.ts';

/** One data line; with `corrupt` (an injected fault) one bit of it flipped, so the client's hash check fails. */
async function writeBlock(io: ScriptIo, data: Buffer, corrupt: boolean): Promise<void> {
  if (!corrupt) return writeLine(io, data.toString('base64'));
  const copy = Buffer.from(data);
  copy[copy.length >> 1]! ^= 0x01;
  await writeLine(io, copy.toString('base64'));
}

async function sendFile(io: ScriptIo, path: string, block: number): Promise<void> {
  const source = fullPath(path, io.cwd);
  const host = io.files.resolve(source, io.cwd);
  const s = host ? await stat(host).catch(() => undefined) : undefined;
  if (s?.isDirectory()) throw new ScriptFailure('IS_DIR', `'${source}' is a directory`);
  if (!host || !s) throw new ScriptFailure('NOT_FOUND', `'${source}' does not exist`);
  // The mock's stand-in for a read ACL: no owner read bit.
  if ((s.mode & 0o400) === 0) throw failures.accessDenied(source);
  const fh = await open(host, 'r');
  try {
    await writeLine(io, `#H ${s.size} ${toField(source)}`);
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(block);
    let length = 0;
    let corrupt = io.faults?.takeDownload() ?? false;
    for (;;) {
      let count = 0;
      while (count < block) {
        const { bytesRead } = await fh.read(buf, count, block - count, null);
        if (bytesRead === 0) break;
        count += bytesRead;
      }
      if (count === 0) break;
      if (io.signal.aborted) return;
      const data = buf.subarray(0, count);
      hash.update(data);
      await writeBlock(io, data, corrupt);
      corrupt = false;
      length += count;
      if (count < block) break;
    }
    await writeLine(io, `#E ${length} ${hash.digest('hex')}`);
  } finally {
    await fh.close();
  }
}

/** Open a source as download.ps1's Open-Source does: the checks, then read access. */
async function openSource(
  io: ScriptIo,
  path: string,
): Promise<{ fh: FileHandle; source: string; size: number }> {
  const source = fullPath(path, io.cwd);
  const host = io.files.resolve(source, io.cwd);
  const s = host ? await stat(host).catch(() => undefined) : undefined;
  if (s?.isDirectory()) throw new ScriptFailure('IS_DIR', `'${source}' is a directory`);
  if (!host || !s) throw new ScriptFailure('NOT_FOUND', `'${source}' does not exist`);
  if ((s.mode & 0o400) === 0) throw failures.accessDenied(source);
  const fh = await open(host, 'r');
  return { fh, source, size: (await fh.stat()).size };
}

const COUNT = /^[0-9]{1,15}$/;
const BLOCK = /^[1-9][0-9]{0,7}$/;

/** '#R <path> <block> <offset> <length>': one range of a file (docs/transfer-protocol.md, "Parallel streams"). */
async function sendRange(io: ScriptIo, f: string[]): Promise<void> {
  if (f.length !== 5 || !BLOCK.test(f[2]!) || !COUNT.test(f[3]!) || !COUNT.test(f[4]!))
    throw failures.protocol('malformed #R record');
  const block = Number(f[2]);
  const offset = Number(f[3]);
  let left = Number(f[4]);
  const { fh, source, size } = await openSource(io, fromField(f[1]));
  try {
    if (offset + left > size) throw failures.protocol('the range goes beyond the end of the file');
    await writeLine(io, `#H ${size} ${toField(source)}`);
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(Math.min(block, Math.max(left, 1)));
    let position = offset;
    let corrupt = io.faults?.takeDownload() ?? false;
    while (left > 0) {
      const want = Math.min(block, left);
      let count = 0;
      while (count < want) {
        const { bytesRead } = await fh.read(buf, count, want - count, position + count);
        if (bytesRead === 0) throw new ScriptFailure('IO', 'the file became shorter while it was read');
        count += bytesRead;
      }
      if (io.signal.aborted) return;
      const data = buf.subarray(0, count);
      hash.update(data);
      await writeBlock(io, data, corrupt);
      corrupt = false;
      position += count;
      left -= count;
    }
    await writeLine(io, `#E ${position - offset} ${hash.digest('hex')}`);
  } finally {
    await fh.close();
  }
}

/** '#V' after '#S': the SHA-256 of the whole held file, read from its start. */
async function sendHash(io: ScriptIo, held: FileHandle): Promise<void> {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1024 * 1024);
  let length = 0;
  for (;;) {
    const { bytesRead } = await held.read(buf, 0, buf.length, length);
    if (bytesRead === 0) break;
    hash.update(buf.subarray(0, bytesRead));
    length += bytesRead;
    if (io.signal.aborted) return;
  }
  await writeLine(io, `#E ${length} ${hash.digest('hex')}`);
}

export async function emulateDownload(io: ScriptIo): Promise<number> {
  await writeLine(io, '#WRCP 1 download');
  // '#S' holds the file until the process ends (download.ps1 keeps its FileStream open; on Windows FileShare.Read
  // then refuses writers; the mock has no share modes, so only the handle is kept).
  let held: FileHandle | undefined;
  try {
    for (;;) {
      const line = await io.reader.readLine();
      if (line === null || line === '#Q') return 0;
      const f = line.split(' ');
      if (f[0] === '#S') {
        if (f.length !== 2) throw failures.protocol('malformed #S record');
        if (held) throw failures.protocol('a file is already held');
        const s = await openSource(io, fromField(f[1]));
        held = s.fh;
        await writeLine(io, `#H ${s.size} ${toField(s.source)}`);
        continue;
      }
      if (f[0] === '#R') {
        await sendRange(io, f);
        continue;
      }
      if (f[0] === '#V') {
        if (f.length !== 1 || !held) throw failures.protocol('malformed #V record');
        await sendHash(io, held);
        continue;
      }
      if (f[0] !== '#G' || f.length !== 3 || !BLOCK.test(f[2]!)) {
        throw failures.protocol('malformed #G record');
      }
      await sendFile(io, fromField(f[1]), Number(f[2]));
    }
  } finally {
    await held?.close().catch(() => undefined);
  }
}
