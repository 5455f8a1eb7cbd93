/**
 * Parallel streams (issue 15): one file over several remote processes at once, one SHA-256 over the whole file,
 * the same atomic rename and cleanup. Content and hashes around chunk and range boundaries with 1..4 streams, a
 * stream whose connection is cut, stops at random moments, a shell budget smaller than `streams`, overwrite
 * false, injected corruption, and directories spread over the streams.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AbortError, connect, InvalidArgumentError, TimeoutError, TransferError } from '../../src/index.ts';
import { builtinsHost } from '../../src/mock/hosts/builtins.ts';
import { startMockServer } from '../../src/mock/index.ts';
import { pseudoRandom, sha, type TransferEnv, tempFiles, transferEnv, USER } from './helpers.ts';

const HOME = 'C:\\Users\\mover';
let env: TransferEnv;
let local: string;

before(async () => {
  env = await transferEnv();
  local = await mkdtemp(join(tmpdir(), 'wrcp-parallel-'));
});
after(async () => {
  await env?.close();
  await rm(local, { recursive: true, force: true });
});

async function noTemps(label = ''): Promise<void> {
  assert.deepEqual(await tempFiles(env.mock.fileRoot), [], `${label} no temporary file remotely`);
  assert.deepEqual(await tempFiles(local), [], `${label} no temporary file locally`);
}

const commands = () => env.mock.stats.commandsStarted;

describe('parallel transfers: content and one SHA-256 over the whole file', () => {
  it('several remote processes carry one upload and one download (streams: 4)', async () => {
    const data = pseudoRandom(6 * 1024 * 1024, 11);
    const remote = `${HOME}\\par-6mb.bin`;
    let before = commands();
    const up = await env.conn.upload(data, remote, { streams: 4 });
    const upCommands = commands() - before;
    assert.equal(up.sha256, sha(data));
    assert.equal(sha(await readFile(env.host(remote))), sha(data));
    assert.ok(upCommands >= 2, `upload used ${upCommands} remote processes, expected several`);
    before = commands();
    const dest = join(local, 'par-6mb.bin');
    const down = await env.conn.download(remote, dest, { streams: 4 });
    const downCommands = commands() - before;
    assert.equal(down.sha256, sha(data));
    assert.equal(sha(await readFile(dest)), sha(data));
    assert.ok(downCommands >= 2, `download used ${downCommands} remote processes, expected several`);
    await noTemps();
  });

  it('streams: 1 uses one process (the protocol of before)', async () => {
    const data = pseudoRandom(2 * 1024 * 1024, 12);
    const before = commands();
    await env.conn.upload(data, `${HOME}\\one.bin`, { streams: 1 });
    assert.equal(commands() - before, 1);
  });

  it('sizes around chunk and range boundaries, 1, 2 and 4 streams, from a Buffer and a path, to a path', async () => {
    const c = 3000;
    const sizes = [0, 1, c - 1, c, c + 1, 2 * c + 1, 17 * c + 5, 70 * c - 1];
    for (const streams of [1, 2, 4]) {
      for (const size of sizes) {
        const label = `${size} bytes, ${streams} streams`;
        const data = pseudoRandom(size, size + streams);
        const remote = `${HOME}\\b-${size}-${streams}.bin`;
        const fromPath = size % 2 === 0;
        let source: string | Buffer = data;
        if (fromPath) {
          source = join(local, `src-${size}-${streams}.bin`);
          await writeFile(source, data);
        }
        const up = await env.conn.upload(source, remote, { streams, chunkSize: c });
        assert.equal(up.bytes, size, label);
        assert.equal(up.sha256, sha(data), label);
        assert.ok((await readFile(env.host(remote))).equals(data), `${label}: remote content`);
        const dest = join(local, `d-${size}-${streams}.bin`);
        const down = await env.conn.download(remote, dest, { streams, chunkSize: c });
        assert.equal(down.sha256, sha(data), label);
        assert.ok((await readFile(dest)).equals(data), `${label}: local content`);
      }
    }
    await noTemps();
  });

  it('refuses streams outside 1..16 with InvalidArgumentError', async () => {
    for (const streams of [0, 17, 1.5]) {
      await assert.rejects(
        env.conn.upload(Buffer.from('x'), `${HOME}\\x.bin`, { streams }),
        InvalidArgumentError,
      );
      await assert.rejects(
        env.conn.download(`${HOME}\\x.bin`, join(local, 'x'), { streams }),
        InvalidArgumentError,
      );
    }
  });
});

describe('parallel transfers: failures leave the old target and no temporary file', () => {
  it('a stream whose connection is cut mid-upload fails the whole upload cleanly', async () => {
    const remote = `${HOME}\\cut.bin`;
    for (const nth of [3, 6, 9, 14]) {
      await writeFile(env.host(remote), 'old content');
      env.mock.inject({ match: { action: 'Send', nth }, kind: 'drop' });
      await assert.rejects(
        env.conn.upload(pseudoRandom(8 * 1024 * 1024, nth), remote, { streams: 4 }),
        (e: unknown) => {
          assert.ok(e instanceof TransferError, `Send ${nth}: ${String(e)}`);
          assert.match(e.message, /target was left as it was and the temporary file was removed/);
          return true;
        },
      );
      assert.equal(await readFile(env.host(remote), 'utf8'), 'old content', `Send ${nth}`);
      await noTemps(`Send ${nth}:`);
    }
    // The connection still works afterwards.
    const after = pseudoRandom(1_000_000, 99);
    assert.equal((await env.conn.upload(after, remote, { streams: 4 })).sha256, sha(after));
  });

  it('a stream whose connection is cut mid-download fails the download; the destination is untouched', async () => {
    const remote = `${HOME}\\cut-down.bin`;
    await env.conn.upload(pseudoRandom(8 * 1024 * 1024, 5), remote);
    const dest = join(local, 'cut-down.bin');
    for (const nth of [4, 8]) {
      await writeFile(dest, 'old local');
      env.mock.inject({ match: { action: 'Receive', nth }, kind: 'drop' });
      await assert.rejects(env.conn.download(remote, dest, { streams: 4 }), TransferError);
      assert.equal(await readFile(dest, 'utf8'), 'old local', `Receive ${nth}`);
      await noTemps(`Receive ${nth}:`);
    }
  });

  it('corruption of one range is found by the one hash over the whole file (upload and download)', async () => {
    const remote = `${HOME}\\corrupt.bin`;
    await writeFile(env.host(remote), 'old');
    env.faults.corruptNextUpload();
    await assert.rejects(
      env.conn.upload(pseudoRandom(3_000_000, 8), remote, { streams: 3 }),
      /hash mismatch/i,
    );
    assert.equal(await readFile(env.host(remote), 'utf8'), 'old');
    await env.conn.upload(pseudoRandom(3_000_000, 8), remote, { streams: 3 });
    const dest = join(local, 'corrupt.bin');
    await writeFile(dest, 'old local');
    env.faults.corruptNextDownload();
    await assert.rejects(env.conn.download(remote, dest, { streams: 3 }), /hash mismatch/i);
    assert.equal(await readFile(dest, 'utf8'), 'old local');
    await noTemps();
  });

  it('overwrite: false refuses an existing target and keeps it; a new one is written', async () => {
    const remote = `${HOME}\\keep.bin`;
    await writeFile(env.host(remote), 'keep me');
    const data = pseudoRandom(2_000_000, 3);
    await assert.rejects(env.conn.upload(data, remote, { streams: 4, overwrite: false }), /already exists/);
    assert.equal(await readFile(env.host(remote), 'utf8'), 'keep me');
    const fresh = `${HOME}\\fresh.bin`;
    await env.conn.upload(data, fresh, { streams: 4, overwrite: false });
    assert.equal(sha(await readFile(env.host(fresh))), sha(data));
    const dest = join(local, 'keep.bin');
    await writeFile(dest, 'keep local');
    await assert.rejects(env.conn.download(fresh, dest, { streams: 4, overwrite: false }), /already exists/);
    assert.equal(await readFile(dest, 'utf8'), 'keep local');
    await noTemps();
  });
});

/** Seeded generator, so a failing run can be repeated. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('parallel transfers: a stop at a random moment', () => {
  it('upload: 16 runs; each resolves with the new content or rejects with the old one, no temp left', async () => {
    const data = pseudoRandom(2_500_000, 31);
    const old = Buffer.from('the old target');
    const remote = `${HOME}\\par-stop.bin`;
    await env.conn.upload(data, remote, { streams: 4 });
    const t0 = performance.now();
    await env.conn.upload(data, remote, { streams: 4 });
    const span = Math.max(20, Math.ceil((performance.now() - t0) * 1.3));
    const rnd = prng(0xbeef);
    let stops = 0;
    for (let i = 0; i < 16; i++) {
      await writeFile(env.host(remote), old);
      const ms = Math.floor(rnd() * span);
      const label = `run ${i} (stop at ${ms} ms of ${span})`;
      const options =
        i % 2 === 0 ? { timeout: Math.max(1, ms) } : { signal: AbortSignal.timeout(Math.max(1, ms)) };
      try {
        const r = await env.conn.upload(data, remote, { ...options, streams: 4 });
        assert.equal(r.sha256, sha(data), label);
        assert.ok(
          (await readFile(env.host(remote))).equals(data),
          `${label}: resolved, so the target is new`,
        );
      } catch (e) {
        assert.ok(e instanceof AbortError || e instanceof TimeoutError, `${label}: ${String(e)}`);
        assert.ok((await readFile(env.host(remote))).equals(old), `${label}: rejected, so the target is old`);
        stops++;
      }
      await noTemps(`${label}:`);
    }
    assert.ok(stops > 0, 'some runs were stopped');
  });

  it('download: 8 runs; each resolves complete or rejects leaving the destination as it was', async () => {
    const data = pseudoRandom(2_500_000, 32);
    const remote = `${HOME}\\par-stop-down.bin`;
    await env.conn.upload(data, remote);
    const dest = join(local, 'par-stop-down.bin');
    const t0 = performance.now();
    await env.conn.download(remote, dest, { streams: 4 });
    const span = Math.max(20, Math.ceil((performance.now() - t0) * 1.3));
    const rnd = prng(0xcafe);
    for (let i = 0; i < 8; i++) {
      await writeFile(dest, 'old local');
      const ms = Math.floor(rnd() * span);
      const label = `run ${i} (stop at ${ms} ms of ${span})`;
      try {
        await env.conn.download(remote, dest, { streams: 4, signal: AbortSignal.timeout(Math.max(1, ms)) });
        assert.ok((await readFile(dest)).equals(data), `${label}: resolved, so the file is new`);
      } catch (e) {
        assert.ok(e instanceof AbortError, `${label}: ${String(e)}`);
        assert.equal(await readFile(dest, 'utf8'), 'old local', `${label}: rejected, so the file is old`);
      }
      await noTemps(`${label}:`);
    }
  });
});

describe('parallel transfers: a shell budget smaller than streams', () => {
  it('MaxShellsPerUser 2 on the host: streams 4 still succeed (the refused ones take no range)', async () => {
    const mock = await startMockServer({
      users: [USER],
      auth: { basic: true },
      allowUnencrypted: true,
      quotas: { maxShellsPerUser: 2 },
      commandHost: builtinsHost(),
    });
    const conn = await connect({
      endpoint: mock.url,
      username: USER.name,
      password: USER.password,
      allowUnencrypted: true,
    });
    try {
      const data = pseudoRandom(4 * 1024 * 1024, 41);
      const up = await conn.upload(data, `${HOME}\\quota.bin`, { streams: 4 });
      assert.equal(up.sha256, sha(data));
      const dest = join(local, 'quota.bin');
      const down = await conn.download(`${HOME}\\quota.bin`, dest, { streams: 4 });
      assert.equal(down.sha256, sha(data));
      assert.ok((await readFile(dest)).equals(data));
    } finally {
      await conn.close();
      await mock.close();
    }
  });

  it('maxShells 1 on the client: streams 4 run on the one shell without waiting for ever', async () => {
    const conn = await connect({
      endpoint: env.mock.url,
      username: USER.name,
      password: USER.password,
      allowUnencrypted: true,
      maxShells: 1,
    });
    try {
      const data = pseudoRandom(3 * 1024 * 1024, 42);
      const up = await conn.upload(data, `${HOME}\\one-shell.bin`, { streams: 4, timeout: 60_000 });
      assert.equal(up.sha256, sha(data));
      const dest = join(local, 'one-shell.bin');
      const down = await conn.download(`${HOME}\\one-shell.bin`, dest, { streams: 4, timeout: 60_000 });
      assert.equal(down.sha256, sha(data));
    } finally {
      await conn.close();
    }
    await noTemps();
  });
});

describe("parallel transfers: streams bounded by the connection's requests", () => {
  // Each stream keeps a Receive polling beside its Send, so a connection of N requests carries N / 2 streams.
  // With more, every socket holds a Receive that waits for output the starved Sends would cause, until
  // OperationTimeout: 8 streams on 8 sockets took 222 s for 64 MB where 4 streams took 1.8 s.
  it('maxConcurrentRequests 4: streams 8 run as 2 processes each way, and finish', async () => {
    const conn = await connect({
      endpoint: env.mock.url,
      username: USER.name,
      password: USER.password,
      allowUnencrypted: true,
      maxConcurrentRequests: 4,
      operationTimeout: 5000,
    });
    try {
      const data = pseudoRandom(6 * 1024 * 1024, 43);
      let before = commands();
      const up = await conn.upload(data, `${HOME}\\bounded.bin`, { streams: 8, timeout: 120_000 });
      assert.equal(up.sha256, sha(data));
      assert.equal(commands() - before, 2, 'upload processes');
      const dest = join(local, 'bounded.bin');
      before = commands();
      const down = await conn.download(`${HOME}\\bounded.bin`, dest, { streams: 8, timeout: 120_000 });
      assert.equal(down.sha256, sha(data));
      assert.equal(commands() - before, 2, 'download processes');
    } finally {
      await conn.close();
    }
    await noTemps();
  });
});

describe('parallel transfers: directories spread their files over the streams', () => {
  it('uploadDirectory and downloadDirectory with streams: 3 use several processes; every file intact', async () => {
    const src = join(local, 'tree');
    await mkdir(join(src, 'a', 'b'), { recursive: true });
    await mkdir(join(src, 'empty'), { recursive: true });
    const files: Record<string, Buffer> = {
      'one.bin': pseudoRandom(700_000, 1),
      'two.txt': Buffer.from('two'),
      'a/three.bin': pseudoRandom(300_000, 3),
      'a/b/four.bin': pseudoRandom(1_200_000, 4),
      'a/b/five.txt': Buffer.from(''),
      'six.bin': pseudoRandom(90_000, 6),
    };
    for (const [rel, data] of Object.entries(files)) await writeFile(join(src, rel), data);
    let before = commands();
    const up = await env.conn.uploadDirectory(src, `${HOME}\\tree`, { streams: 3 });
    assert.ok(commands() - before >= 3, `upload used ${commands() - before} processes`);
    assert.equal(up.files.length, 6);
    for (const [rel, data] of Object.entries(files)) {
      assert.ok((await readFile(env.host(`${HOME}\\tree\\${rel.replaceAll('/', '\\')}`))).equals(data), rel);
    }
    const back = join(local, 'tree-back');
    before = commands();
    const down = await env.conn.downloadDirectory(`${HOME}\\tree`, back, { streams: 3 });
    assert.ok(commands() - before >= 3, `download used ${commands() - before} processes`);
    assert.equal(down.files.length, 6);
    for (const [rel, data] of Object.entries(files))
      assert.ok((await readFile(join(back, rel))).equals(data), rel);
    assert.deepEqual(await readdir(join(back, 'empty')), []);
    await noTemps();
  });
});
