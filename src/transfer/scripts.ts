/**
 * The remote side of the transfer protocol is PowerShell, kept as .ps1 asset files beside this module. The client
 * does not read those files at run time: their text is embedded in scripts.generated.ts (written by
 * scripts/build.mjs, checked against the files by test/transfer/scripts.test.ts), so src/, dist/ and a bundle of
 * the library all carry the scripts. Only bootstrap.ps1 travels on the command line (-EncodedCommand, well under
 * cmd.exe's 8,191 characters); it reads the real script from the first stdin line, so scripts of any length and
 * all data go over stdin.
 */
import { TransferError } from '../errors.ts';
import { SCRIPT_ASSETS } from './scripts.generated.ts';

export type TransferScript = 'upload' | 'download' | 'list' | 'cleanup';

const texts = new Map<string, string>();

/** The line in a script that stands for common.ps1 (docs/transfer-protocol.md, "Scripts"). */
export const INCLUDE_COMMON = '# @include common.ps1';

function asset(name: string): string {
  const text = SCRIPT_ASSETS[name];
  if (text === undefined) {
    throw new TransferError(
      `The transfer script ${name}.ps1 is missing from src/transfer/scripts.generated.ts, so transfers cannot run`,
      {
        remedy:
          'regenerate it with `node scripts/build.mjs --scripts` and rebuild (or reinstall the package)',
      },
    );
  }
  return text;
}

/** The text of a script as it is sent: the asset with its include line replaced by common.ps1. Built once. */
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
