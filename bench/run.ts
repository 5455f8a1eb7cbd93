/**
 * `npm run bench`: this library and Debian's pywinrm against the same mock endpoint in the same run.
 * Reports ratios (ours / theirs), not absolute times, plus requests per execute. The mock runs in a separate
 * process so neither client shares its event loop; samples alternate between the clients.
 * Env: BENCH_EXECUTES (default 200), BENCH_OUTPUT_MB (default 64), BENCH_SAMPLES (default 5),
 *      BENCH_ONLY (comma list of: basic, ntlm, transfer; default all).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type ConnectionOptions, connect } from '../src/index.ts';
import { startMockProcess } from './lib/mock-process.ts';

const run = promisify(execFile);
const EXECUTES = Number(process.env.BENCH_EXECUTES ?? 200);
const OUTPUT = Number(process.env.BENCH_OUTPUT_MB ?? 64) * 1024 * 1024;
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 5);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'basic,ntlm,transfer').split(','));
const user = { name: 'bench', password: 'bench-pass' };
const PYBENCH = fileURLToPath(new URL('./pywinrm_bench.py', import.meta.url));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

interface Measured {
  execPerSec: number;
  mbPerSec?: number;
  requestsPerExecute: number;
}

async function ours(options: ConnectionOptions, outputBytes: number): Promise<Measured> {
  const conn = await connect(options);
  try {
    await conn.execute('echo warm');
    const before = conn.stats().requests ?? 0;
    let t0 = performance.now();
    for (let i = 0; i < EXECUTES; i++) {
      const r = await conn.execute(`echo ${i}`);
      if (r.stdoutText !== `${i}\r\n`) throw new Error(`unexpected output ${JSON.stringify(r.stdoutText)}`);
    }
    const execPerSec = EXECUTES / ((performance.now() - t0) / 1000);
    const requestsPerExecute = ((conn.stats().requests ?? 0) - before) / EXECUTES;
    if (outputBytes === 0) return { execPerSec, requestsPerExecute };
    t0 = performance.now();
    const out = await conn.execute(`mock-output ${outputBytes}`, { maxBuffer: 0 });
    if (out.exitCode !== 0) throw new Error('mock-output failed');
    return {
      execPerSec,
      requestsPerExecute,
      mbPerSec: outputBytes / 1048576 / ((performance.now() - t0) / 1000),
    };
  } finally {
    await conn.close();
  }
}

async function pywinrm(
  url: string,
  transport: 'basic' | 'ntlm',
  outputBytes: number,
  env: NodeJS.ProcessEnv,
) {
  const args = [PYBENCH, url, user.name, user.password, String(EXECUTES), String(outputBytes), transport];
  const { stdout } = await run('/usr/bin/python3', args, { maxBuffer: 1 << 20, env });
  const py = JSON.parse(stdout) as { executeSeconds: number; outputSeconds?: number };
  return {
    execPerSec: EXECUTES / py.executeSeconds,
    mbPerSec: py.outputSeconds ? outputBytes / 1048576 / py.outputSeconds : undefined,
  };
}

/**
 * One row per workload: the median of each client's samples, and the median of the per-sample ratios. Samples
 * are taken in adjacent pairs (order alternating), so a ratio compares two runs made under the same machine
 * conditions; on a shared VM whose speed drifts by 2x within minutes, that is far steadier than a ratio of
 * medians taken minutes apart.
 */
function table(title: string, rows: Array<[string, number[], number[], string]>): void {
  console.log(`\n### ${title}\n`);
  console.log('| workload | winrm-connection | peer | ratio (median of pairs) | ratio range |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const [name, a, b, peer] of rows) {
    const ratios = a.map((x, i) => x / b[i]!);
    const lo = Math.min(...ratios).toFixed(2);
    const hi = Math.max(...ratios).toFixed(2);
    console.log(
      `| ${name} | ${fmt(median(a))} | ${fmt(median(b))} (${peer}) | ${median(ratios).toFixed(2)}x | ${lo} to ${hi} |`,
    );
  }
}

// pywinrm: an OpenSSL config with the legacy provider (MD4 for NTLM), and no CA-bundle overrides.
const dir = mkdtempSync(join(tmpdir(), 'winrm-bench-'));
writeFileSync(
  join(dir, 'openssl.cnf'),
  'openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n[provider_sect]\ndefault = default_sect\n' +
    'legacy = legacy_sect\n[default_sect]\nactivate = 1\n[legacy_sect]\nactivate = 1\n',
);
const pyEnv: NodeJS.ProcessEnv = { ...process.env, OPENSSL_CONF: join(dir, 'openssl.cnf') };
delete pyEnv.REQUESTS_CA_BUNDLE;
delete pyEnv.CURL_CA_BUNDLE;
const cred = ['--user', `${user.name}:${user.password}`];

console.log(
  `samples: ${SAMPLES} pairs (medians), executes per sample: ${EXECUTES}, output: ${OUTPUT / 1048576} MB`,
);
try {
  if (ONLY.has('basic')) {
    const mock = await startMockProcess([...cred, '--auth', 'basic', '--allow-unencrypted']);
    try {
      const a: Measured[] = [];
      const b: Array<{ execPerSec: number; mbPerSec?: number }> = [];
      const options = {
        endpoint: mock.url,
        username: user.name,
        password: user.password,
        allowUnencrypted: true,
      };
      // One unmeasured round first: V8 compiles the hot paths during the first few hundred executes, and the
      // figure wanted is a long-running automation process's steady state (pywinrm has no JIT to warm).
      await ours(options, 0);
      for (let s = 0; s < SAMPLES; s++) {
        if (s % 2 === 0) {
          a.push(await ours(options, OUTPUT));
          b.push(await pywinrm(mock.url, 'basic', OUTPUT, pyEnv));
        } else {
          b.push(await pywinrm(mock.url, 'basic', OUTPUT, pyEnv));
          a.push(await ours(options, OUTPUT));
        }
      }
      console.log(
        `\nrequests per execute (warm connection): ${a[0]!.requestsPerExecute.toFixed(2)}; pywinrm run_cmd: 5 + a new HTTP session`,
      );
      table('Basic over HTTP (allowUnencrypted), builtins host', [
        [
          'executes/s (echo, one connection)',
          a.map((x) => x.execPerSec),
          b.map((x) => x.execPerSec),
          'pywinrm',
        ],
        [
          `stdout MB/s (${OUTPUT / 1048576} MB)`,
          a.map((x) => x.mbPerSec!),
          b.map((x) => x.mbPerSec!),
          'pywinrm',
        ],
      ]);
    } finally {
      await mock.stop();
    }
  }
  if (ONLY.has('ntlm')) {
    const http = await startMockProcess([...cred, '--auth', 'ntlm']);
    const https = await startMockProcess([...cred, '--auth', 'basic', '--https']);
    try {
      const sealed: number[] = [];
      const tls: number[] = [];
      const py: number[] = [];
      for (let s = 0; s < SAMPLES; s++) {
        sealed.push(
          (await ours({ endpoint: http.url, username: user.name, password: user.password, auth: 'ntlm' }, 0))
            .execPerSec,
        );
        tls.push(
          (
            await ours(
              {
                endpoint: https.url,
                username: user.name,
                password: user.password,
                tls: { insecureAcceptAnyCertificate: true },
              },
              0,
            )
          ).execPerSec,
        );
        py.push((await pywinrm(http.url, 'ntlm', 0, pyEnv)).execPerSec);
      }
      table('NTLM with message encryption over HTTP (AllowUnencrypted=false)', [
        ['executes/s, NTLM+encryption vs Basic over HTTPS (both ours)', sealed, tls, 'ours, Basic/HTTPS'],
        ['executes/s, NTLM+encryption', sealed, py, 'pywinrm NTLM'],
      ]);
    } finally {
      await http.stop();
      await https.stop();
    }
  }
  if (ONLY.has('transfer')) {
    const { transferBench } = await import('./transfer.ts');
    console.log('\n### Transfer (256 MB file; winrmcp uploads over its own echo-append protocol)\n');
    for (const line of await transferBench()) console.log(line);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
