/** Emulation of download.ps1 (docs/transfer-protocol.md, "Download"). */
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { failures, fromField, fullPath, ScriptFailure, toField } from './failure.ts';
import { type ScriptIo, writeLine } from './io.ts';

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
      if (corrupt) {
        const copy = Buffer.from(data);
        copy[copy.length >> 1]! ^= 0x01;
        await writeLine(io, copy.toString('base64'));
        corrupt = false;
      } else await writeLine(io, data.toString('base64'));
      length += count;
      if (count < block) break;
    }
    await writeLine(io, `#E ${length} ${hash.digest('hex')}`);
  } finally {
    await fh.close();
  }
}

export async function emulateDownload(io: ScriptIo): Promise<number> {
  await writeLine(io, '#WRCP 1 download');
  for (;;) {
    const line = await io.reader.readLine();
    if (line === null || line === '#Q') return 0;
    const f = line.split(' ');
    if (f[0] !== '#G' || f.length !== 3 || !/^[1-9][0-9]{0,7}$/.test(f[2]!)) {
      throw failures.protocol('malformed #G record');
    }
    await sendFile(io, fromField(f[1]), Number(f[2]));
  }
}
