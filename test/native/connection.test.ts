/** WinRsNativeConnection through a fake runner: the argv it hands over, secrets kept out, Winrs errors typed. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { connect } from '../../src/connect.ts';
import { AuthenticationError } from '../../src/errors.ts';
import type { WinrsChild, WinrsRunner } from '../../src/native/runner.ts';

const PASSWORD = 'Sup3r&Secret|pw';

/** A runner that records what it was asked to start and answers with the given stdout/stderr/exit code. */
function fakeRunner(answer: { stdout?: string; stderr?: string; code: number }) {
  const calls: Array<{ program: string; args: readonly string[] }> = [];
  const runner: WinrsRunner = {
    kind: 'local',
    async spawn(program, args) {
      calls.push({ program, args });
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const stdin = new PassThrough();
      stdin.resume();
      stdout.end(answer.stdout ?? '');
      stderr.end(answer.stderr ?? '');
      const child: WinrsChild = {
        stdin,
        stdout,
        stderr,
        exited: Promise.resolve({ code: answer.code, signal: null }),
        kill: async () => undefined,
      };
      return child;
    },
    close: async () => undefined,
    destroy: () => undefined,
  };
  return { runner, calls };
}

describe('WinRsNativeConnection', () => {
  it('hands the runner the winrs argv; logs and inspect never show the password', async () => {
    const { runner, calls } = fakeRunner({ stdout: 'hi\r\n', code: 3 });
    const lines: string[] = [];
    const conn = await connect({
      connectionType: 'WINRM_NATIVE',
      host: 'win1',
      username: 'deployer@CORP.EXAMPLE.COM',
      password: PASSWORD,
      winrsRunner: runner,
      winrsPath: 'C:\\Windows\\System32\\winrs.exe',
      winrsNoecho: true,
      logger: (ns, m) => lines.push(`${ns} ${m}`),
    });
    const r = await conn.execute(['echo', 'a b'], { cwd: 'C:\\temp', env: { X: '1' } });
    assert.deepEqual([r.exitCode, r.stdoutText], [3, 'hi\r\n']);
    assert.deepEqual(calls[0], {
      program: 'C:\\Windows\\System32\\winrs.exe',
      args: [
        '-remote:win1:5985',
        '-username:deployer@CORP.EXAMPLE.COM',
        `-password:${PASSWORD}`,
        '-directory:C:\\temp',
        '-env:X=1',
        '-noecho',
        '-codepage:65001',
        'echo ^"a b^"', // src/cmdline.ts's quoting: cmd.exe removes the carets
      ],
    });
    assert.ok(
      lines.some((l) => l.includes('-password:********')),
      lines.join('\n'),
    );
    assert.ok(!lines.join('\n').includes(PASSWORD));
    assert.ok(!inspect(conn, { depth: 10 }).includes(PASSWORD));
    await conn.close();
  });

  it('a Winrs error line with a non-zero exit is a typed error with the remedy', async () => {
    const { runner } = fakeRunner({ stderr: 'Winrs error:Access is denied.\r\n', code: 5 });
    const conn = await connect({
      connectionType: 'WINRM_NATIVE',
      host: 'win1',
      username: 'CORP\\deployer',
      password: PASSWORD,
      winrsRunner: runner,
    });
    await assert.rejects(
      conn.execute('dir'),
      (e: unknown) => e instanceof AuthenticationError && /Remote Management Users/.test(e.message),
    );
    await conn.close();
  });

  it('refuses a password with a quotation mark at connect, before any winrs runs', async () => {
    const { runner, calls } = fakeRunner({ code: 0 });
    await assert.rejects(
      connect({
        connectionType: 'WINRM_NATIVE',
        host: 'w',
        username: 'u',
        password: 'a"b',
        winrsRunner: runner,
      }),
      /limitation of the winrs command/,
    );
    assert.equal(calls.length, 0);
  });
});
