/**
 * The library bundled by a consumer's bundler (issue #11, item 19): esbuild's JS API bundles an entry that
 * imports src/index.ts, the bundle is written to a temporary directory outside the repository (no node_modules,
 * no .ps1 file beside it) and run there with node. It uploads to and downloads from the mock, which runs from
 * source in its own process. The transfer scripts must come from inside the bundle.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const index = fileURLToPath(new URL('../../src/index.ts', import.meta.url));
const mockMain = fileURLToPath(new URL('../transfer/mock-child.ts', import.meta.url));

const ENTRY = `
import { connect } from ${JSON.stringify(index)};
const [url, user, password] = process.argv.slice(2);
const conn = await connect({ endpoint: url, username: user, password, allowUnencrypted: true });
try {
  const data = Buffer.from('bundled upload: ' + 'x'.repeat(100000));
  const up = await conn.upload(data, 'C:\\\\Users\\\\' + user + '\\\\bundled.txt');
  const chunks = [];
  const { Writable } = await import('node:stream');
  await conn.download(up.remotePath, new Writable({ write(c, _e, cb) { chunks.push(c); cb(); } }));
  process.stdout.write(JSON.stringify({ bytes: up.bytes, sha256: up.sha256, back: Buffer.concat(chunks).equals(data) }));
} finally {
  await conn.close();
}
`;

describe('the library bundled with esbuild', { timeout: 120_000 }, () => {
  let work = '';
  let child: ChildProcess;
  let info: { url: string; fileRoot: string };
  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'winrm-bundle-'));
    child = spawn(process.execPath, ['--import', 'tsx', mockMain, 'bundler:Bund1e-pass'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    info = JSON.parse(line);
  });
  after(async () => {
    child?.kill('SIGTERM');
    if (child && child.exitCode === null) await once(child, 'exit');
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('uploads and downloads from a single-file bundle run outside the repository', async () => {
    const entry = join(work, 'entry.ts');
    writeFileSync(entry, ENTRY);
    const outfile = join(work, 'out', 'app.mjs');
    await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      logLevel: 'silent',
      // Some CommonJS dependencies call require() for Node built-ins: give the ES module bundle a require.
      banner: {
        js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
    });
    assert.deepEqual(
      readdirSync(join(work, 'out')),
      ['app.mjs'],
      'the bundle is one file, no .ps1 beside it',
    );
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [outfile, info.url, 'bundler', 'Bund1e-pass'],
      {
        cwd: join(work, 'out'),
        encoding: 'utf8',
      },
    );
    const r = JSON.parse(stdout) as { bytes: number; sha256: string; back: boolean };
    assert.equal(r.bytes, 100_016);
    assert.equal(r.back, true, 'the download returned the uploaded bytes');
    const written = readFileSync(join(info.fileRoot, 'C', 'Users', 'bundler', 'bundled.txt'), 'utf8');
    assert.equal(written, `bundled upload: ${'x'.repeat(100_000)}`);
  });
});
