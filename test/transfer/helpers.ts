/** Shared set-up for the transfer tests: an in-process mock with the builtins host and a connection to it. */
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { Connection } from '../../src/index.ts';
import { connect } from '../../src/index.ts';
import { builtinsHost } from '../../src/mock/hosts/builtins.ts';
import { type MockServer, startMockServer } from '../../src/mock/index.ts';
import { TransferFaults } from '../../src/mock/transfer/index.ts';

export const USER = { name: 'mover', password: 'Tr4nsfer&Pass' };

export interface TransferEnv {
  mock: MockServer;
  conn: Connection;
  faults: TransferFaults;
  /** Host path of a Windows path in the mock's file area (C:\x → <root>/C/x). */
  host(winPath: string): string;
  close(): Promise<void>;
}

export async function transferEnv(maxEnvelopeSize = 512_000): Promise<TransferEnv> {
  const faults = new TransferFaults();
  const mock = await startMockServer({
    users: [USER],
    auth: { basic: true },
    allowUnencrypted: true,
    maxEnvelopeSize,
    commandHost: builtinsHost({ powershell: { faults } }),
  });
  const conn = await connect({
    endpoint: mock.url,
    username: USER.name,
    password: USER.password,
    allowUnencrypted: true,
    maxEnvelopeSize,
    operationTimeout: 5000,
  });
  return {
    mock,
    conn,
    faults,
    host: (winPath) => {
      const m = /^([A-Za-z]):\\?(.*)$/.exec(winPath)!;
      return join(mock.fileRoot, m[1]!.toUpperCase(), ...m[2]!.split('\\').filter(Boolean));
    },
    close: async () => {
      await conn.close();
      await mock.close();
    },
  };
}

export const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Deterministic pseudo-random bytes (xorshift), so content is not compressible or periodic. */
export function pseudoRandom(size: number, seed = 1): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** A Readable of `size` pseudo-random bytes made on the fly, with the SHA-256 of what it produced. */
export function generated(size: number, chunk = 1024 * 1024): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  const block = pseudoRandom(chunk, 7);
  let left = size;
  let n = 0;
  const stream = new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const take = Math.min(left, chunk);
      const piece = Buffer.from(block.subarray(0, take));
      piece.writeUInt32LE(n++, 0); // every chunk differs
      hash.update(piece);
      left -= take;
      this.push(piece);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

/** A Writable that only hashes and counts what it gets. */
export function hashingSink(): { stream: Writable; digest: () => string; bytes: () => number } {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      cb();
    },
  });
  return { stream, digest: () => hash.digest('hex'), bytes: () => bytes };
}

/** Every file under `dir` whose name marks it as a transfer temporary file. */
export async function tempFiles(dir: string): Promise<string[]> {
  const all = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return all.filter((p) => /(^|[\\/])\.wrcp-[0-9a-f]{16}\.tmp$/.test(String(p))).map(String);
}
