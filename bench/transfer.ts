/**
 * `npm run bench:transfer`, or `transferBench()` from bench/run.ts: upload and download MB/s of one file against the mock
 * (in its own process), on loopback and through the latency proxy (its own process, BENCH_RTT_MS round trip), with
 * one stream and with the default streams, in one run; payload bytes per HTTP body byte; and Debian's winrmcp
 * uploading a file to the same mock in the same run. winrmcp's `echo <base64> >> %TEMP%\winrmcp-<uuid>.tmp` commands run in the mock's
 * cmd.exe emulation; its PowerShell decode step is answered by the benchmark-only accept-all mode without being
 * run, which flatters winrmcp slightly.
 * The four legs (loopback with the default streams, the proxy with one stream and with the default, and a second
 * proxy process with no delay and the default streams) run in rounds, each round in a rotated order, so a slow
 * minute of the machine lands on different legs; the table gives each leg's median and range, the ratios are of
 * the medians and the range of the same round's ratios. The no-delay proxy costs the two cores what the delaying
 * one does (a third process copying every byte), so "proxy / no-delay proxy" is the share of the rate the round
 * trip alone takes, and "proxy / loopback" also holds the proxy's own CPU, which a real network does not spend on
 * the client's machine.
 * Env: BENCH_TRANSFER_MB (default 256), BENCH_RTT_MS (default 10), BENCH_TRANSFER_ROUNDS (default 3),
 * BENCH_WINRMCP_MB (default: the same as BENCH_TRANSFER_MB; smaller makes the run shorter, the ratio then
 * compares MB/s of different sizes).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connect } from '../src/index.ts';
import { DEFAULT_STREAMS } from '../src/transfer/parallel.ts';
import { proxied, type Target } from './lib/clients.ts';
import { median, range, ratios, roundOrder, roundsFrom, spread } from './lib/rounds.ts';
import { type BenchMock, startBenchMock } from './transfer/process.ts';

const run = promisify(execFile);
const MB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_TRANSFER_MB ?? 256) * MB;
const WINRMCP_SIZE = Number(process.env.BENCH_WINRMCP_MB ?? SIZE / MB) * MB;
const WINRMCP = '/usr/bin/winrmcp';
const RTT = Number(process.env.BENCH_RTT_MS ?? 10);
const ROUNDS = roundsFrom(process.env.BENCH_TRANSFER_ROUNDS, 'BENCH_TRANSFER_ROUNDS', 3);
const user = { name: 'bench', password: 'bench-pass' };

/** Write `size` pseudo-random bytes to `path` (1 MiB at a time) and return their SHA-256. */
async function makeFile(path: string, size: number): Promise<string> {
  const fh = await open(path, 'w');
  const hash = createHash('sha256');
  const block = Buffer.allocUnsafe(MB);
  let x = 2463534242;
  try {
    for (let done = 0; done < size; done += MB) {
      for (let i = 0; i < block.length; i += 4) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        block.writeUInt32LE(x >>> 0, i);
      }
      const piece = block.subarray(0, Math.min(MB, size - done));
      hash.update(piece);
      await fh.write(piece);
    }
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

interface Leg {
  label: string;
  url: string;
  streams: number;
  /** MB/s of each round, in round order. */
  up: number[];
  down: number[];
}

/** Upload then download the file once over `url` with `streams`; MB/s each way, both hashes checked. */
async function leg(
  url: string,
  file: string,
  digest: string,
  dir: string,
  streams: number,
): Promise<[number, number]> {
  const conn = await connect({
    endpoint: url,
    username: user.name,
    password: user.password,
    allowUnencrypted: true,
    maxEnvelopeSize: 512_000,
  });
  try {
    await conn.upload(Buffer.from('warm-up'), 'C:\\Users\\bench\\warm.txt');
    const remote = `C:\\Users\\bench\\payload-${streams}.bin`;
    let t0 = performance.now();
    const up = await conn.upload(file, remote, { streams });
    const upSeconds = (performance.now() - t0) / 1000;
    if (up.sha256 !== digest) throw new Error('upload hash differs');
    t0 = performance.now();
    const down = await conn.download(remote, join(dir, `back-${streams}.bin`), { streams });
    const downSeconds = (performance.now() - t0) / 1000;
    if (down.sha256 !== digest) throw new Error('download hash differs');
    await rm(join(dir, `back-${streams}.bin`), { force: true });
    return [SIZE / MB / upSeconds, SIZE / MB / downSeconds];
  } finally {
    await conn.close();
  }
}

/** Run the transfer benchmark; returns the report lines (Markdown tables, ratios against their targets). */
export async function transferBench(): Promise<string[]> {
  const out: string[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'wrcp-bench-'));
  let mock: BenchMock | undefined;
  let proxy: Target | undefined;
  let noDelay: Target | undefined;
  try {
    mock = await startBenchMock(user.name, user.password);
    proxy = await proxied(mock.url, RTT);
    noDelay = await proxied(mock.url, 0);
    const file = join(dir, 'payload.bin');
    const digest = await makeFile(file, SIZE);
    const def = DEFAULT_STREAMS;

    // Payload bytes per HTTP request-body byte: one single-stream upload on loopback, counted by the mock.
    const conn = await connect({
      endpoint: mock.url,
      username: user.name,
      password: user.password,
      allowUnencrypted: true,
      maxEnvelopeSize: 512_000,
    });
    await conn.upload(Buffer.from('warm-up'), 'C:\\Users\\bench\\warm.txt');
    const before = await mock.stats();
    let t0 = performance.now();
    await conn.upload(file, 'C:\\Users\\bench\\payload.bin', { streams: 1 });
    const singleUp = SIZE / MB / ((performance.now() - t0) / 1000);
    const afterUp = await mock.stats();
    await conn.close();
    const ratio = SIZE / (afterUp.bytesIn - before.bytesIn);
    const requests = afterUp.requests - before.requests;

    // One run, in rounds: loopback with the default streams, the proxy with one stream and with the default, the
    // no-delay proxy with the default; each round starting one leg later than the round before.
    const legs: Leg[] = [
      { label: 'loopback', url: mock.url, streams: def, up: [], down: [] },
      { label: `proxy, ${RTT} ms round trip`, url: proxy.url, streams: 1, up: [], down: [] },
      { label: `proxy, ${RTT} ms round trip`, url: proxy.url, streams: def, up: [], down: [] },
      { label: 'proxy, no delay (same proxy CPU)', url: noDelay.url, streams: def, up: [], down: [] },
    ];
    for (let r = 0; r < ROUNDS; r++) {
      for (const i of roundOrder(legs.length, r)) {
        const l = legs[i]!;
        const [up, down] = await leg(l.url, file, digest, dir, l.streams);
        l.up[r] = up;
        l.down[r] = down;
      }
    }
    const [loop, single, par, flat] = legs as [Leg, Leg, Leg, Leg];

    let winrmcp: { seconds: number; requests: number } | undefined;
    if (existsSync(WINRMCP)) {
      const wfile = WINRMCP_SIZE === SIZE ? file : join(dir, 'winrmcp.bin');
      if (wfile !== file) await makeFile(wfile, WINRMCP_SIZE);
      const b = await mock.stats();
      t0 = performance.now();
      await run(WINRMCP, [
        `-addr=127.0.0.1:${mock.port}`,
        `-user=${user.name}`,
        `-pass=${user.password}`,
        wfile,
        'C:\\Users\\bench\\winrmcp.bin',
      ]);
      winrmcp = {
        seconds: (performance.now() - t0) / 1000,
        requests: (await mock.stats()).requests - b.requests,
      };
    }

    out.push(
      `file: ${SIZE / MB} MB pseudo-random; mock: own process, builtins host, Basic over HTTP, MaxEnvelopeSize 512,000; proxies: own processes`,
    );
    out.push(
      `${ROUNDS} rounds, legs in a rotated order each round; MB/s as median (min to max), ratios of the medians with the range of the same round's ratios`,
    );
    out.push('| path | streams | upload MB/s | download MB/s |');
    out.push('| --- | ---: | ---: | ---: |');
    out.push(`| loopback (payload count, once) | 1 | ${singleUp.toFixed(1)} | |`);
    for (const l of legs)
      out.push(`| ${l.label} | ${l.streams} | ${spread(l.up, 1)} | ${spread(l.down, 1)} |`);
    out.push('');
    const ratioRow = (label: string, a: Leg, b: Leg, target: string) =>
      `| ${label} | ${(median(a.up) / median(b.up)).toFixed(2)}x${range(ratios(a.up, b.up), 2)} | ${(median(a.down) / median(b.down)).toFixed(2)}x${range(ratios(a.down, b.down), 2)} | ${target} |`;
    out.push('| ratio | upload: of medians (per round) | download: of medians (per round) | target |');
    out.push('| --- | ---: | ---: | ---: |');
    out.push(ratioRow(`proxy: ${def} streams / 1 stream`, par, single, '>= 3x'));
    out.push(ratioRow(`${def} streams: proxy / loopback`, par, loop, '>= 0.9x'));
    out.push(ratioRow(`${def} streams: proxy / no-delay proxy (round trip alone)`, par, flat, 'reported'));
    out.push('');
    if (winrmcp) {
      const theirs = WINRMCP_SIZE / MB / winrmcp.seconds;
      out.push(
        `winrmcp upload (${WINRMCP_SIZE / MB} MB, loopback): ${theirs.toFixed(2)} MB/s, ${winrmcp.requests} HTTP requests; ours with 1 stream ${(singleUp / theirs).toFixed(1)}x (${requests} requests), with ${def} ${(median(loop.up) / theirs).toFixed(1)}x`,
      );
    } else out.push('winrmcp: not installed');
    out.push(
      `payload bytes per HTTP request-body byte (upload, 1 stream): ${ratio.toFixed(4)} (target >= 0.55)`,
    );
  } finally {
    await proxy?.close();
    await noDelay?.close();
    await mock?.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const line of await transferBench()) console.log(line);
}
