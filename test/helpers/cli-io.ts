/** Captured stdout/stderr for driving the CLI's main() in-process. */
import { PassThrough } from 'node:stream';

export function captureIo(env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  return {
    io: { stdout, stderr, env },
    /** stdout bytes so far. */
    out: () => Buffer.concat(out),
    /** stderr text so far. */
    err: () => Buffer.concat(err).toString(),
  };
}
