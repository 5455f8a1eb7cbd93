/** Stream helpers for execute(): feeding stdin and collecting bounded output. */
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Write string / Buffer / Readable to the process's stdin and end it; errors surface through the process. */
export function feedStdin(stdin: Writable, input: string | Buffer | Readable): void {
  const source =
    typeof input === 'string' || Buffer.isBuffer(input) ? Readable.from([Buffer.from(input)]) : input;
  pipeline(source, stdin).catch(() => undefined);
}

/**
 * No stdin: end it at once (WinRM: one Send with End="true", not awaited, so it runs beside the first Receive).
 * A failure of that Send surfaces through the process, never as an unhandled 'error' event.
 */
export function closeStdin(stdin: Writable): void {
  stdin.on('error', () => undefined);
  stdin.end();
}

/** Collect a stream, keeping at most `max` bytes but reading to the end. */
export async function collectOutput(
  stream: Readable,
  max: number,
  onChunk?: (chunk: Buffer) => void,
): Promise<{ data: Buffer; truncated: boolean }> {
  const parts: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    onChunk?.(chunk);
    if (size < max) {
      const keep = chunk.length <= max - size ? chunk : chunk.subarray(0, max - size);
      parts.push(keep);
      size += keep.length;
      if (keep.length < chunk.length) truncated = true;
    } else truncated = true;
  }
  return { data: Buffer.concat(parts, size), truncated };
}
