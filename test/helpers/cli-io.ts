/** Captured stdout/stderr for driving the CLI's main() in-process, and the CLI spawned as a program. */
import { type ChildProcess, spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';

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

/** A CLI child process (`node --import tsx src/cli/main.ts ...`), with its output collected. */
export interface CliChild {
  child: ChildProcess;
  /** stdout bytes so far. */
  out: () => Buffer;
  /** stderr text so far. */
  err: () => string;
  /** Resolves with the exit code (null when a signal killed the process) and the killing signal (or null). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Spawn the CLI as a real program: its own process, stdin a pipe (write to `child.stdin`). */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): CliChild {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  child.stderr!.on('data', (c: Buffer) => err.push(c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, out: () => Buffer.concat(out), err: () => Buffer.concat(err).toString(), exited };
}

/** Poll `check` until it returns true; throws after `deadlineMs` (a generous does-not-hang bound). */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, deadlineMs = 60_000) {
  const end = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
