/**
 * The ssh winrs runner against a real OpenSSH server (Debian's sshd on 127.0.0.1, test/helpers/sshd.ts), with
 * remoteShell 'posix': plain commands stand in for winrs at this level.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { AuthenticationError, ConnectionError, InvalidArgumentError } from '../../src/errors.ts';
import {
  createSshRunner,
  SshHostKeyError,
  type SshRunnerOptions,
  sshCommandString,
  sshRunnerFactory,
} from '../../src/native/runners/ssh.ts';
import { type Sshd, sshdSkip, startSshd } from '../helpers/sshd.ts';

const skip = sshdSkip();

async function readAll(s: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

describe('ssh winrs runner (OpenSSH on 127.0.0.1)', { skip }, () => {
  let sshd: Sshd;
  const base = (): SshRunnerOptions => ({
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    privateKey: sshd.userKey,
    hostKeyFingerprint: sshd.hostKeyFingerprint,
    remoteShell: 'posix',
  });

  before(async () => {
    sshd = await startSshd({
      shims: { 'argv-lines': '#!/bin/sh\nfor a in "$@"; do printf "[%s]\\n" "$a"; done\n' },
    });
  });
  after(async () => {
    await sshd?.close();
  });

  it('streams stdin to stdout, stderr apart, and reports the exit code', async () => {
    const runner = createSshRunner(base());
    try {
      const child = await runner.spawn('sh', ['-c', 'cat; echo oops >&2; exit 7']);
      const out = readAll(child.stdout);
      const err = readAll(child.stderr);
      child.stdin.write('line one\n');
      child.stdin.end('line two\n');
      assert.deepEqual(await child.exited, { code: 7, signal: null });
      assert.equal(await out, 'line one\nline two\n');
      assert.equal(await err, 'oops\n');
    } finally {
      await runner.close();
    }
  });

  it('passes every argv element unchanged through the POSIX shell, on one shared SSH connection', async () => {
    const runner = createSshRunner(base());
    const args = [
      "it's",
      'a b',
      '  spaced  ',
      '',
      '$HOME',
      '`id`',
      '"q"',
      'back\\slash',
      'new\nline',
      '*',
      '-p:P&|<>^%x',
    ];
    try {
      const logins = () => (sshd.log().match(/Accepted publickey/g) ?? []).length;
      const before = logins();
      const children = await Promise.all([1, 2, 3].map(() => runner.spawn('argv-lines', args)));
      const outs = await Promise.all(
        children.map(async (c) => {
          c.stdin.end();
          const o = readAll(c.stdout);
          assert.equal((await c.exited).code, 0);
          return o;
        }),
      );
      const expected = args.map((a) => `[${a}]\n`).join('');
      for (const o of outs) assert.equal(o, expected);
      assert.equal(logins() - before, 1, 'one SSH connection for all processes of the runner');
    } finally {
      await runner.close();
    }
  });

  /** Whether a process of this machine (the proxy is 127.0.0.1) still runs. */
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const pidOf = async (file: string) => Number((await readFile(file, 'utf8')).trim());
  // OpenSSH refuses `signal` requests in sessions without privilege separation, which root logins are (sshd.c
  // privsep_postauth); the test sshd runs as the current user, root in CI containers.
  const signalsDelivered = process.getuid?.() !== 0;

  it('kill() ends a process reading stdin (INT signal; as root the channel close, which ends its stdin)', async () => {
    const runner = createSshRunner({ ...base(), killGraceMs: 500 });
    const pidFile = join(sshd.dir, 'cat.pid');
    try {
      const child = await runner.spawn('sh', ['-c', `echo $$ > ${pidFile}; echo started; exec cat`]);
      await new Promise<void>((ok) => child.stdout.once('data', () => ok()));
      child.stdout.resume();
      const pid = await pidOf(pidFile);
      assert.ok(alive(pid));
      await child.kill();
      const deadline = AbortSignal.timeout(30_000);
      const exit = await Promise.race([
        child.exited,
        new Promise<never>((_, ko) => deadline.addEventListener('abort', () => ko(new Error('exited hung')))),
      ]);
      if (signalsDelivered) assert.equal(exit.signal, 'SIGINT');
      else assert.notEqual(exit.signal, 'SIGINT');
      for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(alive(pid), false, 'the process on the proxy ended');
    } finally {
      await runner.close();
    }
  });

  it('kill() sends KILL after the grace period; a process the server cannot signal is left, and kill() still returns', async () => {
    const runner = createSshRunner({ ...base(), killGraceMs: 300 });
    const pidFile = join(sshd.dir, 'stubborn.pid');
    let pid = 0;
    try {
      const child = await runner.spawn('sh', [
        '-c',
        `trap "" INT; echo $$ > ${pidFile}; echo started; while :; do sleep 1; done`,
      ]);
      child.stdin.end();
      await new Promise<void>((ok) => child.stdout.once('data', () => ok()));
      child.stdout.resume();
      child.stderr.resume();
      pid = await pidOf(pidFile);
      await child.kill();
      const exit = await child.exited;
      assert.equal(exit.code, null);
      if (signalsDelivered) {
        assert.equal(exit.signal, 'SIGKILL');
        assert.equal(alive(pid), false);
      } else {
        // Documented: OpenSSH without privilege separation ignores the signals, and keeps the channel until the
        // process ends; the runner stops waiting and says it does not know how the process ended.
        assert.equal(exit.signal, null);
        assert.equal(alive(pid), true);
      }
    } finally {
      if (pid && alive(pid)) process.kill(-pid, 'SIGKILL');
      await runner.close();
    }
  });

  it('an aborted spawn signal kills the process', async () => {
    const runner = createSshRunner({ ...base(), killGraceMs: 300 });
    try {
      const ac = new AbortController();
      const pidFile = join(sshd.dir, 'aborted.pid');
      const child = await runner.spawn('sh', ['-c', `echo $$ > ${pidFile}; echo started; exec cat`], {
        signal: ac.signal,
      });
      await new Promise<void>((ok) => child.stdout.once('data', () => ok()));
      child.stdout.resume();
      const pid = await pidOf(pidFile);
      ac.abort();
      await child.exited;
      for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(
        alive(pid),
        false,
        'the abort ended the process (cat with open stdin never ends by itself)',
      );
    } finally {
      await runner.close();
    }
  });

  it('a host key that is not the pinned one is an SshHostKeyError naming expected, got and the fix', async () => {
    const runner = createSshRunner({ ...base(), hostKeyFingerprint: sshd.otherFingerprint });
    try {
      const err = await runner.spawn('true', []).then(
        () => assert.fail('connected to an unpinned host key'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof SshHostKeyError, String(err));
      assert.ok(err instanceof ConnectionError);
      assert.equal(err.got, sshd.hostKeyFingerprint);
      assert.deepEqual(err.expected, [sshd.otherFingerprint]);
      assert.ok(err.message.includes(sshd.hostKeyFingerprint) && err.message.includes(sshd.otherFingerprint));
      assert.match(err.message, /ssh-keyscan -t ed25519 -p \d+ 127\.0\.0\.1 \| ssh-keygen -lf -/);
    } finally {
      await runner.close();
    }
  });

  it('no pinned host key and no insecure opt-in is refused before connecting', () => {
    const { hostKeyFingerprint: _, ...rest } = base();
    assert.throws(
      () => createSshRunner(rest),
      (e: unknown) => {
        assert.ok(e instanceof InvalidArgumentError);
        assert.equal(e.argument, 'hostKeyFingerprint');
        assert.match(e.message, /ssh-keyscan/);
        return true;
      },
    );
    assert.throws(() => createSshRunner({ ...base(), hostKeyFingerprint: 'aa:bb:cc' }), InvalidArgumentError);
  });

  it('insecureAcceptAnyHostKey connects without a pin', async () => {
    const { hostKeyFingerprint: _, ...rest } = base();
    const runner = createSshRunner({ ...rest, insecureAcceptAnyHostKey: true });
    try {
      const child = await runner.spawn('sh', ['-c', 'exit 3']);
      child.stdin.end();
      assert.equal((await child.exited).code, 3);
      assert.match(inspect(runner), /ANY \(insecure\)/);
    } finally {
      await runner.close();
    }
  });

  it('a key the server does not accept is an AuthenticationError', async () => {
    const runner = createSshRunner({ ...base(), privateKey: sshd.unauthorizedKey });
    try {
      await assert.rejects(runner.spawn('true', []), (e: unknown) => {
        assert.ok(e instanceof AuthenticationError, String(e));
        assert.match(e.message, /refused SSH authentication of .* \(tried: publickey\)/);
        assert.match(e.message, /authorized_keys/);
        return true;
      });
    } finally {
      await runner.close();
    }
  });

  it('a wrong password is refused, and the password is in no error, inspect or JSON output', async () => {
    const password = 'Wr0ng-S3cret-pa55';
    const { privateKey: _, ...rest } = base();
    const runner = createSshRunner({ ...rest, password });
    try {
      const err = await runner.spawn('true', []).then(
        () => assert.fail('a wrong password was accepted'),
        (e: unknown) => e,
      );
      assert.ok(err instanceof AuthenticationError, String(err));
      assert.match(err.message, /tried: password/);
      for (const text of [
        String(err),
        err.stack ?? '',
        inspect(err, { depth: 5 }),
        inspect(runner),
        JSON.stringify(runner),
      ]) {
        assert.ok(!text.includes(password), `password leaked in: ${text.slice(0, 200)}`);
      }
      assert.match(inspect(runner), /auth: password/);
    } finally {
      await runner.close();
    }
  });

  it('a lost SSH connection rejects exited with a ConnectionError', async () => {
    const runner = createSshRunner(base());
    const child = await runner.spawn('sleep', ['60']);
    child.stdout.resume();
    child.stderr.resume();
    runner.destroy();
    await assert.rejects(child.exited, ConnectionError);
  });

  it('nothing listening is a ConnectionError naming host and port', async () => {
    const runner = createSshRunner({ ...base(), port: 1 });
    await assert.rejects(runner.spawn('true', []), (e: unknown) => {
      assert.ok(e instanceof ConnectionError, String(e));
      assert.match(e.message, /127\.0\.0\.1:1/);
      return true;
    });
    await runner.close();
  });
});

describe('ssh command string: one quoting per proxy shell', () => {
  it('cmd quotes as src/cmdline.ts does for cmd.exe, posix single-quotes, powershell uses & and single quotes', () => {
    assert.equal(
      sshCommandString('cmd', 'winrs', ['-r:h', '-p:a&b', 'echo hi']),
      'winrs -r:h -p:a^&b ^"echo hi^"',
    );
    assert.equal(sshCommandString('posix', 'winrs', ["it's", '']), `'winrs' 'it'\\''s' ''`);
    assert.equal(sshCommandString('powershell', 'winrs', ["it's", 'a b']), `& 'winrs' 'it''s' 'a b'`);
    assert.throws(() => sshCommandString('powershell', 'winrs', ['say "hi"']), InvalidArgumentError);
  });
});

describe('ssh runner factory (winrsProxyConnectionOptions)', () => {
  it('an unknown option is an InvalidArgumentError listing the known ones; secrets go to the connection log', async () => {
    const secrets: unknown[] = [];
    const context = { connectTimeoutMs: 1000, debug: { addSecret: (s: unknown) => secrets.push(s) } };
    await assert.rejects(
      async () =>
        sshRunnerFactory(
          { host: 'h', username: 'u', password: 'p', hostKeyFingerprint: 'x', hostKeyChecking: 'no' },
          context as never,
        ),
      (e: unknown) => {
        assert.ok(e instanceof InvalidArgumentError);
        assert.equal(e.argument, 'winrsProxyConnectionOptions.hostKeyChecking');
        assert.match(e.message, /known: host, address, port/);
        return true;
      },
    );
    await assert.rejects(
      async () =>
        sshRunnerFactory(
          { address: 'h', username: 'u', password: 'S3cr3t-x', hostKeyFingerprint: 'aa:bb' },
          context as never,
        ),
      (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'hostKeyFingerprint',
    );
    assert.ok(secrets.includes('S3cr3t-x'), 'the SSH password was registered as a secret');
  });
});
