/**
 * `npm run bench`: this library and Debian's pywinrm against the same mock endpoint in the same run.
 * Reports ratios (ours / theirs), not absolute times, plus requests per execute. The mock runs in a separate
 * process so neither client shares its event loop.
 * Env: BENCH_EXECUTES (default 300), BENCH_OUTPUT_MB (default 64), BENCH_SAMPLES (default 3).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connect } from '../src/index.ts';
import { startMockProcess } from './lib/mock-process.ts';

const run = promisify(execFile);
const EXECUTES = Number(process.env.BENCH_EXECUTES ?? 300);
const OUTPUT = Number(process.env.BENCH_OUTPUT_MB ?? 64) * 1024 * 1024;
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 3);
const user = { name: 'bench', password: 'bench-pass' };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

// The mock runs in its own process: the client measured here and pywinrm both talk to it over loopback.
const mock = await startMockProcess([
  '--user',
  `${user.name}:${user.password}`,
  '--auth',
  'basic',
  '--allow-unencrypted',
]);
try {
  const ours = { execPerSec: [] as number[], mbPerSec: [] as number[], reqPerExec: 0 };
  const theirs = { execPerSec: [] as number[], mbPerSec: [] as number[] };
  for (let s = 0; s < SAMPLES; s++) {
    const conn = await connect({
      endpoint: mock.url,
      username: user.name,
      password: user.password,
      allowUnencrypted: true,
    });
    await conn.execute('echo warm');
    const before = conn.requestCount;
    let t0 = performance.now();
    for (let i = 0; i < EXECUTES; i++) {
      const r = await conn.execute(`echo ${i}`);
      if (r.stdoutText !== `${i}\r\n`) throw new Error(`unexpected output ${JSON.stringify(r.stdoutText)}`);
    }
    ours.execPerSec.push(EXECUTES / ((performance.now() - t0) / 1000));
    ours.reqPerExec = (conn.requestCount - before) / EXECUTES;
    t0 = performance.now();
    const out = await conn.execute(`mock-output ${OUTPUT}`, { maxBuffer: 0 });
    if (out.exitCode !== 0) throw new Error('mock-output failed');
    ours.mbPerSec.push(OUTPUT / 1048576 / ((performance.now() - t0) / 1000));
    await conn.close();

    const script = fileURLToPath(new URL('./pywinrm_bench.py', import.meta.url));
    const { stdout } = await run(
      '/usr/bin/python3',
      [script, mock.url, user.name, user.password, String(EXECUTES), String(OUTPUT)],
      {
        maxBuffer: 1 << 20,
      },
    );
    const py = JSON.parse(stdout) as { executeSeconds: number; outputSeconds: number };
    theirs.execPerSec.push(EXECUTES / py.executeSeconds);
    theirs.mbPerSec.push(OUTPUT / 1048576 / py.outputSeconds);
  }
  const rows = [
    ['executes/s (echo, one connection)', median(ours.execPerSec), median(theirs.execPerSec)],
    [`stdout MB/s (${OUTPUT / 1048576} MB)`, median(ours.mbPerSec), median(theirs.mbPerSec)],
  ] as const;
  console.log(`samples: ${SAMPLES}, executes per sample: ${EXECUTES}; mock: builtins host, Basic over HTTP`);
  console.log(`requests per execute (warm connection): ${ours.reqPerExec.toFixed(2)} (pywinrm run_cmd: 5)`);
  console.log('| workload | winrm-connection | pywinrm 0.3.0 | ratio |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [name, a, b] of rows)
    console.log(`| ${name} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(a / b).toFixed(2)}x |`);
} finally {
  await mock.stop();
}
