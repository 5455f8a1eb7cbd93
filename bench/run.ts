/**
 * `npm run bench`: this library and Debian's pywinrm 0.3.0 against the same mock (in its own process), directly
 * and through the latency proxy (bench/lib/latency-proxy.ts), in one run. Reports ratios (ours / theirs) from
 * adjacent pairs, requests per execute and TCP connections counted on the wire by the proxy.
 * Env: BENCH_EXECUTES (per direct sample, default 200), BENCH_PROXY_EXECUTES (per proxied sample, default 100),
 *      BENCH_OUTPUT_MB (default 64), BENCH_SAMPLES (pairs per row, default 5), BENCH_RTT_MS (the proxy's round
 *      trip, default 10), BENCH_ONLY (comma list of exec, stdout, ntlm, transfer, fanout, concurrency;
 *      basic = exec,stdout; default all). fanout and concurrency: see bench/lib/fanout.ts for their variables.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConnectionOptions } from '../src/index.ts';
import {
  direct,
  oursExecutes,
  oursStdout,
  type PywinrmRun,
  proxied,
  pywinrm,
  type Sample,
  type Target,
} from './lib/clients.ts';
import { startMockProcess } from './lib/mock-process.ts';
import {
  fmt,
  median,
  newPair,
  envNumber as num,
  type Paired,
  pairOnce,
  spread,
  table,
} from './lib/report.ts';

const EXECUTES = num('BENCH_EXECUTES', 200);
const PROXY_EXECUTES = num('BENCH_PROXY_EXECUTES', 100);
const OUTPUT = num('BENCH_OUTPUT_MB', 64) * 1024 * 1024;
const SAMPLES = num('BENCH_SAMPLES', 5);
const RTT = num('BENCH_RTT_MS', 10);
const KNOWN = ['exec', 'stdout', 'ntlm', 'transfer', 'fanout', 'concurrency'];
const ONLY = new Set(
  (process.env.BENCH_ONLY ?? KNOWN.join(','))
    .split(',')
    .map((s) => s.trim())
    .flatMap((s) => (s === 'basic' ? ['exec', 'stdout'] : [s])),
);
for (const s of ONLY) {
  if (!KNOWN.includes(s)) throw new RangeError(`BENCH_ONLY: unknown part "${s}" (known: ${KNOWN}, basic)`);
}
const user = { name: 'bench', password: 'bench-pass' };
const cred = ['--user', `${user.name}:${user.password}`];

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
const py = (mode: PywinrmRun['mode'], count: number, transport: PywinrmRun['transport']): PywinrmRun => ({
  mode,
  count,
  transport,
  user,
  env: pyEnv,
});

const paths = (url: string) => [
  { label: 'direct (loopback)', open: async () => direct(url), n: EXECUTES },
  {
    label: `through the latency proxy (${RTT} ms round trip)`,
    open: () => proxied(url, RTT),
    n: PROXY_EXECUTES,
  },
];
const at10 = RTT === 10;
const mb = (b: number | undefined) => (b === undefined ? '-' : `${fmt(b / 1048576)} MB`);
const wireLine = (label: string, samples: Sample[], calls: number) =>
  `- ${label}: ${spread(samples.map((s) => s.requestsPer))} requests per execute; ` +
  `${spread(
    samples.map((s) => s.connections),
    0,
  )} TCP connection(s) per sample of ${calls} calls`;

/** Executes/s against both pywinrm baselines; `ours` and the transport differ between Basic and NTLM. */
async function execRows(title: string, url: string, ours: ConnectionOptions, transport: 'basic' | 'ntlm') {
  for (const path of paths(url)) {
    const target: Target = await path.open();
    try {
      const runCmd = newPair();
      const shell = newPair();
      const n = path.n;
      await oursExecutes(target, ours, n); // unmeasured: V8 compiles the hot paths (pywinrm has no JIT)
      for (let s = 0; s < SAMPLES; s++) {
        await pairOnce(
          runCmd,
          s,
          () => oursExecutes(target, ours, n),
          () => pywinrm(target, py('runcmd', n, transport)),
        );
        await pairOnce(
          shell,
          s,
          () => oursExecutes(target, ours, n),
          () => pywinrm(target, py('shell', n, transport)),
        );
      }
      const proxiedPath = target.wire !== undefined;
      for (const line of table(`${title}, ${path.label}, ${n} executes per sample`, [
        {
          name: 'executes/s vs Session.run_cmd',
          pair: runCmd,
          peer: 'run_cmd',
          ...(proxiedPath ? { target: at10 ? '≥ 2.4x (bound 2.5x)' : 'bound 2.5x' } : {}),
        },
        {
          name: 'executes/s vs Protocol, one reused shell',
          pair: shell,
          peer: 'reused shell',
          ...(proxiedPath ? { target: at10 ? '≥ 1.45x (bound 1.5x)' : 'bound 1.5x' } : {}),
        },
      ]))
        console.log(line);
      console.log('');
      if (proxiedPath) {
        console.log(
          'Counted on the wire by the proxy (measured part only; connections include the warm-up):',
        );
        console.log(wireLine('winrm-connection', [...runCmd.ours, ...shell.ours], n + 1));
        console.log(wireLine('pywinrm run_cmd', runCmd.peer, n + 1));
        console.log(wireLine('pywinrm reused shell', shell.peer, n + 1));
      } else {
        console.log(
          `- winrm-connection: ${spread(runCmd.ours.map((s) => s.requestsPer))} requests per execute`,
        );
      }
    } finally {
      await target.close();
    }
  }
}

async function stdoutRows(url: string, ours: ConnectionOptions) {
  for (const path of paths(url)) {
    const target = await path.open();
    try {
      const p: Paired = newPair();
      for (let s = 0; s < SAMPLES; s++) {
        await pairOnce(
          p,
          s,
          () => oursStdout(target, ours, OUTPUT),
          () => pywinrm(target, py('stdout', OUTPUT, 'basic')),
        );
      }
      const name = `stdout MB/s (${OUTPUT / 1048576} MB, kept by both)`;
      for (const line of table(`stdout, Basic over HTTP, ${path.label}`, [
        { name, pair: p, peer: 'run_cmd' },
      ]))
        console.log(line);
      console.log(
        `\n- peak RSS growth during the command (median): winrm-connection (in-process, lower bound: reuses earlier samples' freed memory) ${mb(median(p.ours.map((s) => s.rssGrowth ?? 0)))}, ` +
          `pywinrm ${mb(median(p.peer.map((s) => s.rssGrowth ?? 0)))}`,
      );
      if (!target.wire) console.log(stdoutChildLine(url, OUTPUT));
      if (target.wire) {
        console.log(
          `- requests for the command: winrm-connection ${spread(
            p.ours.map((s) => s.requestsPer),
            0,
          )}, pywinrm run_cmd ${spread(
            p.peer.map((s) => s.requestsPer),
            0,
          )}`,
        );
      }
    } finally {
      await target.close();
    }
  }
}

/**
 * Peak RSS growth of one execute() keeping `bytes` of stdout, measured in a child process that does only that
 * (bench/lib/stdout-child.ts), so neither earlier samples nor the harness pollute it.
 */
function stdoutChildLine(url: string, bytes: number): string {
  const child = fileURLToPath(new URL('./lib/stdout-child.ts', import.meta.url));
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', child, url, user.name, user.password, String(bytes)],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) return `- stdout child failed (exit ${r.status}): ${r.stderr.slice(0, 300)}`;
  const m = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { rssGrowth: number; ok: boolean };
  return (
    `- peak RSS growth of execute() alone in a child process: ${mb(m.rssGrowth)} for ${mb(bytes)} ` +
    `(${(m.rssGrowth / bytes).toFixed(2)}x the output; target ≤ 1.3x)${m.ok ? '' : ' (output incomplete!)'}`
  );
}

console.log(
  `${new Date().toISOString()}; ${cpus().length} x ${cpus()[0]?.model ?? '?'}; Node ${process.version}; ` +
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
);
console.log(
  `samples: ${SAMPLES} pairs per row (one unmeasured warm-up round per path); executes per sample: ${EXECUTES} ` +
    `direct, ${PROXY_EXECUTES} proxied; output: ${OUTPUT / 1048576} MB; proxy round trip: ${RTT} ms`,
);
try {
  if (ONLY.has('exec') || ONLY.has('stdout')) {
    const mock = await startMockProcess([...cred, '--auth', 'basic', '--allow-unencrypted']);
    const ours = { endpoint: mock.url, username: user.name, password: user.password, allowUnencrypted: true };
    try {
      if (ONLY.has('exec')) await execRows('Basic over HTTP', mock.url, ours, 'basic');
      if (ONLY.has('stdout')) await stdoutRows(mock.url, ours);
    } finally {
      await mock.stop();
    }
  }
  if (ONLY.has('ntlm')) {
    const http = await startMockProcess([...cred, '--auth', 'ntlm']);
    const https = await startMockProcess([...cred, '--auth', 'basic', '--https']);
    try {
      const ntlm = {
        endpoint: http.url,
        username: user.name,
        password: user.password,
        auth: 'ntlm' as const,
      };
      await execRows('NTLM with message encryption over HTTP (both sides sealed)', http.url, ntlm, 'ntlm');
      const vsTls = newPair();
      const tls = {
        endpoint: https.url,
        username: user.name,
        password: user.password,
        tls: { insecureAcceptAnyCertificate: true },
      };
      for (let s = 0; s < SAMPLES; s++) {
        await pairOnce(
          vsTls,
          s,
          () => oursExecutes(direct(http.url), ntlm, EXECUTES),
          () => oursExecutes(direct(https.url), tls, EXECUTES),
        );
      }
      for (const line of table('NTLM sealing against TLS, both ours, direct', [
        { name: 'executes/s, NTLM + encryption vs Basic over HTTPS', pair: vsTls, peer: 'ours, Basic/HTTPS' },
      ]))
        console.log(line);
    } finally {
      await http.stop();
      await https.stop();
    }
  }
  if (ONLY.has('fanout')) {
    const { fanoutBench } = await import('./lib/fanout.ts');
    for (const line of await fanoutBench(user, RTT)) console.log(line);
  }
  if (ONLY.has('concurrency')) {
    const { concurrencyBench } = await import('./lib/fanout.ts');
    for (const line of await concurrencyBench(user, RTT, pyEnv, Math.min(SAMPLES, 3))) console.log(line);
  }
  if (ONLY.has('transfer')) {
    const { transferBench } = await import('./transfer.ts');
    console.log('\n### Transfer (256 MB file; winrmcp uploads over its own echo-append protocol)\n');
    for (const line of await transferBench()) console.log(line);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
