/**
 * Framing of the transfer protocol (docs/transfer-protocol.md): newline-terminated ASCII lines both ways. Data
 * lines are plain base64; control lines start with '#' (not in the base64 alphabet) and carry space-separated
 * fields, text fields (paths, messages) as base64 UTF-8 so no byte of a path is ever interpreted.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ProtocolError } from '../errors.ts';

/** Protocol version announced by every script in its first line ('#WRCP 1 <script>'). */
export const PROTOCOL_VERSION = '1';

/** A text field: base64 of its UTF-8 bytes. */
export function field(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/**
 * Decode strict base64. Node's decoder skips characters outside the alphabet, so any such character makes the
 * output shorter than the length implies: one length check replaces a scan of a 380 KB line.
 */
export function decodeBase64(text: string, what: string): Buffer {
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  if (text.length % 4 === 0 && !text.includes('-') && !text.includes('_')) {
    const out = Buffer.from(text, 'base64');
    if (out.length === (text.length / 4) * 3 - pad) return out;
  }
  throw new ProtocolError(`The remote transfer script sent an invalid base64 ${what}`);
}

export function unfield(text: string | undefined, what: string): string {
  if (text === undefined) throw new ProtocolError(`The remote transfer script sent no ${what}`);
  return decodeBase64(text, what).toString('utf8');
}

/** One control line. */
export function controlLine(...fields: Array<string | number>): Buffer {
  return Buffer.from(`${fields.join(' ')}\n`, 'latin1');
}

/** A data line: the chunk as base64, newline-terminated. */
export function dataLine(chunk: Buffer): Buffer {
  const size = Math.ceil(chunk.length / 3) * 4;
  const line = Buffer.allocUnsafe(size + 1);
  line.write(chunk.toString('base64'), 0, size, 'latin1');
  line[size] = 0x0a;
  return line;
}

/** Random 16-hex-digit id naming an upload's temporary file (`.wrcp-<id>.tmp`). */
export function newTransferId(): string {
  return randomBytes(8).toString('hex');
}

/** Raw bytes per data line so that the line (base64 plus '\n') fills `capacity` stdin bytes. */
export function chunkForCapacity(capacity: number): number {
  return Math.max(3, Math.floor((capacity - 1) / 4) * 3);
}

/**
 * Split a byte stream into lines (without the '\n'; a trailing '\r' is dropped). A line longer than `maxLine`
 * is a protocol error, so a broken peer cannot make us buffer without bound.
 */
export async function* readLines(stream: Readable, maxLine: number): AsyncGenerator<string> {
  let pending: Buffer[] = [];
  let pendingSize = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      let line =
        pendingSize === 0
          ? chunk.subarray(start, nl)
          : Buffer.concat([...pending, chunk.subarray(start, nl)], pendingSize + nl - start);
      pending = [];
      pendingSize = 0;
      if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
      if (line.length > maxLine)
        throw new ProtocolError(`The remote transfer script sent a line over ${maxLine} bytes`);
      yield line.toString('latin1');
      start = nl + 1;
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingSize += chunk.length - start;
      if (pendingSize > maxLine) {
        throw new ProtocolError(`The remote transfer script sent a line over ${maxLine} bytes`);
      }
    }
  }
  if (pendingSize > 0) yield Buffer.concat(pending, pendingSize).toString('latin1');
}

/** `#ERR <code> <message>` split into its parts. */
export function parseErrorLine(fields: readonly string[]): { code: string; message: string } {
  let message = '';
  try {
    message = unfield(fields[2], 'error message');
  } catch {
    message = fields.slice(2).join(' ');
  }
  return { code: fields[1] ?? 'FAILED', message };
}
