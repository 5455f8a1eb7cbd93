/**
 * `local`: runs each command on the machine the mock runs on, as `/bin/sh -c LINE` (POSIX shell syntax, not
 * cmd.exe's), in its own process group. stdin and stdout/stderr are streamed; when the client stops Receiving,
 * the child's stdout is paused (back-pressure through the pipe). ctrl_c sends SIGINT to the group; terminate,
 * shell Delete and server close send SIGKILL.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { EXIT_CTRL_C } from '../shells/command.ts';
import type { CommandContext, CommandHost, OutputWriter } from './types.ts';

export interface LocalHostOptions {
  /** Shell to run lines with. Default: '/bin/sh'. */
  shell?: string;
  /** Working directory of the processes. Default: the mock's process.cwd(). */
  cwd?: string;
  /** Environment. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Injectable spawn, for tests. Default: node:child_process spawn. */
  spawn?: typeof spawn;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

/** Stream a child's pipe into a writer, pausing the pipe while the writer's buffer is full. */
function pump(from: Readable, to: OutputWriter): Promise<void> {
  return new Promise((resolve) => {
    let pending = 0;
    let ended = false;
    const done = () => ended && pending === 0 && resolve();
    from.on('data', (chunk: Buffer) => {
      pending++;
      const p = to.write(chunk);
      from.pause();
      void p.then(() => {
        pending--;
        from.resume();
        done();
      });
    });
    from.once('close', () => {
      ended = true;
      done();
    });
    from.once('error', () => {
      ended = true;
      done();
    });
  });
}

export function localHost(options: LocalHostOptions = {}): CommandHost {
  const doSpawn = options.spawn ?? spawn;
  const children = new Set<ChildProcess>();
  return {
    run(ctx: CommandContext): Promise<number> {
      const child = doSpawn(options.shell ?? '/bin/sh', ['-c', ctx.commandLine], {
        cwd: options.cwd,
        env: options.env ?? process.env,
        detached: true,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      children.add(child);
      const onAbort = () => killGroup(child, ctx.signal.reason === 'ctrl_c' ? 'SIGINT' : 'SIGKILL');
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort);
      child.stdin!.on('error', () => {});
      ctx.stdin.pipe(child.stdin!);
      const streams = Promise.all([pump(child.stdout!, ctx.stdout), pump(child.stderr!, ctx.stderr)]);
      return new Promise<number>((resolve) => {
        let settled = false;
        const finish = async (code: number) => {
          if (settled) return;
          settled = true;
          ctx.signal.removeEventListener('abort', onAbort);
          children.delete(child);
          await streams;
          resolve(code);
        };
        child.once('error', (err) => {
          void ctx.stderr.write(`${err.message}\r\n`).then(() => finish(1));
        });
        child.once('exit', (code, signal) => {
          if (code !== null) return void finish(code);
          void finish(signal === 'SIGINT' ? EXIT_CTRL_C : 1);
        });
      });
    },
    close() {
      for (const c of children) killGroup(c, 'SIGKILL');
    },
  };
}
