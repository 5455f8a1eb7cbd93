/** What an emulated transfer script works with. */
import type { FileArea } from '../hosts/files.ts';
import type { TransferFaults } from './faults.ts';
import type { LineReader } from './lines.ts';

export interface ScriptIo {
  reader: LineReader;
  out: { write(data: Buffer | string): Promise<void> };
  files: FileArea;
  /** The process's current directory (a Windows path). */
  cwd: string;
  signal: AbortSignal;
  faults: TransferFaults | undefined;
}

/** Write one ASCII line to stdout, as the scripts' Write-Line does ('\n' only). */
export function writeLine(io: ScriptIo, text: string): Promise<void> {
  return io.out.write(Buffer.from(`${text}\n`, 'latin1'));
}
