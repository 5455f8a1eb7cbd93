/**
 * 1 GB up and down with memory bounded on both ends. The mock runs in a child process; the client's RSS and the
 * mock's (from /proc) are sampled during the transfer. Set TRANSFER_1GB=0 to skip.
 *
 * No time limit on the transfer as such: a busy 2-core machine may take many minutes. What fails the test is a
 * stall (no progress report for STALL_MS, the transfer is then aborted with a message saying so), or the outer
 * "does not hang" bound of TEST_LIMIT_MS, far above any slow but moving run.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect } from '../../src/index.ts';
import { generated, hashingSink } from './helpers.ts';

const SIZE = 1024 * 1024 * 1024;
/** No progress report for this long means the transfer hangs. Each report is one chunk (about 287 KB). */
const STALL_MS = 180_000;
/** Generous outer bound: only a hang reaches it (the stall watchdog normally reports first). */
const TEST_LIMIT_MS = 3_600_000;
const skip = process.env.TRANSFER_1GB === '0';

function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

describe('transfer: 1 GB streamed, memory bounded on both ends', { skip }, () => {
  let child: ChildProcess;
  let info: { url: string; fileRoot: string; pid: number };
  before(async () => {
    const main = fileURLToPath(new URL('./mock-child.ts', import.meta.url));
    child = spawn(process.execPath, ['--import', 'tsx', main, 'mover:big-pass'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    info = JSON.parse(line);
  });
  after(async () => {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
  });

  it('uploads and downloads 1 GB; hashes equal; client and mock RSS grow far less than the data', {
    timeout: TEST_LIMIT_MS,
  }, async () => {
    const conn = await connect({
      endpoint: info.url,
      username: 'mover',
      password: 'big-pass',
      allowUnencrypted: true,
    });
    const base = { client: process.memoryUsage().rss, mock: rssOf(info.pid) };
    const peak = { client: 0, mock: 0 };
    const sampler = setInterval(() => {
      peak.client = Math.max(peak.client, process.memoryUsage().rss - base.client);
      peak.mock = Math.max(peak.mock, rssOf(info.pid) - base.mock);
    }, 200);
    // The stall watchdog: aborts the transfer (failing the test with this reason) when progress stops.
    const watchdog = new AbortController();
    let lastProgress = performance.now();
    let phase = 'upload';
    const onProgress = () => {
      lastProgress = performance.now();
    };
    const stallCheck = setInterval(() => {
      const idle = performance.now() - lastProgress;
      if (idle > STALL_MS) {
        watchdog.abort(new Error(`${phase} stalled: no progress for ${Math.round(idle / 1000)} s`));
      }
    }, 5_000);
    const stalled = () => (watchdog.signal.aborted ? `: ${String(watchdog.signal.reason)}` : '');
    try {
      const source = generated(SIZE);
      const t0 = performance.now();
      const up = await conn
        .upload(source.stream, 'C:\\Users\\mover\\one-gigabyte.bin', { signal: watchdog.signal, onProgress })
        .catch((e: unknown) => assert.fail(`upload failed${stalled()} (${String(e)})`));
      const upSeconds = (performance.now() - t0) / 1000;
      assert.equal(up.bytes, SIZE);
      assert.equal(up.sha256, source.digest());
      assert.equal((await stat(join(info.fileRoot, 'C', 'Users', 'mover', 'one-gigabyte.bin'))).size, SIZE);
      const sink = hashingSink();
      phase = 'download';
      lastProgress = performance.now();
      const t1 = performance.now();
      const down = await conn
        .download('C:\\Users\\mover\\one-gigabyte.bin', sink.stream, { signal: watchdog.signal, onProgress })
        .catch((e: unknown) => assert.fail(`download failed${stalled()} (${String(e)})`));
      const downSeconds = (performance.now() - t1) / 1000;
      assert.equal(sink.bytes(), SIZE);
      assert.equal(sink.digest(), up.sha256);
      assert.equal(down.sha256, up.sha256);
      const mb = (n: number) => Math.round(n / 1048576);
      console.log(
        `# 1 GB: upload ${(1024 / upSeconds).toFixed(1)} MB/s, download ${(1024 / downSeconds).toFixed(1)} MB/s; RSS growth client ${mb(peak.client)} MB, mock ${mb(peak.mock)} MB`,
      );
      assert.ok(peak.client < 200 * 1048576, `client RSS grew by ${mb(peak.client)} MB`);
      assert.ok(peak.mock < 200 * 1048576, `mock RSS grew by ${mb(peak.mock)} MB`);
    } finally {
      clearInterval(stallCheck);
      clearInterval(sampler);
      await conn.close();
    }
  });
});
