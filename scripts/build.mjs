#!/usr/bin/env node
// Clean build of the published package: dist/ is removed first so no stale file from an older build can ship,
// then tsc (tsconfig.build.json: no source maps, src/ is not shipped) and the .ps1 assets copied beside the
// modules that read them.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';

rmSync('dist', { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);

for (const entry of readdirSync('src', { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.ps1')) continue;
  const from = join(entry.parentPath, entry.name);
  const to = join('dist', relative('src', from));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}
