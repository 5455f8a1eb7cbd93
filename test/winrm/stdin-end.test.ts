/**
 * The last stdin bytes and End="true" share one Send: execute() with stdin, and the transfer scripts' goodbye
 * (#Q), take one Send (one round trip) instead of a data Send followed by an empty one.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { connect } from '../../src/index.ts';
import { builtinsHost } from '../../src/mock/hosts/builtins.ts';
import { startMockServer } from '../../src/mock/index.ts';

const USER = { name: 'vagrant', password: 'vagrant' };

interface SendSeen {
  end: boolean;
  /** Payload bytes the debug line reports (it never logs them). */
  bytes: number;
}

/** Each Send's End flag and payload size, read from the client's own debug lines. */
function sendsOf(lines: string[]): SendSeen[] {
  return lines
    .filter((m) => m.startsWith('>>> Send'))
    .map((m) => ({
      end: / End="true"/.test(m),
      bytes: Number(/\[(\d+) bytes not logged\]/.exec(m)?.[1] ?? 0),
    }));
}

async function withMock(run: (url: string, lines: string[]) => Promise<void>): Promise<void> {
  const mock = await startMockServer({
    users: [USER],
    auth: { basic: true },
    allowUnencrypted: true,
    commandHost: builtinsHost(),
  });
  try {
    await run(mock.url, []);
  } finally {
    await mock.close();
  }
}

const open = (url: string, lines: string[]) =>
  connect({
    endpoint: url,
    username: USER.name,
    password: USER.password,
    allowUnencrypted: true,
    logger: (_ns, m) => {
      if (m.startsWith('>>> Send')) lines.push(m);
    },
  });

describe('stdin: the last bytes carry End="true"', () => {
  it('execute() with string stdin sends one Send: the data with End', async () => {
    await withMock(async (url, lines) => {
      const conn = await open(url, lines);
      try {
        const r = await conn.execute('mock-cat', { stdin: 'hello\r\n' });
        assert.equal(r.stdoutText, 'hello\r\n');
        assert.deepEqual(sendsOf(lines), [{ end: true, bytes: 7 }]);
      } finally {
        await conn.close();
      }
    });
  });

  it('execute() with a Buffer larger than one Send: End rides on the last part only', async () => {
    await withMock(async (url, lines) => {
      const conn = await open(url, lines);
      try {
        const data = Buffer.alloc(900_000, 'x');
        const r = await conn.execute('mock-cat', { stdin: data, maxBuffer: 2_000_000 });
        assert.equal(r.stdout.length, data.length);
        const sends = sendsOf(lines);
        assert.ok(sends.length >= 2, JSON.stringify(sends));
        assert.equal(
          sends.reduce((n, s) => n + s.bytes, 0),
          data.length,
        );
        assert.ok(sends.at(-1)!.bytes > 0, 'no empty End Send after the data');
        assert.deepEqual(
          sends.map((s) => s.end),
          sends.map((_, i) => i === sends.length - 1),
        );
      } finally {
        await conn.close();
      }
    });
  });

  it('a Readable stdin still arrives whole and ends (End on the last Send, empty or not)', async () => {
    await withMock(async (url, lines) => {
      const conn = await open(url, lines);
      try {
        const r = await conn.execute('mock-cat', {
          stdin: Readable.from([Buffer.from('a\r\n'), Buffer.from('b\r\n')]),
        });
        assert.equal(r.stdoutText, 'a\r\nb\r\n');
        const sends = sendsOf(lines);
        assert.equal(sends.filter((s) => s.end).length, 1);
        assert.equal(sends.at(-1)?.end, true);
      } finally {
        await conn.close();
      }
    });
  });

  it('execute() without stdin still closes it with one empty End Send', async () => {
    await withMock(async (url, lines) => {
      const conn = await open(url, lines);
      try {
        await conn.execute('echo x');
        assert.deepEqual(sendsOf(lines), [{ end: true, bytes: 0 }]);
      } finally {
        await conn.close();
      }
    });
  });

  it('an upload and a download of a small file send no empty End Send', async () => {
    await withMock(async (url, lines) => {
      const dir = await mkdtemp(join(tmpdir(), 'stdin-end-'));
      const conn = await open(url, lines);
      try {
        const src = join(dir, 'small.txt');
        await writeFile(src, 'small file\n');
        await conn.upload(src, 'C:\\Users\\vagrant\\small.txt', { streams: 1 });
        await conn.download('C:\\Users\\vagrant\\small.txt', join(dir, 'back.txt'));
        assert.equal(await readFile(join(dir, 'back.txt'), 'utf8'), 'small file\n');
        const sends = sendsOf(lines);
        const ends = sends.filter((s) => s.end);
        assert.equal(ends.length, 2, JSON.stringify(sends));
        for (const e of ends) assert.ok(e.bytes > 0, JSON.stringify(sends));
        // The download: the script with #S, then #R, #V, #Q and End together.
        const download = sends.slice(sends.indexOf(ends[0]!) + 1);
        assert.equal(download.length, 2, JSON.stringify(download));
      } finally {
        await conn.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});
