/** Emulation of list.ps1 and cleanup.ps1 (docs/transfer-protocol.md, "Directories" and "Cleanup"). */
import { lstat, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, win32 } from 'node:path';
import { failures, fromField, fullPath, ScriptFailure, toField } from './failure.ts';
import { type ScriptIo, writeLine } from './io.ts';

export async function emulateList(io: ScriptIo): Promise<number> {
  await writeLine(io, '#WRCP 1 list');
  const line = (await io.reader.readLine()) ?? '';
  const f = line.split(' ');
  if (f[0] !== '#L' || f.length !== 2) throw failures.protocol('malformed #L record');
  const root = fullPath(fromField(f[1]), io.cwd);
  const host = io.files.resolve(root, io.cwd);
  const s = host ? await stat(host).catch(() => undefined) : undefined;
  if (!host || !s) throw new ScriptFailure('NOT_FOUND', `'${root}' does not exist`);
  if (!s.isDirectory()) throw new ScriptFailure('NOT_DIR', `'${root}' is a file, not a directory`);
  await writeLine(io, `#R ${toField(root)}`);
  const pending: string[] = [''];
  while (pending.length > 0) {
    const relative = pending.shift()!;
    const dir = relative === '' ? host : join(host, ...relative.split('\\'));
    if (((await stat(dir)).mode & 0o400) === 0) throw failures.accessDenied(win32.join(root, relative));
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    const prefix = relative === '' ? '' : `${relative}\\`;
    for (const e of entries) {
      const st = e.isSymbolicLink() ? await stat(join(dir, e.name)).catch(() => undefined) : undefined;
      if (e.isDirectory() || st?.isDirectory()) {
        await writeLine(io, `#D ${toField(prefix + e.name)}`);
        // Symbolic links (reparse points) are listed, not entered.
        if (e.isDirectory()) pending.push(prefix + e.name);
      }
    }
    for (const e of entries) {
      if (
        !e.isFile() &&
        !(e.isSymbolicLink() && (await stat(join(dir, e.name)).catch(() => undefined))?.isFile())
      ) {
        continue;
      }
      const size = (await stat(join(dir, e.name))).size;
      await writeLine(io, `#F ${toField(prefix + e.name)} ${size}`);
    }
  }
  await writeLine(io, '#END');
  return 0;
}

export async function emulateCleanup(io: ScriptIo): Promise<number> {
  await writeLine(io, '#WRCP 1 cleanup');
  for (;;) {
    const line = await io.reader.readLine();
    if (line === null || line === '#Q') return 0;
    const f = line.split(' ');
    if (f[0] !== '#C' || f.length !== 3 || !/^[0-9a-f]{16}$/.test(f[2]!)) {
      throw new ScriptFailure('IO', 'malformed #C record');
    }
    const target = fullPath(fromField(f[1]), io.cwd);
    const host = io.files.resolve(target, io.cwd);
    const temp = host ? join(dirname(host), `.wrcp-${f[2]}.tmp`) : undefined;
    const present = temp ? await lstat(temp).catch(() => undefined) : undefined;
    if (temp && present) await rm(temp, { force: true });
    await writeLine(io, `#OK ${present ? 'removed' : 'absent'}`);
  }
}
