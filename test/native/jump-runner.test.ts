/**
 * The jump winrs runner over a WINRM_INTERNAL connection to the mock. The mock's builtins do not know `winrs`, so
 * this fixture adds scripted rules for a `winrs` stand-in (test-only, in this file); quoting is checked end to end
 * with the mock's `mock-argv`, which splits its line as cmd.exe and the C runtime would.
 */
import assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { type Connection, connect } from '../../src/index.ts';
import { builtinsHost } from '../../src/mock/hosts/builtins.ts';
import { scriptedHost } from '../../src/mock/hosts/scripted.ts';
import { EXIT_CTRL_C, type MockServer, startMockServer } from '../../src/mock/index.ts';
import { createJumpRunner, jumpCommandLine } from '../../src/native/runners/jump.ts';

const USER = { name: 'jumper', password: 'Jump&Pass1' };
const WINRS_PASSWORD = 'T4rget^%Pass w0rd&|';

async function readAll(s: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

describe('jump winrs runner (WINRM_INTERNAL to the mock)', () => {
  let mock: MockServer;
  let conn: Connection;
  const logs: string[] = [];
  const signals: string[] = [];

  before(async () => {
    mock = await startMockServer({
      users: [USER],
      auth: { basic: true },
      allowUnencrypted: true,
      commandHost: scriptedHost(
        [
          {
            // A winrs stand-in: copies stdin to stdout, says so on stderr, exits 5.
            match: /^winrs -r:echo\b/,
            reply: async (c) => {
              await c.stdout.write(await c.readStdin());
              await c.stderr.write('stand-in\r\n');
              return 5;
            },
          },
          {
            // Stops at ctrl_c (winrs.exe forwards it), ending with STATUS_CONTROL_C_EXIT.
            match: /^winrs -r:wait\b/,
            reply: async (c) => {
              await c.stdout.write('waiting\r\n');
              await new Promise<void>((_, ko) =>
                c.signal.addEventListener('abort', () => {
                  signals.push(String(c.signal.reason));
                  ko(new Error('stopped'));
                }),
              );
              return 0;
            },
          },
          {
            // Ignores ctrl_c; only terminate ends it.
            match: /^winrs -r:stubborn\b/,
            reply: async (c) => {
              await c.stdout.write('waiting\r\n');
              c.signal.addEventListener('abort', () => signals.push(`stubborn:${String(c.signal.reason)}`));
              // Never returns by itself: the shell's terminate is what ends it.
              return new Promise<number>(() => undefined);
            },
          },
        ],
        { fallback: builtinsHost({}) },
      ),
    });
    conn = await connect({
      endpoint: mock.url,
      username: USER.name,
      password: USER.password,
      allowUnencrypted: true,
      logger: (ns, msg) => logs.push(`${ns} ${msg}`),
    });
  });
  after(async () => {
    await conn?.close();
    await mock?.close();
  });

  it('each winrs argument arrives unchanged through cmd.exe (mock-argv splits as cmd and the C runtime do)', async () => {
    const runner = createJumpRunner({ connection: conn });
    const args = [
      '-r:https://target:5986/wsman',
      '-u:CORP\\deployer',
      `-p:${WINRS_PASSWORD}`,
      'echo a & b',
      '"q"',
      '50%',
      '%OS%',
      '',
    ];
    const child = await runner.spawn('mock-argv', args);
    child.stdin.end();
    const out = readAll(child.stdout);
    assert.deepEqual(await child.exited, { code: 0, signal: null });
    assert.deepEqual((await out).split('\r\n').slice(0, -1), args);
    await runner.close();
  });

  it('the winrs password is a secret argument: masked in the line and in every log line', async () => {
    const line = jumpCommandLine('winrs', ['-r:t', `-password:${WINRS_PASSWORD}`, '/P:x', 'cmd']);
    assert.deepEqual(line.secrets(), [`-password:${WINRS_PASSWORD}`, '/P:x']);
    assert.ok(!String(line).includes(WINRS_PASSWORD) && !inspect(line).includes(WINRS_PASSWORD));
    const runner = createJumpRunner({ connection: conn });
    const child = await runner.spawn('winrs', ['-r:echo', `-p:${WINRS_PASSWORD}`, 'cmd']);
    child.stdin.end();
    child.stdout.resume();
    child.stderr.resume();
    await child.exited;
    assert.ok(
      logs.some((l) => l.includes('-r:echo')),
      'the logger saw the command line',
    );
    for (const l of logs)
      assert.ok(!l.includes(WINRS_PASSWORD.slice(0, 8)), `password in log: ${l.slice(0, 200)}`);
    await runner.close();
  });

  it('streams stdin to winrs, stdout and stderr back, and passes the exit code', async () => {
    const runner = createJumpRunner({ connection: conn });
    const child = await runner.spawn('winrs', ['-r:echo', '-p:x', 'cmd']);
    const out = readAll(child.stdout);
    const err = readAll(child.stderr);
    child.stdin.write('first\r\n');
    child.stdin.end('second\r\n');
    assert.deepEqual(await child.exited, { code: 5, signal: null });
    assert.equal(await out, 'first\r\nsecond\r\n');
    assert.equal(await err, 'stand-in\r\n');
    await runner.close();
  });

  it('kill() sends ctrl_c: winrs ends with the ctrl_c exit code, and kill() is idempotent', async () => {
    const runner = createJumpRunner({ connection: conn });
    const child = await runner.spawn('winrs', ['-r:wait', 'cmd']);
    child.stdin.end();
    await new Promise<void>((ok) => child.stdout.once('data', () => ok()));
    child.stdout.resume();
    await Promise.all([child.kill(), child.kill()]);
    assert.deepEqual(await child.exited, { code: EXIT_CTRL_C, signal: null });
    assert.ok(signals.includes('ctrl_c'), `signals seen: ${signals.join(' ')}`);
    await runner.close();
  });

  it('kill() sends terminate when winrs outlives the grace period after ctrl_c', async () => {
    const runner = createJumpRunner({ connection: conn, killGraceMs: 300 });
    const child = await runner.spawn('winrs', ['-r:stubborn', 'cmd']);
    child.stdin.end();
    await new Promise<void>((ok) => child.stdout.once('data', () => ok()));
    child.stdout.resume();
    child.stderr.resume();
    await child.kill();
    assert.deepEqual(await child.exited, { code: null, signal: null });
    assert.ok(
      signals.some((s) => s.startsWith('stubborn:ctrl_c')),
      `ctrl_c came first; signals seen: ${signals.join(' ')}`,
    );
    await runner.close();
  });

  it('an aborted spawn signal kills winrs; a spawn after close() is refused', async () => {
    const runner = createJumpRunner({ connection: conn });
    const ac = new AbortController();
    const child = await runner.spawn('winrs', ['-r:wait', 'cmd'], { signal: ac.signal });
    child.stdin.end();
    await new Promise<void>((ok) => child.stdout.once('data', () => ok()));
    child.stdout.resume();
    ac.abort();
    assert.equal((await child.exited).code, EXIT_CTRL_C);
    await runner.close();
    await assert.rejects(runner.spawn('winrs', []), /closed/);
  });
});
