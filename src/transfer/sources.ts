/** Local data sources for uploads, cut into exact-size chunks without holding more than one chunk. */
import { open, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { InvalidArgumentError, TransferError } from '../errors.ts';

export type UploadSource = string | Buffer | Readable;

/** Check a source and find its size (undefined for a stream). */
export async function describeSource(source: UploadSource): Promise<number | undefined> {
  if (Buffer.isBuffer(source)) return source.length;
  if (source instanceof Readable) return undefined;
  if (typeof source !== 'string' || source === '') {
    throw new InvalidArgumentError('The upload source must be a local file path, a Buffer or a Readable', {
      argument: 'source',
    });
  }
  const s = await stat(source).catch((err: NodeJS.ErrnoException) => {
    throw new TransferError(`Cannot read the local file "${source}": ${err.code ?? err.message}`, {
      cause: err,
      remedy: 'check the local path',
    });
  });
  if (!s.isFile()) {
    throw new TransferError(`The local path "${source}" is not a file`, {
      remedy: s.isDirectory() ? 'use uploadDirectory for directories' : 'name a regular file',
    });
  }
  return s.size;
}

/** Yield the source in chunks of exactly `size` bytes (the last may be shorter). The buffer may be reused. */
export async function* chunksOf(source: UploadSource, size: number): AsyncGenerator<Buffer> {
  if (Buffer.isBuffer(source)) {
    for (let o = 0; o < source.length; o += size) yield source.subarray(o, o + size);
    return;
  }
  if (typeof source === 'string') {
    const fh = await open(source, 'r');
    try {
      const buf = Buffer.allocUnsafe(size);
      for (;;) {
        let n = 0;
        while (n < size) {
          const { bytesRead } = await fh.read(buf, n, size - n, null);
          if (bytesRead === 0) break;
          n += bytesRead;
        }
        if (n > 0) yield buf.subarray(0, n);
        if (n < size) return;
      }
    } finally {
      await fh.close();
    }
    return;
  }
  const acc = Buffer.allocUnsafe(size);
  let n = 0;
  for await (const c of source as AsyncIterable<Buffer | string>) {
    const chunk = typeof c === 'string' ? Buffer.from(c, 'utf8') : c;
    let off = 0;
    while (off < chunk.length) {
      const take = Math.min(size - n, chunk.length - off);
      chunk.copy(acc, n, off, off + take);
      n += take;
      off += take;
      if (n === size) {
        yield acc;
        n = 0;
      }
    }
  }
  if (n > 0) yield acc.subarray(0, n);
}
