/**
 * One execute() keeping `bytes` of stdout, alone in this process, so nothing else pollutes its peak RSS:
 * `node --expose-gc --import tsx bench/lib/stdout-child.ts URL USER PASSWORD BYTES`. Prints one JSON line:
 * { bytes, kept, ok, lazy, textOk, rssGrowth, peakRss, seconds, heapUsedGrowthMax, arrayBuffersMax }. RSS is
 * sampled at every output chunk, every 2 ms and after the result (before and after its text is read: the text is
 * decoded lazily, a copy only when asked for). The same samples give two figures that say where the growth beyond
 * the output is: heapUsedGrowthMax, the most the V8 heap in use grew (strings and objects per Receive waiting for a
 * GC), and arrayBuffersMax, the most memory held by ArrayBuffers and Buffers that are not the kept output (socket
 * chunks, bodies, decoded chunks waiting for a GC; the output's resizable store is not counted there by V8).
 */
import { connect } from '../../src/index.ts';

const [url, username, password, bytesText] = process.argv.slice(2);
const bytes = Number(bytesText);
const gc = (globalThis as { gc?: () => void }).gc;
const conn = await connect({
  endpoint: url!,
  username: username!,
  password: password!,
  allowUnencrypted: true,
});
try {
  await conn.execute('echo warm');
  gc?.();
  const before = process.memoryUsage();
  const rssBefore = before.rss;
  let peak = rssBefore;
  let heapUsedMax = before.heapUsed;
  let arrayBuffersMax = before.arrayBuffers;
  const sample = () => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    heapUsedMax = Math.max(heapUsedMax, m.heapUsed);
    arrayBuffersMax = Math.max(arrayBuffersMax, m.arrayBuffers);
  };
  const sampler = setInterval(sample, 2);
  const t0 = performance.now();
  const r = await conn
    .execute(`mock-output ${bytes}`, { maxBuffer: Math.max(bytes, 64 * 1024 * 1024), onStdout: sample })
    .finally(() => clearInterval(sampler));
  const seconds = (performance.now() - t0) / 1000;
  sample();
  const keptPeak = peak;
  const ok = r.exitCode === 0 && !r.truncated && r.stdout.length === bytes;
  // Decoded lazily: the text is an accessor until first read, then the same string every time.
  const lazy = typeof Object.getOwnPropertyDescriptor(r, 'stdoutText')?.get === 'function';
  const first = r.stdoutText;
  const textOk = first.length === bytes && Object.getOwnPropertyDescriptor(r, 'stdoutText')?.value === first;
  console.log(
    JSON.stringify({
      bytes,
      kept: r.stdout.length,
      ok,
      lazy,
      textOk,
      rssGrowth: keptPeak - rssBefore,
      peakRss: keptPeak,
      seconds,
      heapUsedGrowthMax: heapUsedMax - before.heapUsed,
      arrayBuffersMax,
    }),
  );
} finally {
  await conn.close();
}
