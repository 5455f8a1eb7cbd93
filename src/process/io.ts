/** Stream helpers for execute(): feeding stdin and collecting bounded output. */
import { constants as bufferConstants } from 'node:buffer';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Write string / Buffer / Readable to the process's stdin and end it; errors surface through the process. A
 * string or Buffer is written with end() itself, so WinRM sends its last bytes with End="true" (no empty Send).
 */
export function feedStdin(stdin: Writable, input: string | Buffer | Readable): void {
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    stdin.on('error', () => undefined);
    stdin.end(Buffer.from(input));
    return;
  }
  pipeline(input, stdin).catch(() => undefined);
}

/**
 * No stdin: end it at once (WinRM: one Send with End="true", not awaited, so it runs beside the first Receive).
 * A failure of that Send surfaces through the process, never as an unhandled 'error' event.
 */
export function closeStdin(stdin: Writable): void {
  stdin.on('error', () => undefined);
  stdin.end();
}

/** Output up to this many bytes is kept as chunks and joined once at the end (a small copy). */
export const SMALL_OUTPUT_BYTES = 1024 * 1024;

type Resizable = ArrayBuffer & { resize(n: number): void };
const makeResizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => Resizable;

/**
 * Output kept in one place. Up to {@link SMALL_OUTPUT_BYTES} the chunks are kept and joined once; beyond, they
 * move into one resizable ArrayBuffer reserved up to the cap (address space only: the pages are committed as
 * the buffer grows), so 64 MiB of output costs 64 MiB plus the chunk in hand, never a second copy made by
 * concatenation or doubling. Where a resizable buffer cannot be had (the reservation refused), the chunks are
 * kept and joined once at the end.
 */
export class OutputBuffer {
  private parts: Buffer[] = [];
  private store: Resizable | undefined;
  private storeFailed = false;
  private size = 0;

  constructor(private readonly max: number) {}

  get length(): number {
    return this.size;
  }

  /** Keep `chunk` (the caller cuts it to the cap). */
  append(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const next = this.size + chunk.length;
    if (!this.store && !this.storeFailed && next > SMALL_OUTPUT_BYTES) this.promote();
    if (this.store) {
      this.store.resize(next);
      new Uint8Array(this.store, this.size, chunk.length).set(chunk);
    } else {
      this.parts.push(chunk);
    }
    this.size = next;
  }

  private promote(): void {
    try {
      this.store = new makeResizable(this.size, {
        maxByteLength: Math.min(this.max, bufferConstants.MAX_LENGTH),
      });
    } catch {
      this.storeFailed = true; // e.g. address space limited (ulimit -v): keep chunks, join once
      return;
    }
    let at = 0;
    for (const p of this.parts) {
      new Uint8Array(this.store, at, p.length).set(p);
      at += p.length;
    }
    this.parts = [];
  }

  /** The kept bytes as one Buffer (a view of the store, or the chunks joined once). */
  take(): Buffer {
    if (this.store) return Buffer.from(this.store, 0, this.size);
    const parts = this.parts;
    this.parts = [];
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, this.size);
  }
}

/** Collect a stream, keeping at most `max` bytes but reading to the end. */
export async function collectOutput(
  stream: Readable,
  max: number,
  onChunk?: (chunk: Buffer) => void,
): Promise<{ data: Buffer; truncated: boolean }> {
  const kept = new OutputBuffer(max);
  let truncated = false;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    onChunk?.(chunk);
    const room = max - kept.length;
    if (room > 0) {
      kept.append(chunk.length <= room ? chunk : chunk.subarray(0, room));
      if (chunk.length > room) truncated = true;
    } else if (chunk.length > 0) truncated = true;
  }
  return { data: kept.take(), truncated };
}

/**
 * An ExecuteResult-shaped object whose text fields are decoded on first access and cached (enumerable, so
 * spreading or JSON.stringify still sees them; spreading decodes, so internal code builds results with this).
 */
export function lazyText<T extends object, K extends string>(
  base: T,
  texts: Record<K, () => string>,
): T & Record<K, string> {
  for (const [name, decode] of Object.entries(texts) as Array<[K, () => string]>) {
    Object.defineProperty(base, name, {
      enumerable: true,
      configurable: true,
      get(this: object) {
        const value = decode();
        Object.defineProperty(this, name, { value, enumerable: true, configurable: true, writable: true });
        return value;
      },
      set(this: object, value: unknown) {
        Object.defineProperty(this, name, { value, enumerable: true, configurable: true, writable: true });
      },
    });
  }
  return base as T & Record<K, string>;
}
