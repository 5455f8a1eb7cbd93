/**
 * `powershell.exe` in the builtins host. The mock runs no PowerShell: it recognises winrm-connection's transfer
 * bootstrap (-EncodedCommand) and the transfer script the bootstrap reads from stdin, each by the SHA-256 of its
 * exact text, and serves them from the protocol specification against the file area. Anything else fails loudly,
 * as a host that could not run the script would: stderr says why, exit code 1. Tests never pass by guessing.
 */
import type { Readable } from 'node:stream';
import type { FileArea } from '../hosts/files.ts';
import { emulateDownload } from './download.ts';
import { fromBase64, ScriptFailure, toField } from './failure.ts';
import type { TransferFaults } from './faults.ts';
import type { ScriptIo } from './io.ts';
import { LineReader, ProcessKilled } from './lines.ts';
import { emulateCleanup, emulateList } from './list.ts';
import { type EmulatedScript, isTransferBootstrap, recogniseScript, sha256Hex } from './scripts.ts';
import { emulateUpload } from './upload.ts';

export interface PowerShellEmulationOptions {
  /** Hash-mismatch fault injection for uploads and downloads. Default: none. */
  faults?: TransferFaults;
  /**
   * BENCHMARK ONLY: answer every PowerShell command the mock does not recognise with exit code 0 without running
   * it, so that foreign tools (winrmcp's decode step) can be timed against the mock. Never set it in tests: a test
   * would pass on a script that never ran. Default: false.
   */
  benchmarkOnlyAcceptAnyPowerShell?: boolean;
}

export interface PowerShellInvocation {
  /** Command-line words after `powershell.exe`. */
  args: readonly string[];
  stdin: Readable;
  out: { write(data: Buffer | string): Promise<void> };
  err: { write(data: Buffer | string): Promise<void> };
  files: FileArea;
  cwd: string;
  signal: AbortSignal;
}

const EMULATIONS: Record<EmulatedScript, (io: ScriptIo) => Promise<number>> = {
  upload: emulateUpload,
  download: emulateDownload,
  list: emulateList,
  cleanup: emulateCleanup,
};

/** Switches of powershell.exe that take a value (only these are skipped while looking for -EncodedCommand). */
const WITH_VALUE = [
  'executionpolicy',
  'inputformat',
  'outputformat',
  'windowstyle',
  'configurationname',
  'version',
  'psconsolefile',
];

/** The value of powershell.exe's -EncodedCommand (any accepted abbreviation), or undefined. */
export function encodedCommand(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!/^[-/]/.test(a)) return undefined;
    const name = a.slice(1).toLowerCase();
    if (name === 'ec' || name === 'e' || (name.length >= 2 && 'encodedcommand'.startsWith(name))) {
      return args[i + 1];
    }
    if (WITH_VALUE.some((w) => name.length >= 2 && w.startsWith(name))) i++;
  }
  return undefined;
}

// Like powershell.exe, neither answer waits for stdin to end: a script that does not read its input exits anyway.
async function refuse(inv: PowerShellInvocation, what: string): Promise<number> {
  await inv.err.write(
    `mock: powershell.exe cannot run ${what}. The mock WinRM endpoint runs no PowerShell; it emulates only winrm-connection's transfer scripts (docs/transfer-protocol.md), recognised by their exact text.\r\n`,
  );
  return 1;
}

export async function runPowerShell(
  inv: PowerShellInvocation,
  options: PowerShellEmulationOptions = {},
): Promise<number> {
  const reader = new LineReader(inv.stdin, inv.signal);
  const accept = async () => 0;
  const encoded = encodedCommand(inv.args);
  const text = encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf16le');
  if (text === undefined || !isTransferBootstrap(text)) {
    if (options.benchmarkOnlyAcceptAnyPowerShell) return accept();
    return refuse(
      inv,
      text === undefined
        ? 'this command line (no -EncodedCommand)'
        : `this command (SHA-256 ${sha256Hex(text)})`,
    );
  }
  const first = await reader.readLine();
  let scriptText: string;
  try {
    scriptText = fromBase64(first ?? '').toString('utf8');
  } catch {
    return refuse(inv, 'the bootstrap: its first stdin line is not a base64 script');
  }
  const script = recogniseScript(scriptText);
  if (!script) {
    if (options.benchmarkOnlyAcceptAnyPowerShell) return accept();
    return refuse(inv, `the script it read from stdin (SHA-256 ${sha256Hex(scriptText)})`);
  }
  const io: ScriptIo = {
    reader,
    out: inv.out,
    files: inv.files,
    cwd: inv.cwd,
    signal: inv.signal,
    faults: options.faults,
  };
  try {
    return await EMULATIONS[script](io);
  } catch (err) {
    if (err instanceof ProcessKilled || inv.signal.aborted) throw err;
    const failure =
      err instanceof ScriptFailure
        ? err
        : new ScriptFailure('IO', err instanceof Error ? err.message : String(err));
    await inv.out.write(Buffer.from(`#ERR ${failure.code} ${toField(failure.message)}\n`, 'latin1'));
    return 1;
  }
}
