/**
 * `node --import tsx bench/receive-garbage.ts`: where the output-memory floor of issue 15 comes from,
 * without a network. It replays the allocations one Receive of about 500 KB makes while execute() keeps 64 MiB of
 * stdout in a resizable store (as src/process/io.ts does), and reports peak RSS growth over the output size for
 * each mix of them:
 *  - reads: the socket's 64 KiB chunks that node:http hands up (a new ArrayBuffer per read);
 *  - concat: axios joining them into one body Buffer;
 *  - string: the body as a latin1 string (parseXml; Node 20 decodes base64 only from a string);
 *  - decode: the stream's bytes decoded into their own Buffer, then copied into the store. Without it they are
 *    decoded straight into the store, which is the least any design can do.
 * Each mix runs in its own child process, BENCH_GARBAGE_RUNS times (default 3); the median is reported.
 * The first line (all four) is what the client does today; what is left with only reads and string is the
 * floor while node:http reads the socket and V8 decodes base64 from strings.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { median, roundsFrom } from './lib/rounds.ts';

const OUTPUT = 64 * 1024 * 1024;
const PER_RECEIVE = 380_000; // bytes of stdout in one Receive of MaxEnvelopeSize 512,000 (base64 inside XML)
const READ = 64 * 1024;

const PARTS = ['reads', 'concat', 'string', 'join', 'decode'] as const;
type Part = (typeof PARTS)[number];
const MIXES: Part[][] = [
  ['reads', 'concat', 'string', 'decode'],
  ['reads', 'string', 'decode'],
  ['reads', 'concat', 'string'],
  ['reads', 'string'],
  ['reads'],
  ['reads', 'join', 'decode'],
  ['reads', 'join'],
];

/** One mix in this process: returns peak RSS growth in bytes. */
async function replay(parts: ReadonlySet<Part>): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc)
    throw new Error(
      'a single mix runs with node --expose-gc; run the script without arguments for all of them',
    );
  const base64 = Buffer.alloc(PER_RECEIVE, 0x5a).toString('base64');
  const wire = Buffer.from(`<rsp:Stream>${base64}</rsp:Stream>`, 'latin1');
  const open = '<rsp:Stream>'.length;
  const store = new (
    ArrayBuffer as unknown as new (
      n: number,
      o: { maxByteLength: number },
    ) => ArrayBuffer & { resize(n: number): void }
  )(0, { maxByteLength: 2 * OUTPUT });
  gc();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  const timer = setInterval(sample, 2);
  let kept = 0;
  while (kept < OUTPUT) {
    const chunks: Buffer[] = [];
    if (parts.has('reads')) {
      for (let at = 0; at < wire.length; at += READ) {
        const c = Buffer.allocUnsafe(Math.min(READ, wire.length - at));
        wire.copy(c, 0, at);
        chunks.push(c);
      }
    }
    const body = parts.has('concat') ? Buffer.concat(chunks) : wire;
    const text = parts.has('join')
      ? chunks.map((c) => c.toString('latin1')).join('')
      : parts.has('string')
        ? body.toString('latin1')
        : undefined;
    const b64 = text === undefined ? base64 : text.slice(open, text.length - open - 1);
    const n = Math.min(PER_RECEIVE, OUTPUT - kept);
    store.resize(kept + n);
    const target = Buffer.from(store, kept, n);
    if (parts.has('decode')) Buffer.from(b64, 'base64').copy(target, 0, 0, n);
    else target.write(b64, 0, n, 'base64');
    kept += n;
    sample();
    await new Promise((r) => setImmediate(r)); // one Receive per turn of the event loop, as on a socket
  }
  clearInterval(timer);
  sample();
  return peak - rss0;
}

const [, , mode] = process.argv;
if (mode) {
  // One mix, in a child started by the loop below (with --expose-gc): a misspelt part would replay less.
  const parts = mode.split(',');
  const unknown = parts.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length > 0)
    throw new RangeError(`unknown allocation part(s) ${unknown.join(', ')}; known: ${PARTS.join(', ')}`);
  console.log(JSON.stringify({ growth: await replay(new Set(parts as Part[])) }));
} else {
  const runs = roundsFrom(process.env.BENCH_GARBAGE_RUNS, 'BENCH_GARBAGE_RUNS', 3);
  const self = fileURLToPath(import.meta.url);
  console.log(`| allocations per Receive | peak RSS growth / 64 MiB kept (median of ${runs}) | runs |`);
  console.log('| --- | ---: | --- |');
  for (const mix of MIXES) {
    const growth: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', self, mix.join(',')], {
        encoding: 'utf8',
      });
      if (r.status !== 0) throw new Error(`replay ${mix.join(',')} failed: ${r.stderr.slice(0, 300)}`);
      growth.push((JSON.parse(r.stdout.trim()) as { growth: number }).growth / OUTPUT);
    }
    console.log(
      `| ${mix.join(' + ')} | ${median(growth).toFixed(2)}x | ${growth.map((g) => g.toFixed(2)).join(', ')} |`,
    );
  }
}
