/** `winrm-connection fanout`: JSON lines or a table, a summary with counts, exit 1 when any host failed. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.ts';
import type { MockServer } from '../../src/mock/index.ts';
import { captureIo } from '../helpers/cli-io.ts';
import { startMock, USER } from '../helpers/winrm-mock.ts';

describe('fanout CLI', () => {
  let mocks: MockServer[] = [];
  let dir: string;
  before(async () => {
    mocks = [await startMock(), await startMock()];
    dir = mkdtempSync(join(tmpdir(), 'fanout-cli-'));
  });
  after(async () => {
    for (const m of mocks) await m.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const port = (i: number) => new URL(mocks[i]!.url).port;
  const cred = ['-u', USER.name, '--allow-unencrypted'];
  const env = { WINRM_PASSWORD: USER.password };

  it('prints one JSON line per host and a summary; exit 0 when every host succeeded', async () => {
    const file = join(dir, 'ok.txt');
    writeFileSync(file, `# two mocks\n127.0.0.1:${port(0)}\n127.0.0.1:${port(1)}\n`);
    const c = captureIo(env);
    const code = await main(['fanout', '--hosts', file, ...cred, '--', 'echo', 'hi'], c.io);
    assert.equal(code, 0, c.err());
    const lines = c
      .out()
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    assert.deepEqual(
      lines.slice(0, 2).map((l) => [l.host, l.ok, l.exitCode, l.stdout]),
      [
        ['127.0.0.1', true, 0, 'hi\r\n'],
        ['127.0.0.1', true, 0, 'hi\r\n'],
      ],
    );
    assert.deepEqual(
      { ...lines[2].summary, seconds: 0 },
      { hosts: 2, ok: 2, nonZero: 0, errors: 0, seconds: 0 },
    );
  });

  it('a table with a failed host (wrong password on its JSON line) and a non-zero exit: exit 1, counted', async () => {
    const file = join(dir, 'mixed.txt');
    writeFileSync(
      file,
      [
        `127.0.0.1:${port(0)}`,
        JSON.stringify({ host: '127.0.0.1', port: Number(port(1)), password: 'wrong-password' }),
      ].join('\n'),
    );
    const c = captureIo(env);
    const code = await main(
      [
        'fanout',
        '--hosts',
        file,
        '--format',
        'table',
        '--concurrency',
        '1',
        ...cred,
        '--',
        'exit',
        '/b',
        '3',
      ],
      c.io,
    );
    assert.equal(code, 1);
    const out = c.out().toString();
    assert.match(out, /^HOST\s+RESULT/);
    assert.match(out, /exit 3/);
    assert.match(out, /Authentication/);
    assert.doesNotMatch(out, /wrong-password/);
    assert.match(out, /2 host\(s\): 0 ok, 1 non-zero exit, 1 error\(s\)/);
  });

  it('--shard runs only the hosts of that shard; usage errors exit 2', async () => {
    const file = join(dir, 'shard.txt');
    // Six host names on a closed port: each fails at once, and the summary counts the hosts of the shard.
    writeFileSync(
      file,
      Array.from({ length: 6 }, (_, i) =>
        JSON.stringify({ host: `h${i}`, endpoint: 'http://127.0.0.1:1/wsman' }),
      ).join('\n'),
    );
    const counts: number[] = [];
    for (const s of ['1/2', '2/2']) {
      const c = captureIo(env);
      assert.equal(await main(['fanout', '--hosts', file, '--shard', s, ...cred, '--', 'echo'], c.io), 1);
      const last = JSON.parse(c.out().toString().trim().split('\n').at(-1)!);
      assert.equal(last.summary.errors, last.summary.hosts);
      counts.push(last.summary.hosts);
    }
    assert.equal(counts[0]! + counts[1]!, 6, `shards of ${counts.join(' + ')} hosts`);
    const c = captureIo(env);
    assert.equal(await main(['fanout', '--hosts', file, ...cred], c.io), 2);
    assert.match(c.err(), /needs a command/);
    assert.equal(
      await main(['fanout', '--hosts', file, '--shard', '3/2', ...cred, '--', 'echo'], captureIo(env).io),
      2,
    );
  });
});
