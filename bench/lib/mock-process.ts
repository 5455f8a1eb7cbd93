/** Start the mock endpoint in its own process (so it does not share an event loop with the client measured). */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { MockServerOptions } from '../../src/mock/index.ts';

export interface MockProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

export function startMockProcess(args: string[]): Promise<MockProcess> {
  const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
  return started(
    spawn(process.execPath, ['--import', 'tsx', main, 'mock', '--port', '0', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
}

/** A mock in its own process with any MockServerOptions (bench/lib/mock-child.ts), e.g. raised quotas. */
export function startMockChild(options: MockServerOptions): Promise<MockProcess> {
  const main = fileURLToPath(new URL('./mock-child.ts', import.meta.url));
  return started(
    spawn(process.execPath, ['--import', 'tsx', main, JSON.stringify(options)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }),
  );
}

async function started(child: ChildProcess): Promise<MockProcess> {
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(() => {
      throw new Error('the mock process exited before printing its URL');
    }),
  ])) as [string];
  return {
    url: first.trim(),
    child,
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}
