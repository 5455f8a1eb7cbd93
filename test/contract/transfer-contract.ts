/**
 * describeTransferContract: the file-transfer suite every strategy must pass, in every environment the
 * connection contract runs in. Transfers go through TransferPeer on the strategy's own processes, so only the
 * environment's view of the remote file system differs.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { Connection } from '../../src/index.ts';
import { AbortError, TransferError } from '../../src/index.ts';

export interface TransferContractEnvironment {
  connect(): Promise<Connection>;
  /** Bytes of a remote file, read on the far side directly (not through the connection). */
  readRemote(winPath: string): Promise<Buffer>;
  /** Transfer temporary files left anywhere on the far side. */
  remoteTempFiles(): Promise<string[]>;
  close(): Promise<void>;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const bytes = (n: number, seed: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * seed + 7) & 0xff));

export function describeTransferContract(
  name: string,
  setup: () => Promise<TransferContractEnvironment>,
): void {
  describe(`Transfer contract: ${name}`, () => {
    let env: TransferContractEnvironment;
    let conn: Connection;
    let home: string;
    let local: string;
    before(async () => {
      env = await setup();
      conn = await env.connect();
      home = (await conn.execute('cd')).stdoutText.trim();
      local = await mkdtemp(join(tmpdir(), 'wrcp-contract-'));
    });
    after(async () => {
      await conn?.close();
      await env?.close();
      if (local) await rm(local, { recursive: true, force: true });
    });

    it('uploads a Buffer and downloads it to a Writable, byte-exact, hashes equal', async () => {
      const data = bytes(300_000, 13);
      const up = await conn.upload(data, `${home}\\contract.bin`);
      assert.equal(up.bytes, data.length);
      assert.equal(up.sha256, sha(data));
      assert.deepEqual(await env.readRemote(up.remotePath), data);
      const parts: Buffer[] = [];
      const sink = new Writable({
        write(c: Buffer, _e, cb) {
          parts.push(c);
          cb();
        },
      });
      const down = await conn.download(up.remotePath, sink);
      assert.equal(down.sha256, sha(data));
      assert.deepEqual(Buffer.concat(parts), data);
    });

    it('uploads from a local path, downloads to one; overwrite false keeps the target', async () => {
      const src = join(local, 'in.txt');
      await writeFile(src, 'first\r\n');
      const remote = `${home}\\contract.txt`;
      await conn.upload(src, remote);
      await assert.rejects(conn.upload(Buffer.from('second'), remote, { overwrite: false }), TransferError);
      const dest = join(local, 'out.txt');
      await conn.download(remote, dest);
      assert.equal(await readFile(dest, 'utf8'), 'first\r\n');
    });

    it('round-trips a directory tree with an empty folder', async () => {
      const tree = join(local, 'tree');
      await mkdir(join(tree, 'sub', 'deeper'), { recursive: true });
      await mkdir(join(tree, 'empty'));
      await writeFile(join(tree, 'a.txt'), 'A');
      await writeFile(join(tree, 'sub', 'deeper', 'b.bin'), bytes(5000, 3));
      const up = await conn.uploadDirectory(tree, `${home}\\tree`);
      assert.equal(up.files.length, 2);
      const back = join(local, 'back');
      const down = await conn.downloadDirectory(`${home}\\tree`, back);
      assert.equal(down.bytes, 5001);
      assert.deepEqual((await readdir(back, { recursive: true })).map(String).sort(), [
        'a.txt',
        'empty',
        'sub',
        join('sub', 'deeper'),
        join('sub', 'deeper', 'b.bin'),
      ]);
      assert.deepEqual(await readFile(join(back, 'sub', 'deeper', 'b.bin')), bytes(5000, 3));
    });

    it('a cancelled upload keeps the old target and leaves no temporary file', async () => {
      const remote = `${home}\\cancel.bin`;
      await conn.upload(Buffer.from('before cancel'), remote);
      const ac = new AbortController();
      await assert.rejects(
        conn.upload(bytes(4 * 1024 * 1024, 5), remote, {
          chunkSize: 64 * 1024,
          signal: ac.signal,
          onProgress: (p) => {
            if (p.bytes >= 128 * 1024) ac.abort();
          },
        }),
        AbortError,
      );
      assert.equal((await env.readRemote(remote)).toString('utf8'), 'before cancel');
      assert.deepEqual(await env.remoteTempFiles(), []);
      assert.equal((await conn.execute('echo still-usable')).stdoutText, 'still-usable\r\n');
    });
  });
}
