import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '../src/index.ts';
import { proxied } from './lib/clients.ts';
import { startMockChild } from './lib/mock-process.ts';
const user = { name: 'bench', password: 'bench-pass' };
const dir = mkdtempSync(join(tmpdir(), 'tr-'));
const mock = await startMockChild({ auth: { basic: true }, allowUnencrypted: true, users: [user] });
const t = await proxied(mock.url, 10);
const src = join(dir, 'small.txt'); writeFileSync(src, 'hello world\n');
for (const op of ['upload', 'download', 'exec'] as const) {
  const lines: string[] = []; let t0 = 0;
  const logger = (ns: string, msg: string) => { if (ns.endsWith('wsman') && msg.startsWith('>>>')) lines.push(`${(performance.now() - t0).toFixed(1).padStart(7)} ${msg.slice(4, 40)}`); if (ns.endsWith('http')) lines.push(`${(performance.now() - t0).toFixed(1).padStart(7)}    ${msg.slice(0, 60)}`); };
  const c = await connect({ endpoint: t.url, username: user.name, password: user.password, allowUnencrypted: true, logger });
  await c.execute('echo warm');
  lines.length = 0; t0 = performance.now();
  if (op === 'upload') await c.upload(src, 'C:\\Users\\bench\\small.txt');
  else if (op === 'download') { await c.upload(src, 'C:\\Users\\bench\\small2.txt'); lines.length = 0; t0 = performance.now(); await c.download('C:\\Users\\bench\\small2.txt', join(dir, 'back.txt')); }
  else await c.execute('echo hi');
  console.log(op, (performance.now() - t0).toFixed(1), 'ms'); console.log(lines.join('\n'));
  await c.close();
}
await t.close(); await mock.stop();
