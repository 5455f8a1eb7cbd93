/**
 * The fan-out measured alone in its own process (so the harness does not pollute its RSS):
 * `node bench/lib/fanout-child.mjs DIST '{"urls":[...],"hosts":1000,"concurrency":100,"user":..}'`, plain JavaScript
 * under plain node, importing the BUILT library from DIST (the dist/ directory of `node scripts/build.mjs`), as
 * users run it: no tsx loader and no TypeScript source in the measured process.
 * Hosts are spread round-robin over the given endpoints (each a mock process, maybe behind a latency proxy);
 * every host is its own connection. Prints one JSON line: { hosts, ok, failed, firstError, seconds, rssBefore,
 * peakRss, budget }.
 */
import { pathToFileURL } from 'node:url';

const [dist, cfgText] = process.argv.slice(2);
const { fanOut, ResourceBudget } = await import(pathToFileURL(`${dist}/index.js`).href);
/** @type {{ urls: string[], hosts: number, concurrency: number, user: string, password: string }} */
const cfg = JSON.parse(cfgText);
const hosts = Array.from({ length: cfg.hosts }, (_, i) => {
  const u = new URL(cfg.urls[i % cfg.urls.length]);
  return { host: `host${String(i).padStart(4, '0')}`, options: { endpoint: u.toString() } };
});
const budget = new ResourceBudget({ sockets: 2 * cfg.concurrency, shells: cfg.concurrency });
const rssBefore = process.memoryUsage.rss();
let peak = rssBefore;
const sampler = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage.rss());
}, 10);
let ok = 0;
let failed = 0;
/** @type {string | undefined} */
let firstError;
const t0 = performance.now();
for await (const r of fanOut(
  hosts,
  { command: 'echo fanned' },
  {
    connection: { username: cfg.user, password: cfg.password, allowUnencrypted: true },
    concurrency: cfg.concurrency,
    budget,
  },
)) {
  if (r.ok && r.stdout === 'fanned\r\n') ok++;
  else {
    failed++;
    firstError ??= r.error ? `${r.error.name}: ${r.error.message}` : `exit ${r.exitCode}`;
  }
}
const seconds = (performance.now() - t0) / 1000;
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage.rss());
console.log(
  JSON.stringify({
    hosts: cfg.hosts,
    ok,
    failed,
    firstError,
    seconds,
    rssBefore,
    peakRss: peak,
    budget: budget.stats(),
  }),
);
