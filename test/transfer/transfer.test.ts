/** Upload and download over the mock: sizes, content, overwrite, errors, directories, faults. */
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { AbortError, TimeoutError, TransferError } from '../../src/index.ts';
import { hashingSink, pseudoRandom, sha, type TransferEnv, tempFiles, transferEnv } from './helpers.ts';

const HOME = 'C:\\Users\\mover';
let env: TransferEnv;
let local: string;
let chunk: number;

before(async () => {
  env = await transferEnv();
  local = await mkdtemp(join(tmpdir(), 'wrcp-test-'));
  // The first progress report of a large single-stream upload comes after exactly one chunk.
  let first = 0;
  await env.conn.upload(pseudoRandom(1_000_000), `${HOME}\\probe.bin`, {
    streams: 1,
    onProgress: (p) => {
      first ||= p.bytes;
    },
  });
  chunk = first;
});
after(async () => {
  await env?.close();
  await rm(local, { recursive: true, force: true });
});

async function noTemps(): Promise<void> {
  assert.deepEqual(await tempFiles(env.mock.fileRoot), [], 'no temporary file in the mock file area');
  assert.deepEqual(await tempFiles(local), [], 'no temporary file locally');
}

describe('transfer: sizes and content', () => {
  it('derives the chunk from the envelope: one base64 line fills one 512,000-byte Send', () => {
    // (512,000 - empty Send) x 3/4, minus the newline, x 3/4: about 287 KB.
    assert.ok(chunk > 280_000 && chunk < 288_000, `chunk ${chunk}`);
    assert.equal(chunk % 3, 0);
  });

  for (const [label, size] of [
    ['0 bytes', () => 0],
    ['1 byte', () => 1],
    ['chunk - 1', () => chunk - 1],
    ['chunk', () => chunk],
    ['chunk + 1', () => chunk + 1],
    ['10 MB', () => 10 * 1024 * 1024],
  ] as const) {
    it(`uploads and downloads ${label}; hashes equal both ways`, async () => {
      const data = pseudoRandom(size(), size() + 3);
      const remote = `${HOME}\\size-${label.replace(/\W+/g, '_')}.bin`;
      const up = await env.conn.upload(data, remote);
      assert.equal(up.bytes, data.length);
      assert.equal(up.sha256, sha(data));
      assert.equal(up.remotePath, remote);
      assert.ok(up.durationMs >= 0);
      assert.deepEqual(await readFile(env.host(remote)), data);
      const dest = join(local, `size-${size()}.bin`);
      const down = await env.conn.download(remote, dest);
      assert.equal(down.sha256, up.sha256);
      assert.equal(down.bytes, data.length);
      assert.deepEqual(await readFile(dest), data);
      await noTemps();
    });
  }

  it('keeps binary content of all byte values exact, from a file path, to a Writable', async () => {
    const data = Buffer.concat(
      Array.from({ length: 1000 }, () => Buffer.from(Array.from({ length: 256 }, (_, i) => i))),
    );
    const src = join(local, 'all-bytes.bin');
    await writeFile(src, data);
    const up = await env.conn.upload(src, `${HOME}\\all-bytes.bin`);
    assert.equal(up.sha256, sha(data));
    const sink = hashingSink();
    const down = await env.conn.download(`${HOME}\\all-bytes.bin`, sink.stream);
    assert.equal(sink.digest(), sha(data));
    assert.equal(down.sha256, sha(data));
    assert.ok(sink.stream.writableFinished, 'the Writable is ended on success');
  });

  it('streams a Readable source and reports progress up to the total', async () => {
    const parts = Array.from({ length: 40 }, (_, i) => pseudoRandom(33_333, i + 1));
    const seen: number[] = [];
    const up = await env.conn.upload(Readable.from(parts), `${HOME}\\stream.bin`, {
      onProgress: (p) => {
        seen.push(p.bytes);
        assert.equal(p.total, undefined);
        assert.equal(p.path, `${HOME}\\stream.bin`);
      },
    });
    assert.equal(up.sha256, sha(Buffer.concat(parts)));
    assert.equal(seen.at(-1), 40 * 33_333);
    const progress: Array<[number, number | undefined]> = [];
    await env.conn.download(`${HOME}\\stream.bin`, join(local, 'stream.bin'), {
      onProgress: (p) => progress.push([p.bytes, p.total]),
    });
    assert.deepEqual(progress.at(-1), [40 * 33_333, 40 * 33_333]);
  });

  it('resolves a relative remote path against the working directory, as Windows does', async () => {
    const up = await env.conn.upload(Buffer.from('relative'), 'relative.txt');
    assert.equal(up.remotePath, `${HOME}\\relative.txt`);
  });

  it('sends at least 0.55 payload bytes per HTTP body byte at 512,000-byte envelopes', async () => {
    const data = pseudoRandom(10 * 1024 * 1024, 99);
    const before = env.mock.stats.bytesIn;
    await env.conn.upload(data, `${HOME}\\ratio.bin`);
    const ratio = data.length / (env.mock.stats.bytesIn - before);
    assert.ok(ratio >= 0.55, `payload ratio ${ratio.toFixed(4)}`);
  });
});

describe('transfer: overwrite and errors', () => {
  it('overwrite true replaces, overwrite false refuses and keeps the old file', async () => {
    const remote = `${HOME}\\ow.txt`;
    await env.conn.upload(Buffer.from('old'), remote);
    await env.conn.upload(Buffer.from('new'), remote);
    assert.equal(await readFile(env.host(remote), 'utf8'), 'new');
    await assert.rejects(
      env.conn.upload(Buffer.from('newer'), remote, { overwrite: false }),
      (e: unknown) => {
        assert.ok(e instanceof TransferError);
        assert.equal(e.reason, 'EXISTS');
        assert.match(e.message, /already exists and overwrite is false/);
        assert.match(e.message, /overwrite: true/);
        return true;
      },
    );
    assert.equal(await readFile(env.host(remote), 'utf8'), 'new');
    const fresh = await env.conn.upload(Buffer.from('x'), `${HOME}\\ow-fresh.txt`, { overwrite: false });
    assert.equal(fresh.bytes, 1);
    const dest = join(local, 'ow-local.txt');
    await writeFile(dest, 'local');
    await assert.rejects(
      env.conn.download(remote, dest, { overwrite: false }),
      /already exists and overwrite is false/,
    );
    assert.equal(await readFile(dest, 'utf8'), 'local');
    await env.conn.download(remote, dest);
    assert.equal(await readFile(dest, 'utf8'), 'new');
    await noTemps();
  });

  it('names a missing remote directory', async () => {
    await assert.rejects(env.conn.upload(Buffer.from('x'), 'C:\\no\\such\\dir\\f.txt'), (e: unknown) => {
      assert.ok(e instanceof TransferError);
      assert.equal(e.reason, 'NO_DIR');
      assert.equal(e.remotePath, 'C:\\no\\such\\dir\\f.txt');
      assert.match(e.message, /remote directory "C:\\no\\such\\dir" does not exist/);
      return true;
    });
  });

  it('names access denied for a read-only target and for a directory without write access', async () => {
    const remote = `${HOME}\\readonly.txt`;
    await env.conn.upload(Buffer.from('keep'), remote);
    await chmod(env.host(remote), 0o444);
    await assert.rejects(
      env.conn.upload(pseudoRandom(500_000), remote),
      /access denied on the remote host .*Access to the path 'C:\\Users\\mover\\readonly\.txt' is denied/,
    );
    assert.equal(await readFile(env.host(remote), 'utf8'), 'keep');
    await mkdir(env.host('C:\\locked'), { recursive: true });
    await chmod(env.host('C:\\locked'), 0o555);
    await assert.rejects(env.conn.upload(Buffer.from('x'), 'C:\\locked\\f.txt'), /access denied/);
    await noTemps();
  });

  it('names a missing remote file on download and writes nothing locally', async () => {
    const dest = join(local, 'missing.bin');
    await assert.rejects(env.conn.download(`${HOME}\\missing.bin`, dest), (e: unknown) => {
      assert.ok(e instanceof TransferError);
      assert.equal(e.reason, 'NOT_FOUND');
      assert.match(e.message, /the remote file does not exist/);
      return true;
    });
    await assert.rejects(stat(dest));
    await assert.rejects(
      env.conn.download(HOME, join(local, 'dir.bin')),
      /is a directory.*downloadDirectory/,
    );
    await noTemps();
  });

  it('refuses bad options and paths with InvalidArgumentError / TransferError', async () => {
    await assert.rejects(env.conn.upload(Buffer.from('x'), `${HOME}\\x`, { chunkSize: 0 }), /chunkSize/);
    await assert.rejects(env.conn.upload(Buffer.from('x'), ''), /remote path/);
    await assert.rejects(env.conn.upload(join(local, 'nope'), `${HOME}\\x`), /Cannot read the local file/);
    await assert.rejects(env.conn.upload(Buffer.from('x'), `${HOME}\\bad|name`), /not valid on Windows/);
  });

  it('works with a small chunkSize (many lines per Send)', async () => {
    const data = pseudoRandom(100_000, 5);
    const up = await env.conn.upload(data, `${HOME}\\small-chunks.bin`, { chunkSize: 1000 });
    assert.equal(up.sha256, sha(data));
    const sink = hashingSink();
    await env.conn.download(`${HOME}\\small-chunks.bin`, sink.stream, { chunkSize: 999 });
    assert.equal(sink.digest(), sha(data));
  });
});

describe('transfer: directories', () => {
  const names = ['plain', 'with space', 'ünïcødé ☃', 'a&b', '100%', 'x^y', 'mixed & %PATH% ^'];

  it('round-trips 1,000 small files and nested empty folders; names with spaces, Unicode, & % ^', async () => {
    const src = join(local, 'tree-src');
    const expected = new Map<string, Buffer>();
    for (let i = 0; i < 1000; i++) {
      const dir = join(names[i % names.length]!, `sub ${i % 10}`);
      const rel = join(dir, `${names[(i * 3) % names.length]} file ${i}.txt`);
      const data = i % 50 === 0 ? Buffer.alloc(0) : pseudoRandom(1 + (i % 700), i + 11);
      await mkdir(join(src, dir), { recursive: true });
      await writeFile(join(src, rel), data);
      expected.set(rel, data);
    }
    const empties = ['empty', join('nested', 'empty & deep', 'ünïcødé'), join('a&b', 'leer %x%')];
    for (const e of empties) await mkdir(join(src, e), { recursive: true });

    const remote = 'C:\\deploy\\tree with space';
    const up = await env.conn.uploadDirectory(src, remote);
    assert.equal(up.files.length, 1000);
    assert.equal(up.remotePath, remote);
    for (const f of up.files) {
      const rel = f.remotePath
        .slice(remote.length + 1)
        .split('\\')
        .join('/');
      assert.equal(f.sha256, sha(expected.get(rel)!), rel);
    }
    for (const [rel, data] of expected)
      assert.deepEqual(await readFile(join(env.host(remote), rel)), data, rel);
    for (const e of empties) assert.ok((await stat(join(env.host(remote), e))).isDirectory(), e);

    const back = join(local, 'tree-back');
    const down = await env.conn.downloadDirectory(remote, back);
    assert.equal(down.files.length, 1000);
    const upHashes = new Map(up.files.map((f) => [f.remotePath, f.sha256]));
    for (const f of down.files) assert.equal(f.sha256, upHashes.get(f.remotePath), f.remotePath);
    for (const [rel, data] of expected) assert.deepEqual(await readFile(join(back, rel)), data, rel);
    for (const e of empties) {
      assert.ok((await stat(join(back, e))).isDirectory(), e);
      assert.deepEqual(await readdir(join(back, e)).then((l) => l.filter((n) => !n.includes('ünïcødé'))), []);
    }
    await noTemps();
  });

  it('names a missing remote directory on downloadDirectory', async () => {
    await assert.rejects(
      env.conn.downloadDirectory('C:\\nowhere', join(local, 'nowhere')),
      /remote directory does not exist/,
    );
  });
});

describe('transfer: faults (target old or complete new, never partial; no temporary files)', () => {
  it('connection dropped mid-upload: TransferError naming it, old target kept, temp removed by cleanup', async () => {
    const remote = `${HOME}\\drop.bin`;
    await env.conn.upload(Buffer.from('old content'), remote);
    env.mock.inject({ match: { action: 'Send', nth: 6 }, kind: 'drop' });
    await assert.rejects(env.conn.upload(pseudoRandom(10 * 1024 * 1024, 3), remote), (e: unknown) => {
      assert.ok(e instanceof TransferError, String(e));
      assert.match(
        e.message,
        /connection to the host failed after \d+ bytes.*target was left as it was and the temporary file was removed/,
      );
      return true;
    });
    assert.equal(await readFile(env.host(remote), 'utf8'), 'old content');
    await noTemps();
    // The connection still works afterwards.
    assert.equal((await env.conn.upload(Buffer.from('after'), remote)).bytes, 5);
  });

  it('cancel through an AbortSignal mid-upload: AbortError, old target kept, no temp', async () => {
    const remote = `${HOME}\\cancel.bin`;
    await env.conn.upload(Buffer.from('before cancel'), remote);
    const ac = new AbortController();
    await assert.rejects(
      env.conn.upload(pseudoRandom(10 * 1024 * 1024, 4), remote, {
        signal: ac.signal,
        onProgress: (p) => {
          if (p.bytes > 2 * chunk) ac.abort();
        },
      }),
      (e: unknown) => {
        assert.ok(e instanceof AbortError, String(e));
        assert.match(e.message, /cancelled after \d+ bytes; the target was left as it was/);
        return true;
      },
    );
    assert.equal(await readFile(env.host(remote), 'utf8'), 'before cancel');
    await noTemps();
  });

  it('cancel mid-download: AbortError, nothing written locally', async () => {
    await env.conn.upload(pseudoRandom(5 * 1024 * 1024, 8), `${HOME}\\cancel-down.bin`);
    const ac = new AbortController();
    const dest = join(local, 'cancel-down.bin');
    await assert.rejects(
      env.conn.download(`${HOME}\\cancel-down.bin`, dest, {
        signal: ac.signal,
        onProgress: (p) => {
          if (p.bytes > 0) ac.abort();
        },
      }),
      AbortError,
    );
    await assert.rejects(stat(dest));
    await noTemps();
  });

  it('a deadline stops an upload with TimeoutError and keeps the old target', async () => {
    const remote = `${HOME}\\deadline.bin`;
    await env.conn.upload(Buffer.from('old'), remote);
    env.mock.inject({ match: { action: 'Send' }, kind: 'delay', delayMs: 400, once: false });
    try {
      await assert.rejects(
        env.conn.upload(pseudoRandom(3 * 1024 * 1024), remote, { timeout: 600 }),
        TimeoutError,
      );
    } finally {
      env.mock.clearInjections();
    }
    assert.equal(await readFile(env.host(remote), 'utf8'), 'old');
    await noTemps();
  });

  it('hash mismatch injected by the mock on upload: TransferError, old target kept, temp removed', async () => {
    const remote = `${HOME}\\corrupt.bin`;
    await env.conn.upload(Buffer.from('good'), remote);
    env.faults.corruptNextUpload();
    await assert.rejects(env.conn.upload(pseudoRandom(1_000_000, 6), remote), (e: unknown) => {
      assert.ok(e instanceof TransferError);
      assert.equal(e.reason, 'HASH_MISMATCH');
      assert.match(
        e.message,
        /hash mismatch.*the target was not replaced and the temporary file was removed/,
      );
      return true;
    });
    assert.equal(await readFile(env.host(remote), 'utf8'), 'good');
    await noTemps();
  });

  it('hash mismatch injected by the mock on download: TransferError, local target untouched', async () => {
    await env.conn.upload(pseudoRandom(700_000, 9), `${HOME}\\corrupt-down.bin`);
    const dest = join(local, 'corrupt-down.bin');
    await writeFile(dest, 'previous');
    env.faults.corruptNextDownload();
    await assert.rejects(
      env.conn.download(`${HOME}\\corrupt-down.bin`, dest),
      /failed verification: hash mismatch/,
    );
    assert.equal(await readFile(dest, 'utf8'), 'previous');
    await noTemps();
  });
});

describe('transfer: the mock runs no PowerShell it does not know', () => {
  it('fails an arbitrary PowerShell script loudly (stderr, exit code 1)', async () => {
    const r = await env.conn.executePowerShell('Write-Output "hello"');
    assert.equal(r.exitCode, 1);
    assert.match(r.stderrText, /mock: powershell\.exe cannot run .*runs no PowerShell/);
  });

  it('fails a transfer script altered by one character', async () => {
    const { transferCommandLine, scriptText } = await import('../../src/transfer/scripts.ts');
    const altered = `${scriptText('upload')} `;
    const r = await env.conn.execute(transferCommandLine(), {
      stdin: `${Buffer.from(altered).toString('base64')}\n#Q\n`,
    });
    assert.equal(r.exitCode, 1);
    assert.equal(r.stdoutText, '');
    assert.match(r.stderrText, /cannot run the script it read from stdin/);
  });
});
