/** Start bench/transfer/mock-child.ts and ask it for its counters over IPC. */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface BenchMock {
  url: string;
  port: number;
  fileRoot: string;
  stats(): Promise<{ bytesIn: number; bytesOut: number; requests: number }>;
  stop(): Promise<void>;
}

export async function startBenchMock(user: string, password: string): Promise<BenchMock> {
  const main = fileURLToPath(new URL('./mock-child.ts', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', main, `${user}:${password}`], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const info = JSON.parse(line) as { url: string; port: number; fileRoot: string };
  return {
    ...info,
    stats: async () => {
      child.send('stats');
      const [m] = (await once(child, 'message')) as [{ bytesIn: number; bytesOut: number; requests: number }];
      return m;
    },
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}
