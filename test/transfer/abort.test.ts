/**
 * Stops at any moment of an upload (issue #11, items 1 and 5): an AbortSignal or a deadline that fires while the
 * remote process starts, while data flows, or while the remote verifies must never give a false success, a
 * partial target or a leftover temporary file; close() right after an abort waits for the remote cleanup.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AbortError, ConnectionError, connect, TimeoutError } from '../../src/index.ts';
import { pseudoRandom, sha, type TransferEnv, tempFiles, transferEnv, USER } from './helpers.ts';

const HOME = 'C:\\Users\\mover';
let env: TransferEnv;
let local: string;

before(async () => {
  env = await transferEnv();
  local = await mkdtemp(join(tmpdir(), 'wrcp-abort-'));
});
after(async () => {
  await env?.close();
  await rm(local, { recursive: true, force: true });
});

/** Seeded generator, so a failing run can be repeated (the seed is in the assertion messages). */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const isStop = (e: unknown) => e instanceof AbortError || e instanceof TimeoutError;

async function readOr(path: string): Promise<Buffer | undefined> {
  return readFile(path).catch(() => undefined);
}

/** The stop for run `i`: alternately an AbortController fired after `ms` and the `timeout` option. */
function stopFor(
  i: number,
  ms: number,
): { options: { signal?: AbortSignal; timeout?: number }; fired: () => void } {
  if (i % 3 === 0) return { options: { timeout: Math.max(1, ms) }, fired: () => undefined };
  if (i % 3 === 1)
    return { options: { signal: AbortSignal.timeout(Math.max(1, ms)) }, fired: () => undefined };
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), ms);
  return { options: { signal: ac.signal }, fired: () => clearTimeout(t) };
}

async function assertNoTemps(label: string): Promise<void> {
  assert.deepEqual(await tempFiles(env.mock.fileRoot), [], `${label}: no temporary file remains`);
}

describe('transfer: a stop at a random moment never gives a false success or a partial target', () => {
  it('upload(): 40 runs, stop at 0..span ms; each resolves complete or rejects with the old target kept', async (t) => {
    const data = pseudoRandom(1_500_000, 21);
    const old = Buffer.from('the old target');
    const remote = `${HOME}\\random-stop.bin`;
    // How long an unstopped (warm) upload takes here: the stops spread over that span (and a bit beyond).
    await env.conn.upload(data, remote);
    const t0 = performance.now();
    await env.conn.upload(data, remote);
    const span = Math.max(20, Math.ceil((performance.now() - t0) * 1.3));
    const rnd = prng(0x5eed);
    let successes = 0;
    let stops = 0;
    for (let i = 0; i < 40; i++) {
      await writeFile(env.host(remote), old);
      const ms = i < 4 ? i : Math.floor(rnd() * span);
      const stop = stopFor(i, ms);
      const label = `run ${i} (stop at ${ms} ms of ${span}, ${i % 3 === 0 ? 'timeout' : 'signal'})`;
      let outcome: unknown;
      try {
        outcome = await env.conn.upload(data, remote, stop.options);
      } catch (e) {
        outcome = e;
      } finally {
        stop.fired();
      }
      const now = await readOr(env.host(remote));
      if (outcome instanceof Error) {
        assert.ok(isStop(outcome), `${label}: rejected with ${String(outcome)}`);
        assert.deepEqual(now, old, `${label}: rejected, so the old target must be intact`);
        stops++;
      } else {
        const r = outcome as { bytes: number; sha256: string };
        assert.equal(r.bytes, data.length, `${label}: resolved with the full length`);
        assert.equal(r.sha256, sha(data), `${label}: resolved with the right hash`);
        assert.ok(now?.equals(data), `${label}: resolved, so the target must be the new content`);
        successes++;
      }
      await assertNoTemps(label);
    }
    t.diagnostic(`${stops} runs stopped, ${successes} resolved complete`);
    assert.ok(stops > 0, `some runs were stopped (${successes} resolved)`);
  });

  it('uploadDirectory(): 20 runs, stop at 0..span ms; every file old or new, all new on success', async (t) => {
    const src = join(local, 'tree');
    await mkdir(join(src, 'sub'), { recursive: true });
    const files = {
      'a.bin': pseudoRandom(400_000, 31),
      'sub\\b.bin': pseudoRandom(600_000, 32),
      'c.txt': Buffer.from('c'),
    };
    for (const [rel, content] of Object.entries(files))
      await writeFile(join(src, ...rel.split('\\')), content);
    const remoteDir = `${HOME}\\random-tree`;
    const t0 = performance.now();
    await env.conn.uploadDirectory(src, remoteDir);
    const span = Math.max(20, Math.ceil((performance.now() - t0) * 1.3));
    const olds = Object.fromEntries(Object.keys(files).map((rel) => [rel, Buffer.from(`old ${rel}`)]));
    const rnd = prng(0xd1e);
    let stops = 0;
    for (let i = 0; i < 20; i++) {
      for (const rel of Object.keys(files)) await writeFile(env.host(`${remoteDir}\\${rel}`), olds[rel]!);
      const ms = i < 3 ? i : Math.floor(rnd() * span);
      const stop = stopFor(i, ms);
      const label = `run ${i} (stop at ${ms} ms of ${span})`;
      let outcome: unknown;
      try {
        outcome = await env.conn.uploadDirectory(src, remoteDir, stop.options);
      } catch (e) {
        outcome = e;
      } finally {
        stop.fired();
      }
      const failed = outcome instanceof Error;
      if (failed) {
        assert.ok(isStop(outcome), `${label}: rejected with ${String(outcome)}`);
        stops++;
      } else {
        assert.equal((outcome as { files: unknown[] }).files.length, 3, `${label}: three files reported`);
      }
      for (const [rel, content] of Object.entries(files)) {
        const now = await readOr(env.host(`${remoteDir}\\${rel}`));
        if (failed) {
          assert.ok(now?.equals(content) || now?.equals(olds[rel]!), `${label}: ${rel} is either old or new`);
        } else {
          assert.ok(now?.equals(content), `${label}: resolved, so ${rel} must be new`);
        }
      }
      await assertNoTemps(label);
    }
    t.diagnostic(`${stops} runs stopped, ${20 - stops} resolved complete`);
    assert.ok(stops > 0, 'some runs were stopped');
  });

  it('a stop while the remote process is starting rejects (timeout: 1 and an already aborted signal)', async () => {
    const remote = `${HOME}\\start-stop.bin`;
    await writeFile(env.host(remote), 'old');
    await assert.rejects(env.conn.upload(pseudoRandom(200_000, 3), remote, { timeout: 1 }), TimeoutError);
    await assert.rejects(
      env.conn.upload(pseudoRandom(200_000, 3), remote, { signal: AbortSignal.abort() }),
      AbortError,
    );
    assert.equal(await readFile(env.host(remote), 'utf8'), 'old');
    await assertNoTemps('start-stop');
  });
});

describe('transfer: close() after an abort waits for the remote cleanup', () => {
  const open = () =>
    connect({
      endpoint: env.mock.url,
      username: USER.name,
      password: USER.password,
      allowUnencrypted: true,
      operationTimeout: 5000,
    });

  it('abort mid-upload, then close() at once (what the CLI does on Ctrl-C): no temporary file remains', async () => {
    const remote = `${HOME}\\ctrl-c.bin`;
    await writeFile(env.host(remote), 'before ctrl-c');
    const conn = await open();
    const ac = new AbortController();
    const upload = conn.upload(pseudoRandom(5_400_000, 5), remote, {
      signal: ac.signal,
      onProgress: (p) => {
        if (p.bytes > 600_000 && !ac.signal.aborted) {
          ac.abort();
          void conn.close();
        }
      },
    });
    await assert.rejects(upload, AbortError);
    await conn.close();
    assert.equal(await readFile(env.host(remote), 'utf8'), 'before ctrl-c');
    await assertNoTemps('ctrl-c');
  });

  it('close() in the middle of an upload (no abort): the upload rejects, no temporary file remains', async () => {
    const remote = `${HOME}\\close-mid.bin`;
    await writeFile(env.host(remote), 'before close');
    const conn = await open();
    let closing: Promise<void> | undefined;
    const upload = conn.upload(pseudoRandom(5_400_000, 6), remote, {
      onProgress: (p) => {
        if (p.bytes > 600_000) closing ??= conn.close();
      },
    });
    await assert.rejects(upload, (e: unknown) => {
      assert.ok(e instanceof ConnectionError, String(e));
      assert.match(e.message, /stopped because the connection was closed .*no temporary file remains/);
      return true;
    });
    await closing;
    await conn.close();
    assert.equal(await readFile(env.host(remote), 'utf8'), 'before close');
    await assertNoTemps('close-mid');
  });

  it('close() in the middle of a download: the download rejects, nothing partial is kept locally', async () => {
    const remote = `${HOME}\\close-down.bin`;
    await env.conn.upload(pseudoRandom(3_000_000, 7), remote);
    const conn = await open();
    const dest = join(local, 'close-down.bin');
    let closing: Promise<void> | undefined;
    const download = conn.download(remote, dest, {
      onProgress: (p) => {
        if (p.bytes > 0) closing ??= conn.close();
      },
    });
    await assert.rejects(download, ConnectionError);
    await closing;
    assert.equal(await readOr(dest), undefined, 'no local file');
    assert.deepEqual(await tempFiles(local), [], 'no local temporary file');
  });
});
