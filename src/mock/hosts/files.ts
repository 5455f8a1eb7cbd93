/**
 * The mock's file area: a directory standing for the Windows drives. `C:\Users\x\f.txt` maps to
 * `<root>/C/Users/x/f.txt`. Paths are resolved with Windows rules (relative to the shell's working directory,
 * `..` clamped at the drive root) so nothing outside the root can be reached. Case is kept as given: unlike
 * NTFS, the backing file system may be case-sensitive.
 */
import { mkdir } from 'node:fs/promises';
import { join, win32 } from 'node:path';

export class FileArea {
  constructor(readonly root: string) {}

  /** Host path for a Windows path, or undefined when it names no drive path (UNC, device names). */
  resolve(windowsPath: string, cwd: string): string | undefined {
    const p = windowsPath.replace(/\//g, '\\');
    if (p.startsWith('\\\\')) return undefined;
    const abs = win32.resolve(cwd, p);
    const m = /^([A-Za-z]):\\?(.*)$/.exec(abs);
    if (!m) return undefined;
    const parts = m[2]!.split('\\').filter((s) => s !== '' && s !== '.' && s !== '..');
    return join(this.root, m[1]!.toUpperCase(), ...parts);
  }

  /** Create the directories a fresh Windows profile has (Temp), so redirections into %TEMP% work. */
  async prepareUser(user: string): Promise<void> {
    await mkdir(join(this.root, 'C', 'Users', user, 'AppData', 'Local', 'Temp'), { recursive: true });
    await mkdir(join(this.root, 'C', 'Windows', 'Temp'), { recursive: true });
  }
}

/** True for the NUL device in any of its spellings (`nul`, `NUL:`, `C:\x\nul`). */
export function isNulDevice(windowsPath: string): boolean {
  return /(^|[\\/])nul:?$/i.test(windowsPath.trim());
}
