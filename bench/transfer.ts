/**
 * `npm run bench:transfer`, or `transferBench()` from bench/run.ts: upload and download MB/s of one file against the mock
 * (in its own process), payload bytes per HTTP body byte, and Debian's winrmcp uploading the same file to the
 * same mock in the same run. winrmcp's `echo <base64> >> %TEMP%\winrmcp-<uuid>.tmp` commands run in the mock's
 * cmd.exe emulation; its PowerShell decode step is answered by the benchmark-only accept-all mode without being
 * run, which flatters winrmcp slightly.
 * Env: BENCH_TRANSFER_MB (default 256), BENCH_WINRMCP_MB (default: the same; smaller makes the run shorter,
 * the ratio then compares MB/s of different sizes).
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
import { startBenchMock } from './transfer/process.ts';

const run = promisify(execFile);
const MB = 1024 * 1024;
const SIZE = Number(process.env.BENCH_TRANSFER_MB ?? 256) * MB;
const WINRMCP_SIZE = Number(process.env.BENCH_WINRMCP_MB ?? SIZE / MB) * MB;
const WINRMCP = '/usr/bin/winrmcp';
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

/** Run the transfer benchmark; returns the report lines (a Markdown table and the payload ratio). */
export async function transferBench(): Promise<string[]> {
  const out: string[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'wrcp-bench-'));
  const mock = await startBenchMock(user.name, user.password);
  try {
    const file = join(dir, 'payload.bin');
    const digest = await makeFile(file, SIZE);
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
    const up = await conn.upload(file, 'C:\\Users\\bench\\payload.bin');
    const upSeconds = (performance.now() - t0) / 1000;
    const afterUp = await mock.stats();
    if (up.sha256 !== digest) throw new Error('upload hash differs');
    t0 = performance.now();
    const down = await conn.download('C:\\Users\\bench\\payload.bin', join(dir, 'back.bin'));
    const downSeconds = (performance.now() - t0) / 1000;
    if (down.sha256 !== digest) throw new Error('download hash differs');
    await conn.close();
    const ratio = SIZE / (afterUp.bytesIn - before.bytesIn);
    const requests = afterUp.requests - before.requests;

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

    const oursUp = SIZE / MB / upSeconds;
    out.push(
      `file: ${SIZE / MB} MB pseudo-random; mock: own process, builtins host, Basic over HTTP, MaxEnvelopeSize 512,000`,
    );
    out.push('| workload | winrm-connection | winrmcp | ratio |');
    out.push('| --- | ---: | ---: | ---: |');
    if (winrmcp) {
      const theirs = WINRMCP_SIZE / MB / winrmcp.seconds;
      out.push(
        `| upload MB/s (${SIZE / MB} MB; winrmcp ${WINRMCP_SIZE / MB} MB) | ${oursUp.toFixed(1)} | ${theirs.toFixed(2)} | ${(oursUp / theirs).toFixed(1)}x |`,
      );
      out.push(`| HTTP requests for the upload | ${requests} | ${winrmcp.requests} | |`);
    } else {
      out.push(`| upload MB/s (${SIZE / MB} MB) | ${oursUp.toFixed(1)} | (winrmcp not installed) | |`);
    }
    out.push(
      `| download MB/s (${SIZE / MB} MB) | ${(SIZE / MB / downSeconds).toFixed(1)} | (no download) | |`,
    );
    out.push(`payload bytes per HTTP request-body byte (upload): ${ratio.toFixed(4)} (target >= 0.55)`);
  } finally {
    await mock.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const line of await transferBench()) console.log(line);
}
