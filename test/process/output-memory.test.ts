/**
 * execute() keeps about one copy of its output: chunks go into one buffer (no concatenated second copy) and the
 * text is decoded only when read. Measured in a child process that does nothing but the execute, against the mock
 * in a process of its own, so neither the test runner nor the mock pollutes the peak.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startMockProcess } from '../../bench/lib/mock-process.ts';

const CHILD = fileURLToPath(new URL('../../bench/lib/stdout-child.ts', import.meta.url));

interface Measured {
  ok: boolean;
  lazy: boolean;
  textOk: boolean;
  rssGrowth: number;
  heapUsedGrowthMax: number;
  arrayBuffersMax: number;
}

/**
 * Bound on peak RSS growth, as a multiple of the output. The output itself costs 1.0x (one store); the rest is
 * garbage per Receive (socket chunks, the body, its string, the decoded chunk) that V8 lets pile up to its own
 * thresholds before collecting. Measured on d79fa79 on a shared, busy 2-core machine: 1.53x to 1.94x over 19 runs
 * (median 1.70x), so 2.2x keeps a margin for GC timing under load and still fails a second copy (2.0x + garbage).
 */
const RSS_BOUND = 2.2;

async function measure(url: string, bytes: number): Promise<Measured> {
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', CHILD, url, 'mem', 'mem-pass', String(bytes)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 0, `the measuring child failed: ${out}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as Measured;
}

describe('execute() output memory', () => {
  const bytes = 64 * 1024 * 1024;
  let mock: Awaited<ReturnType<typeof startMockProcess>>;
  let r: Measured;
  before(async () => {
    mock = await startMockProcess(['--user', 'mem:mem-pass', '--auth', 'basic', '--allow-unencrypted']);
    r = await measure(mock.url, bytes);
  });
  after(() => mock?.stop());

  it(`64 MiB of stdout grows peak RSS by at most ${RSS_BOUND}x the output (was 3.6x: chunks, a concatenation, eager text)`, () => {
    assert.ok(r.ok, 'the whole output was kept');
    const mb = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
    assert.ok(
      r.rssGrowth <= RSS_BOUND * bytes,
      `peak RSS grew by ${(r.rssGrowth / bytes).toFixed(2)}x the output (bound ${RSS_BOUND}x); heap in use grew by at most ` +
        `${mb(r.heapUsedGrowthMax)}, ArrayBuffers outside the output held at most ${mb(r.arrayBuffersMax)}`,
    );
  });

  it('stdoutText is decoded on first access (an accessor until then), and is the whole output', () => {
    assert.equal(r.lazy, true, 'stdoutText was decoded eagerly');
    assert.equal(r.textOk, true);
  });
});
