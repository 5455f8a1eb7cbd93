/**
 * The package as a consumer gets it: `npm pack` of a clean copy of the project, the tarball installed next to
 * the runtime dependencies only (no network, no devDependencies), both entry points loaded from a CommonJS and
 * from an ES module file, the types entries present, and the tarball listing checked.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const STALE = 'dist/stale-from-an-old-build.js';

interface PackEntry {
  filename: string;
  files: { path: string }[];
}

let work = '';
let listed: string[] = [];
let consumer = '';

function npm(args: string[], cwd: string): string {
  return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function node(file: string): string {
  return execFileSync(process.execPath, [file], {
    cwd: consumer,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('the npm package', { timeout: 300_000 }, () => {
  before(() => {
    work = mkdtempSync(join(tmpdir(), 'winrm-pack-'));
    const project = join(work, 'project');
    mkdirSync(project);
    for (const f of [
      'package.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
    ]) {
      cpSync(join(root, f), join(project, f));
    }
    for (const d of ['src', 'scripts']) cpSync(join(root, d), join(project, d), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(project, 'node_modules'), 'dir');
    // A file an older build left behind: a clean build must not ship it.
    mkdirSync(join(project, 'dist'));
    writeFileSync(join(project, STALE), 'export {};\n');

    const dry = JSON.parse(npm(['pack', '--dry-run', '--json'], project)) as PackEntry[];
    listed = dry[0]!.files.map((f) => f.path).sort();
    const packed = JSON.parse(
      npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work], project),
    ) as PackEntry[];
    assert.deepEqual(
      packed[0]!.files.map((f) => f.path).sort(),
      listed,
      'the tarball holds what dry-run listed',
    );

    // Install: the tarball extracted into node_modules, next to the runtime dependencies it declares (linked
    // from this checkout: no network). devDependencies are not there, as for a consumer.
    consumer = join(work, 'consumer');
    const pkgDir = join(consumer, 'node_modules', 'winrm-connection');
    mkdirSync(pkgDir, { recursive: true });
    execFileSync('tar', ['xzf', join(work, packed[0]!.filename), '-C', pkgDir, '--strip-components=1']);
    const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dep of Object.keys(manifest.dependencies ?? {})) {
      const link = join(consumer, 'node_modules', dep);
      mkdirSync(join(link, '..'), { recursive: true });
      symlinkSync(join(root, 'node_modules', dep), link, 'dir');
    }
    writeFileSync(join(consumer, 'package.json'), '{ "name": "consumer", "private": true }\n');
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('ships README, LICENSE, CHANGELOG, the .ps1 assets and the entry points', () => {
    for (const f of [
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'package.json',
      'dist/index.js',
      'dist/index.d.ts',
      // The client's copy of the scripts (the .ps1 files are read by the mock only).
      'dist/transfer/scripts.generated.js',
    ]) {
      assert.ok(listed.includes(f), f);
    }
    const assets = readdirSync(join(root, 'src/transfer')).filter((f) => f.endsWith('.ps1'));
    assert.ok(assets.length > 0);
    for (const a of assets) assert.ok(listed.includes(`dist/transfer/${a}`), a);
  });

  it('ships no stale file and no source map pointing at files that are not shipped', () => {
    assert.ok(!listed.includes(STALE), 'stale file from an old build is gone');
    for (const f of listed.filter((p) => p.startsWith('dist/'))) {
      if (f.endsWith('.map')) {
        const map = JSON.parse(readFileSync(join(consumer, 'node_modules/winrm-connection', f), 'utf8')) as {
          sources: string[];
        };
        for (const s of map.sources) assert.ok(listed.includes(join(f, '..', s)), `${f} -> ${s}`);
        continue;
      }
      // Every built file has its source: .js / .d.ts from a .ts, assets copied as they are.
      const source = f.replace(/^dist\//, 'src/').replace(/\.d\.ts$|\.js$/, '.ts');
      assert.ok(existsSync(join(root, source)), `${f} has no source ${source}`);
    }
  });

  it('has repository, homepage and bugs, and no prepare script', () => {
    const pkg = JSON.parse(
      readFileSync(join(consumer, 'node_modules/winrm-connection/package.json'), 'utf8'),
    );
    assert.match(pkg.repository.url, /github\.com\/winrm-connection\/winrm-connection/);
    assert.match(pkg.homepage, /^https:\/\//);
    assert.match(pkg.bugs.url, /\/issues$/);
    assert.equal(pkg.scripts?.prepare, undefined);
  });

  it('the types entry of every export exists', () => {
    const pkg = JSON.parse(
      readFileSync(join(consumer, 'node_modules/winrm-connection/package.json'), 'utf8'),
    );
    for (const [entry, target] of Object.entries(pkg.exports as Record<string, unknown>)) {
      if (typeof target === 'string') continue;
      const types = (target as { types?: string }).types;
      assert.ok(types, `${entry} has a types condition`);
      assert.ok(existsSync(join(consumer, 'node_modules/winrm-connection', types)), `${entry}: ${types}`);
    }
  });

  it('every bin exists with a shebang; winrs-emulator fails a malformed command line as winrs.exe does', () => {
    const root = join(consumer, 'node_modules/winrm-connection');
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    assert.deepEqual(Object.keys(pkg.bin).sort(), ['winrm-connection', 'winrs-emulator']);
    for (const [name, file] of Object.entries(pkg.bin)) {
      assert.ok(existsSync(join(root, file)), `${name}: ${file} missing`);
      assert.match(
        readFileSync(join(root, file), 'utf8'),
        /^#!\/usr\/bin\/env node\n/,
        `${name}: no shebang`,
      );
    }
    const r = spawnSync(process.execPath, [join(root, pkg.bin['winrs-emulator']!), '-bogus', 'x'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^Winrs error:Invalid use of command line/);
  });

  it('loads both entry points with require() from a CommonJS file, as the same modules import() gives', () => {
    writeFileSync(
      join(consumer, 'load.cjs'),
      `const lib = require('winrm-connection');
const mock = require('winrm-connection/mock');
import('winrm-connection').then((esm) => {
  console.log(JSON.stringify({
    connect: typeof lib.connect,
    startMockServer: typeof mock.startMockServer,
    sameModule: esm.WinRmError === lib.WinRmError,
  }));
});
`,
    );
    assert.deepEqual(JSON.parse(node('load.cjs')), {
      connect: 'function',
      startMockServer: 'function',
      sameModule: true,
    });
  });

  it('loads both entry points with import from an ES module file', () => {
    writeFileSync(
      join(consumer, 'load.mjs'),
      `import { connect, WinRmError } from 'winrm-connection';
import { startMockServer } from 'winrm-connection/mock';
console.log(JSON.stringify({ connect: typeof connect, startMockServer: typeof startMockServer, error: typeof WinRmError }));
`,
    );
    assert.deepEqual(JSON.parse(node('load.mjs')), {
      connect: 'function',
      startMockServer: 'function',
      error: 'function',
    });
  });
});
