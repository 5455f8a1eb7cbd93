/**
 * The remote side of the transfer protocol is PowerShell, kept as .ps1 asset files beside this module (shipped in
 * dist/transfer/ by the build). Only bootstrap.ps1 travels on the command line (-EncodedCommand, well under
 * cmd.exe's 8,191 characters); it reads the real script from the first stdin line, so scripts of any length and
 * all data go over stdin.
 */
import { readFileSync } from 'node:fs';

export type TransferScript = 'upload' | 'download' | 'list' | 'cleanup';

const texts = new Map<string, string>();

/** The line in a script that stands for common.ps1 (docs/transfer-protocol.md, "Scripts"). */
export const INCLUDE_COMMON = '# @include common.ps1';

function asset(name: string): string {
  return readFileSync(new URL(`./${name}.ps1`, import.meta.url), 'utf8');
}

/** The text of a script as it is sent: the asset file with its include line replaced by common.ps1. Read once. */
export function scriptText(name: TransferScript | 'bootstrap'): string {
  let text = texts.get(name);
  if (text === undefined) {
    text = asset(name);
    if (name !== 'bootstrap') text = text.replace(`${INCLUDE_COMMON}\n`, asset('common'));
    texts.set(name, text);
  }
  return text;
}

/** The command line that starts powershell.exe with bootstrap.ps1. */
export function transferCommandLine(): string {
  const encoded = Buffer.from(scriptText('bootstrap'), 'utf16le').toString('base64');
  return `powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ${encoded}`;
}

/** The first stdin line: the script as base64 UTF-8, which bootstrap.ps1 decodes and runs. */
export function scriptLine(name: TransferScript): Buffer {
  return Buffer.from(`${Buffer.from(scriptText(name), 'utf8').toString('base64')}\n`, 'latin1');
}
