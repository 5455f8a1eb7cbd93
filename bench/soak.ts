/**
 * `npm run soak`: the hardening soak against the in-process mock (Basic over HTTP, the mock's builtins host).
 * Phases, each checked against the mock's own view of the server:
 *   1. SOAK_EXECUTES (default 10,000) executes on one connection; heap after a warm-up vs. at the end (after gc).
 *   2. SOAK_CONCURRENT (default 200) executes at once; each output checked.
 *   3. SOAK_ABORTS (default 100) long commands aborted at a random moment (0..300 ms after the call).
 *   4. SOAK_CUTS (default 50) uploads cut at a random point: an abort at a random progress offset (some past the
 *      end), the connection dropped at a random Send, or a `timeout` of 1 to 400 ms.
 * Counted: orphaned commands (running on the mock after the client settled), shells left after close(), partial
 * targets (a target that is neither the old content nor the complete new one), false successes (resolved
 * without the complete target), temporary files left, hangs (a call still pending 60 s after its deadline).
 * Exit code 1 when any count is not zero or the heap grew more than SOAK_HEAP_MB (default 16).
 * Run with `node --expose-gc --import tsx bench/soak.ts` (npm run soak does).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Connection, connect } from '../src/index.ts';
import { type MockServer, startMockServer } from '../src/mock/index.ts';
import { envNumber as num } from './lib/report.ts';

const EXECUTES = num('SOAK_EXECUTES', 10_000);
const CONCURRENT = num('SOAK_CONCURRENT', 200);
const ABORTS = num('SOAK_ABORTS', 100);
const CUTS = num('SOAK_CUTS', 50);
const HEAP_LIMIT_MB = num('SOAK_HEAP_MB', 16);
const HANG_MS = 60_000;

export interface SoakReport {
  executes: number;
  heapStartMb: number;
  heapEndMb: number;
  concurrent: { ok: number; wrong: number };
  aborts: { aborted: number; completed: number; otherErrors: string[] };
  cuts: { succeeded: number; rejected: number };
  orphanedCommands: number;
  shellsLeft: number;
  partialTargets: number;
  falseSuccesses: number;
  tempFilesLeft: number;
  hangs: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
const heapMb = async () => {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await sleep(20);
  }
  return process.memoryUsage().heapUsed / 1048576;
};

/** Rejects with a 'hang' error when `p` is still pending `ms` after the call. */
async function bounded<T>(p: Promise<T>, ms: number, what: string, report: SoakReport): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      report.hangs++;
      reject(new Error(`hang: ${what} still pending after ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Commands the mock still runs that nobody terminated (after the client had time to send its Signals). */
async function runningOnMock(mock: MockServer, quietMs = 5000): Promise<number> {
  const count = () =>
    mock
      .shells()
      .flatMap((s) => s.commands)
      .filter((c) => c.state === 'Running' && !c.terminated).length;
  const until = Date.now() + quietMs;
  while (count() > 0 && Date.now() < until) await sleep(50);
  return count();
}

async function tempFiles(mock: MockServer): Promise<string[]> {
  const all = await readdir(mock.fileRoot, { recursive: true }).catch(() => [] as string[]);
  return all.map(String).filter((p) => /\.wrcp-[0-9a-f]{16}\.tmp$/.test(p));
}

export async function soak(log: (line: string) => void = console.log): Promise<SoakReport> {
  const report: SoakReport = {
    executes: 0,
    heapStartMb: 0,
    heapEndMb: 0,
    concurrent: { ok: 0, wrong: 0 },
    aborts: { aborted: 0, completed: 0, otherErrors: [] },
    cuts: { succeeded: 0, rejected: 0 },
    orphanedCommands: 0,
    shellsLeft: 0,
    partialTargets: 0,
    falseSuccesses: 0,
    tempFilesLeft: 0,
    hangs: 0,
  };
  const mock = await startMockServer({ auth: { basic: true }, allowUnencrypted: true });
  const options = {
    endpoint: mock.url,
    username: 'vagrant',
    password: 'vagrant',
    auth: 'basic' as const,
    allowUnencrypted: true,
  };
  let conn: Connection = await connect(options);
  try {
    // 1. Many executes on one connection.
    const warm = Math.min(500, EXECUTES);
    for (let i = 0; i < EXECUTES; i++) {
      if (i === warm) report.heapStartMb = await heapMb();
      const r = await bounded(conn.execute(`echo soak ${i}`), HANG_MS, `execute ${i}`, report);
      if (r.exitCode !== 0 || r.stdoutText.trim() !== `soak ${i}`)
        throw new Error(`execute ${i} came back wrong: ${JSON.stringify(r.stdoutText)}`);
      report.executes++;
      if (i > 0 && i % 2500 === 0) log(`soak: ${i} executes, heap ${(await heapMb()).toFixed(1)} MB`);
    }
    report.heapEndMb = await heapMb();
    if (EXECUTES <= warm) report.heapStartMb = report.heapEndMb;
    log(
      `soak: ${report.executes} executes, heap ${report.heapStartMb.toFixed(1)} -> ${report.heapEndMb.toFixed(1)} MB`,
    );

    // 2. Concurrent executes.
    const results = await Promise.allSettled(
      Array.from({ length: CONCURRENT }, (_, i) =>
        bounded(conn.execute(`echo c${i}`), HANG_MS, `concurrent ${i}`, report),
      ),
    );
    results.forEach((r, i) => {
      if (r.status === 'fulfilled' && r.value.stdoutText.trim() === `c${i}`) report.concurrent.ok++;
      else report.concurrent.wrong++;
    });
    log(`soak: ${CONCURRENT} concurrent: ${report.concurrent.ok} ok, ${report.concurrent.wrong} wrong`);

    // 3. Random aborts of long commands.
    for (let i = 0; i < ABORTS; i++) {
      const ac = new AbortController();
      const at = Math.floor(Math.random() * 300);
      const timer = setTimeout(() => ac.abort(), at);
      try {
        await bounded(conn.execute('mock-sleep 60000', { signal: ac.signal }), HANG_MS, `abort ${i}`, report);
        report.aborts.completed++;
      } catch (err) {
        if ((err as Error).name === 'AbortError') report.aborts.aborted++;
        else report.aborts.otherErrors.push(`${(err as Error).name}: ${(err as Error).message}`);
      } finally {
        clearTimeout(timer);
      }
    }
    report.orphanedCommands += await runningOnMock(mock);
    log(
      `soak: ${ABORTS} aborts: ${report.aborts.aborted} aborted, ${report.aborts.otherErrors.length} other errors, ` +
        `${report.orphanedCommands} orphaned`,
    );

    // 4. Uploads cut at random points. Each target starts as known old content.
    const size = 3 * 1024 * 1024 + 17;
    const chunkSize = 64 * 1024;
    for (let i = 0; i < CUTS; i++) {
      const data = randomBytes(size);
      const newHash = createHash('sha256').update(data).digest('hex');
      const old = Buffer.from(`old content ${i}\r\n`);
      const oldHash = createHash('sha256').update(old).digest('hex');
      const target = `C:\\soak\\cut-${i}.bin`;
      const hostPath = join(mock.fileRoot, 'C', 'soak', `cut-${i}.bin`);
      await rm(join(mock.fileRoot, 'C', 'soak'), { recursive: true, force: true }).catch(() => undefined);
      await conn.execute('mkdir C:\\soak').catch(() => undefined);
      await writeFile(hostPath, old);
      const ac = new AbortController();
      // Three kinds of cut: an abort at a random byte, the socket dropped at a random Send, a short deadline.
      const kind = i % 3;
      const byDrop = kind === 1;
      const cutAt = kind === 0 ? Math.floor(Math.random() * size * 1.2) : Number.POSITIVE_INFINITY;
      const timeout =
        kind === 2
          ? 1 + Math.floor(Math.random() < 0.5 ? Math.random() * 10 : Math.random() * 400)
          : undefined;
      if (byDrop)
        mock.inject({ match: { action: 'Send', nth: 1 + Math.floor(Math.random() * 12) }, kind: 'drop' });
      let ok = false;
      try {
        await bounded(
          conn.upload(data, target, {
            chunkSize,
            signal: ac.signal,
            timeout,
            onProgress: (p) => {
              if (!byDrop && p.bytes >= cutAt) ac.abort();
            },
          }),
          HANG_MS,
          `upload ${i}`,
          report,
        );
        ok = true;
        report.cuts.succeeded++;
      } catch {
        report.cuts.rejected++;
      }
      mock.clearInjections();
      const now = await readFile(hostPath).catch(() => undefined);
      const nowHash = now ? createHash('sha256').update(now).digest('hex') : 'missing';
      if (ok && nowHash !== newHash) report.falseSuccesses++;
      if (nowHash !== newHash && nowHash !== oldHash) report.partialTargets++;
      // A dropped socket may fail the connection's next call; a fresh connection keeps the phases independent.
      if (byDrop) {
        await bounded(conn.close(), HANG_MS, `close after cut ${i}`, report).catch(() => undefined);
        conn = await connect(options);
      }
    }
    report.orphanedCommands += await runningOnMock(mock);
    log(
      `soak: ${CUTS} cuts: ${report.cuts.succeeded} completed, ${report.cuts.rejected} rejected, ` +
        `${report.partialTargets} partial, ${report.falseSuccesses} false successes`,
    );
  } finally {
    await bounded(conn.close(), HANG_MS, 'final close', report).catch((err: Error) =>
      log(`close: ${err.message}`),
    );
    report.shellsLeft = mock.shells().length;
    report.tempFilesLeft = (await tempFiles(mock)).length;
    await mock.close();
  }
  return report;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (!gc) console.warn('soak: run with --expose-gc for meaningful heap figures');
  const started = Date.now();
  const r = await soak();
  console.log(JSON.stringify(r, null, 2));
  console.log(`soak: ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const bad =
    r.orphanedCommands +
    r.shellsLeft +
    r.partialTargets +
    r.falseSuccesses +
    r.tempFilesLeft +
    r.hangs +
    r.concurrent.wrong +
    r.aborts.otherErrors.length;
  const grew = r.heapEndMb - r.heapStartMb;
  if (bad > 0 || grew > HEAP_LIMIT_MB) {
    console.error(`soak: FAILED (${bad} bad counts, heap grew ${grew.toFixed(1)} MB)`);
    process.exit(1);
  }
}
