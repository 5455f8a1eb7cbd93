/** The upload / download CLI commands, non-TTY path (quiet), against the in-process mock. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.ts';
import { progressLine } from '../../src/cli/transfer.ts';
import { pseudoRandom, type TransferEnv, transferEnv, USER } from './helpers.ts';

let env: TransferEnv;
let local: string;

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const parts: Buffer[] = [];
  stream.on('data', (c: Buffer) => parts.push(c));
  return { stream, text: () => Buffer.concat(parts).toString('utf8') };
}

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = capture();
  const err = capture();
  const flags = ['--endpoint', env.mock.url, '-u', USER.name, '--allow-unencrypted'];
  const code = await main([args[0]!, ...flags, ...args.slice(1)], {
    stdout: out.stream,
    stderr: err.stream,
    env: { WINRM_PASSWORD: USER.password },
  });
  return { code, out: out.text(), err: err.text() };
}

before(async () => {
  env = await transferEnv();
  local = await mkdtemp(join(tmpdir(), 'wrcp-cli-'));
});
after(async () => {
  await env?.close();
  await rm(local, { recursive: true, force: true });
});

describe('CLI upload / download (not a TTY: quiet)', () => {
  it('uploads and downloads a file, printing nothing', async () => {
    const data = pseudoRandom(900_000, 2);
    await writeFile(join(local, 'a.bin'), data);
    const up = await run('upload', join(local, 'a.bin'), 'C:\\Users\\mover\\cli.bin');
    assert.deepEqual(up, { code: 0, out: '', err: '' });
    assert.deepEqual(await readFile(env.host('C:\\Users\\mover\\cli.bin')), data);
    const down = await run('download', 'C:\\Users\\mover\\cli.bin', join(local, 'b.bin'));
    assert.deepEqual(down, { code: 0, out: '', err: '' });
    assert.deepEqual(await readFile(join(local, 'b.bin')), data);
  });

  it('copies directories with -r', async () => {
    await mkdir(join(local, 'tree', 'empty'), { recursive: true });
    await mkdir(join(local, 'tree', 'sub & dir'), { recursive: true });
    await writeFile(join(local, 'tree', 'sub & dir', 'f 1.txt'), 'one');
    assert.equal((await run('upload', '-r', join(local, 'tree'), 'C:\\cli-tree')).code, 0);
    assert.equal((await run('download', '-r', 'C:\\cli-tree', join(local, 'back'))).code, 0);
    assert.equal(await readFile(join(local, 'back', 'sub & dir', 'f 1.txt'), 'utf8'), 'one');
  });

  it('exits 1 with the error message when the transfer fails, 2 on usage errors', async () => {
    const r = await run('download', 'C:\\nope.bin', join(local, 'nope.bin'));
    assert.equal(r.code, 1);
    assert.match(r.err, /remote file does not exist/);
    assert.equal((await run('upload', 'only-one-arg')).code, 2);
    const ow = await run('upload', '--no-overwrite', join(local, 'a.bin'), 'C:\\Users\\mover\\cli.bin');
    assert.equal(ow.code, 1);
    assert.match(ow.err, /already exists and overwrite is false/);
  });

  it('draws bytes, rate and ETA in the progress line', () => {
    const line = progressLine({ bytes: 50 * 1048576, total: 100 * 1048576, path: 'x' }, 5000, 100);
    assert.match(line, /^\[#{10,}\.{10,}\] 50\.0 MB \/ 100\.0 MB {2}10\.0 MB\/s {2}ETA 0:05$/);
    assert.match(progressLine({ bytes: 10, total: undefined, path: 'x' }, 0, 80), /ETA --:--/);
  });
});
