/**
 * How a PowerShell script reaches powershell.exe over WinRS, for hosts that answer scripts by their text, and the
 * CLIXML form in which powershell.exe writes its error stream when its output is redirected (always, over WinRS).
 */
import { POWERSHELL_STDIN_BOOTSTRAP } from '../../cmdline.ts';
import { encodedCommand } from '../transfer/powershell.ts';
import { splitName, words } from './cmd-parse.ts';

/** Where the script is: in the command line (-EncodedCommand), or on stdin (executePowerShell, `-Command -`). */
export type PowerShellSource = { via: 'encoded'; script: string } | { via: 'stdin' };

const POWERSHELL_NAME = /^(?:.*\\)?(?:powershell|pwsh)(?:\.exe)?$/i;

/** True when the command line starts powershell.exe (or pwsh), by bare name or full path. */
export function isPowerShellLine(commandLine: string): boolean {
  return POWERSHELL_NAME.test(splitName(commandLine).name);
}

/**
 * The script a powershell.exe command line carries, or undefined when the line is not powershell.exe or names no
 * script. winrm-connection's executePowerShell sends -EncodedCommand with POWERSHELL_STDIN_BOOTSTRAP and the
 * script on stdin; pywinrm's run_ps and most tools send the script itself as -EncodedCommand (UTF-16LE, base64).
 */
export function powerShellSource(commandLine: string): PowerShellSource | undefined {
  const { name, argText } = splitName(commandLine);
  if (!POWERSHELL_NAME.test(name)) return undefined;
  const args = words(argText);
  const encoded = encodedCommand(args);
  if (encoded !== undefined) {
    const script = Buffer.from(encoded, 'base64').toString('utf16le');
    return script === POWERSHELL_STDIN_BOOTSTRAP ? { via: 'stdin' } : { via: 'encoded', script };
  }
  // `-Command -` (or `-c -`, `-` alone): powershell.exe reads the script from stdin.
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!.toLowerCase();
    if (a === '-') return { via: 'stdin' };
    if ((a === '-c' || (a.length >= 3 && '-command'.startsWith(a))) && args[i + 1] === '-')
      return { via: 'stdin' };
  }
  return undefined;
}

/** Text of a script that arrived on stdin: UTF-8, without a byte-order mark. */
export function scriptFromStdin(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/**
 * Serialised-string escapes of PowerShell's CLIXML: a character XML 1.0 cannot carry or that would be lost
 * (CR, LF, other C0 controls) is written `_xHHHH_`, and an `_` that would read as such an escape becomes `_x005F_`.
 */
function clixmlString(text: string): string {
  return text
    .replace(/_(?=x[0-9A-Fa-f]{4}_)/g, '_x005F_')
    .replace(/\p{Cc}/gu, (c) => {
      const code = c.charCodeAt(0);
      // C0 controls only (U+0000 to U+001F); DEL and C1 controls pass as they are.
      return code < 0x20 ? `_x${code.toString(16).toUpperCase().padStart(4, '0')}_` : c;
    })
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/**
 * powershell.exe's error stream as it reaches a WinRS client: `#< CLIXML` and CR LF, then one <Objs> document with
 * one `<S S="Error">` per line, each line ending `_x000D__x000A_` (the shape pywinrm's `_clean_error_msg` and
 * pypsrp parse, and winrm-connection's decodeClixml). Lines are split at CR LF, LF or CR.
 */
export function clixmlErrorStream(lines: readonly string[]): string {
  const records = lines
    .flatMap((l) => l.replace(/(\r\n|\r|\n)$/, '').split(/\r\n|\r|\n/))
    .map((l) => `<S S="Error">${clixmlString(`${l}\r\n`)}</S>`)
    .join('');
  return `#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">${records}</Objs>`;
}
