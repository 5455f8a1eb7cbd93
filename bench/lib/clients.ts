/**
 * The measured clients: this library (one connection per sample) and pywinrm (bench/pywinrm_bench.py in its own
 * process), each against a target that is either the mock directly or the mock behind the latency proxy. Through
 * the proxy, requests and TCP connections are counted on the wire around the measured part only.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type ConnectionOptions, connect } from '../../src/index.ts';

/** Wire counters of a proxied target: HTTP requests and TCP connections so far. */
export interface WireCounters {
  snapshot(): Promise<{ r: number; c: number }>;
}

export interface Target {
  url: string;
  /** Set when the target is the latency proxy. */
  wire?: WireCounters;
  close(): Promise<void>;
}

export interface Sample {
  /** Executes per second, or MB/s for a stdout sample. */
  rate: number;
  /** Requests in the measured part, per execute (stdout: for the one command), when counted. */
  requestsPer?: number;
  /** TCP connections the client opened in the whole sample (warm-up included), when counted. */
  connections?: number;
  /** Peak RSS growth during a stdout sample, bytes. */
  rssGrowth?: number;
}

export const direct = (url: string): Target => ({ url, close: async () => {} });

/**
 * The mock at `url` behind a latency proxy adding `rttMs` per round trip (half each way), in its own process
 * (bench/lib/proxy-child.ts) like the mock, so the Node client measured does not also run the proxy.
 */
export async function proxied(url: string, rttMs: number): Promise<Target> {
  const u = new URL(url);
  const main = fileURLToPath(new URL('./proxy-child.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main, u.hostname, u.port, String(rttMs / 2)], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const [line] = (await Promise.race([
    once(createInterface({ input: child.stdout! }), 'line'),
    once(child, 'exit').then(() => {
      throw new Error('the proxy process exited before printing its port');
    }),
  ])) as [string];
  u.port = String((JSON.parse(line) as { port: number }).port);
  let queue = Promise.resolve();
  return {
    url: u.toString(),
    wire: {
      snapshot() {
        // One question at a time, so each answer pairs with its question.
        const answer = queue.then(async () => {
          child.send('stats');
          const [m] = (await once(child, 'message')) as [
            { requests: number; connections: number; broken?: string },
          ];
          if (m.broken) throw new Error(`request counter could not frame the stream: ${m.broken}`);
          return { r: m.requests, c: m.connections };
        });
        queue = answer.then(
          () => {},
          () => {},
        );
        return answer;
      },
    },
    async close() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

type Snap = { r: number; c: number } | undefined;
const snap = async (w: WireCounters | undefined) => (w ? await w.snapshot() : undefined);

/** `n` executes of `echo i` on one connection (after one warm-up execute). */
export async function oursExecutes(target: Target, options: ConnectionOptions, n: number): Promise<Sample> {
  const start = await snap(target.wire);
  const conn = await connect({ ...options, endpoint: target.url });
  let sample: Sample | undefined;
  try {
    await conn.execute('echo warm');
    const before = await snap(target.wire);
    const reqBefore = conn.stats().requests ?? 0;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const r = await conn.execute(`echo ${i}`);
      if (r.stdoutText !== `${i}\r\n`) throw new Error(`unexpected output ${JSON.stringify(r.stdoutText)}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const after = await snap(target.wire);
    sample = {
      rate: n / seconds,
      requestsPer:
        after && before ? (after.r - before.r) / n : ((conn.stats().requests ?? 0) - reqBefore) / n,
    };
  } finally {
    await conn.close();
  }
  return withConnections(sample, start, await snap(target.wire));
}

function withConnections(sample: Sample, start: Snap, end: Snap): Sample {
  return start && end ? { ...sample, connections: end.c - start.c } : sample;
}

/** One execute of `mock-output bytes`, keeping the output in the result (as pywinrm does). */
export async function oursStdout(target: Target, options: ConnectionOptions, bytes: number): Promise<Sample> {
  const conn = await connect({ ...options, endpoint: target.url });
  try {
    await conn.execute('echo warm');
    const before = await snap(target.wire);
    const reqBefore = conn.stats().requests ?? 0;
    const rssBefore = process.memoryUsage.rss();
    let peak = rssBefore;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 5);
    const t0 = performance.now();
    // The default maxBuffer (64 MiB) keeps up to 64 MiB; beyond that, ask for the whole output explicitly.
    const r = await conn
      .execute(`mock-output ${bytes}`, bytes > 64 * 1024 * 1024 ? { maxBuffer: bytes } : {})
      .finally(() => clearInterval(sampler));
    const seconds = (performance.now() - t0) / 1000;
    peak = Math.max(peak, process.memoryUsage.rss());
    if (r.exitCode !== 0 || r.truncated || r.stdout.length !== bytes) {
      throw new Error(`mock-output: exit ${r.exitCode}, ${r.stdout.length} bytes kept of ${bytes}`);
    }
    const after = await snap(target.wire);
    return {
      rate: bytes / 1048576 / seconds,
      requestsPer: after && before ? after.r - before.r : (conn.stats().requests ?? 0) - reqBefore,
      rssGrowth: peak - rssBefore,
    };
  } finally {
    await conn.close();
  }
}

const PYBENCH = fileURLToPath(new URL('../pywinrm_bench.py', import.meta.url));

export interface PywinrmRun {
  mode: 'runcmd' | 'shell' | 'stdout' | 'threads';
  /** Calls (runcmd, shell, threads: in all) or output bytes (stdout). */
  count: number;
  /** threads mode: threads, each with its own Session and shell. Default: 32. */
  threads?: number;
  transport: 'basic' | 'ntlm';
  user: { name: string; password: string };
  env: NodeJS.ProcessEnv;
}

/** Run bench/pywinrm_bench.py once; wire counters are read at its two marks around the measured part. */
export async function pywinrm(target: Target, run: PywinrmRun): Promise<Sample> {
  const start = await snap(target.wire);
  const args = [
    PYBENCH,
    target.url,
    run.user.name,
    run.user.password,
    run.mode,
    String(run.count),
    run.transport,
    ...(run.threads !== undefined ? [String(run.threads)] : []),
  ];
  const child = spawn('/usr/bin/python3', args, { env: run.env, stdio: ['pipe', 'pipe', 'pipe'] });
  const marks: Snap[] = [];
  const errors: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (line === 'mark') {
      void snap(target.wire).then(
        (m) => {
          marks.push(m);
          child.stdin.write('\n');
        },
        (e: Error) => {
          errors.push(e.message);
          child.kill();
        },
      );
    } else errors.push(line);
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  const [code] = (await once(child, 'close')) as [number | null];
  if (code !== 0) throw new Error(`pywinrm_bench.py ${run.mode} exited ${code}: ${errors.join('\n')}`);
  const py = JSON.parse(stdout) as { seconds: number; rssGrowthBytes?: number };
  const [before, after] = marks;
  const perCall = run.mode === 'stdout' ? 1 : run.count;
  const sample: Sample = {
    rate: run.mode === 'stdout' ? run.count / 1048576 / py.seconds : run.count / py.seconds,
    ...(before && after ? { requestsPer: (after.r - before.r) / perCall } : {}),
    ...(py.rssGrowthBytes !== undefined ? { rssGrowth: py.rssGrowthBytes } : {}),
  };
  return withConnections(sample, start, await snap(target.wire));
}
