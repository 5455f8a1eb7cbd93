/** Execution lifecycle against the mock: stdin closing, aborts, deadlines, close() and destroy(). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as api from '../../src/index.ts';
import {
  AbortError,
  ConnectionError,
  connect,
  type ShellCleanupError,
  TimeoutError,
} from '../../src/index.ts';
import type { MockServer } from '../../src/mock/index.ts';
import { replies, startFakeWinRm } from '../helpers/fake-winrm.ts';
import { startHoldProxy } from '../helpers/hold-proxy.ts';
import { connectTo, eventually, startMock, USER } from '../helpers/winrm-mock.ts';

/** Read through the namespace, so that this file also runs (and fails) on code without the class. */
const isCleanupError = (e: unknown): e is ShellCleanupError =>
  typeof api.ShellCleanupError === 'function' && e instanceof api.ShellCleanupError;

/** Generous "does not hang" bound for calls that must settle within a second or two. */
const NO_HANG_MS = 10_000;

const running = (mock: MockServer, prefix: string) =>
  mock
    .shells()
    .flatMap((s) => s.commands)
    .filter((c) => c.state === 'Running' && c.commandLine.startsWith(prefix));

/** How `p` settled, and whether it did within `ms` (a "does not hang" bound, never a timing assertion). */
async function settleWithin<T>(
  p: Promise<T>,
  ms = NO_HANG_MS,
): Promise<{ hung: true } | { hung: false; value?: T; error?: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<{ hung: true }>((r) => {
    timer = setTimeout(() => r({ hung: true }), ms);
  });
  const settled = p.then(
    (value) => ({ hung: false as const, value }),
    (error: unknown) => ({ hung: false as const, error }),
  );
  try {
    return await Promise.race([settled, hung]);
  } finally {
    clearTimeout(timer);
  }
}

describe('execution lifecycle', () => {
  it('execute() without stdin closes stdin at once (mock-cat ends)', async () => {
    const mock = await startMock();
    try {
      const conn = await connectTo(mock);
      // Generous "does not hang" bound: mock-cat only ends when stdin ends.
      const r = await conn.execute('mock-cat', { timeout: 20_000 });
      assert.equal(r.exitCode, 0);
      assert.equal(r.stdout.length, 0);
      await conn.close();
    } finally {
      await mock.close();
    }
  });

  for (const answer of ['arrives late', 'never arrives'] as const) {
    it(`an abort after the server started the Command terminates it (the answer ${answer})`, async () => {
      const mock = await startMock();
      const proxy = await startHoldProxy(mock.url);
      try {
        const conn = await connectTo(mock, {
          endpoint: proxy.url,
          readTimeout: 60_000,
          cleanupTimeout: 1000,
        });
        await conn.execute('echo warm'); // one pooled shell: the next execute sends only its Command
        proxy.setHold(true);
        const ac = new AbortController();
        const p = conn.execute('mock-sleep 60000', { signal: ac.signal });
        // The server has started the process; its CommandResponse (the only place its id is) is held.
        assert.ok(await eventually(() => running(mock, 'mock-sleep').length === 1), 'the Command never ran');
        ac.abort();
        await assert.rejects(p, AbortError);
        if (answer === 'arrives late') proxy.setHold(false);
        assert.ok(
          await eventually(() => running(mock, 'mock-sleep').length === 0, NO_HANG_MS),
          'the aborted command is still running on the server',
        );
        proxy.setHold(false);
        await settleWithin(conn.close());
        assert.equal(mock.shells().length, 0);
      } finally {
        await proxy.close();
        await mock.close();
      }
    });
  }

  it('a Command whose answer is lost (socket dropped) retires its shell instead of reusing it', async () => {
    const mock = await startMock();
    try {
      const conn = await connectTo(mock);
      await conn.execute('echo warm');
      assert.equal(mock.shells().length, 1);
      mock.inject({ match: { action: 'Command' }, kind: 'drop' });
      await assert.rejects(conn.execute('echo lost'), ConnectionError);
      // The shell may hold a process nobody can name: it is deleted, not handed back to the pool.
      assert.ok(await eventually(() => mock.shells().length === 0), `${mock.shells().length} shell(s) kept`);
      assert.equal((await conn.execute('echo next')).stdoutText, 'next\r\n');
      await conn.close();
      assert.equal(mock.shells().length, 0);
    } finally {
      await mock.close();
    }
  });

  it('the deadline covers shell creation (Create never answered)', async () => {
    const mock = await startMock();
    try {
      const conn = await connectTo(mock, { readTimeout: 60_000, closeTimeout: 2000 });
      mock.inject({ match: { action: 'Create' }, kind: 'hang' });
      const r = await settleWithin(conn.execute('echo never', { timeout: 1000 }));
      assert.equal(r.hung, false, 'execute({ timeout: 1000 }) did not settle');
      if (!r.hung) {
        assert.ok(r.error instanceof TimeoutError, String(r.error));
        assert.match(r.error.message, /nothing ran/);
      }
      await settleWithin(conn.close());
    } finally {
      await mock.close();
    }
  });

  it('after the deadline, unanswered kill Signals do not hold the caller; the message says so', async () => {
    const mock = await startMock();
    try {
      const conn = await connectTo(mock, { readTimeout: 60_000, closeTimeout: 2000 });
      mock.inject({ match: { action: 'Signal' }, kind: 'hang', once: false });
      const r = await settleWithin(conn.execute('mock-sleep 60000', { timeout: 1000 }));
      assert.equal(r.hung, false, 'execute({ timeout: 1000 }) waited for the unanswered Signals');
      if (!r.hung) {
        assert.ok(r.error instanceof TimeoutError, String(r.error));
        assert.match(r.error.message, /not confirmed/);
      }
      await settleWithin(conn.close());
    } finally {
      await mock.close();
    }
  });

  it('after an abort, close() returns within closeTimeout against a server that never answers', async () => {
    const mock = await startMock();
    try {
      const conn = await connectTo(mock, { readTimeout: 60_000, closeTimeout: 1500 });
      const ac = new AbortController();
      const p = conn.execute('mock-sleep 60000', { signal: ac.signal });
      assert.ok(await eventually(() => running(mock, 'mock-sleep').length === 1));
      const shellId = mock.shells()[0]!.shellId;
      mock.inject({ kind: 'hang', once: false }); // from now on nothing is answered
      ac.abort();
      await assert.rejects(p, AbortError);
      const r = await settleWithin(conn.close());
      assert.equal(r.hung, false, 'close() did not return');
      if (!r.hung) {
        assert.ok(isCleanupError(r.error), String(r.error));
        assert.deepEqual(r.error.shellIds, [shellId]);
      }
    } finally {
      mock.clearInjections();
      await mock.close();
    }
  });

  it('a Delete that loses its socket is retried on a fresh one: no shell left', async () => {
    const mock = await startMock();
    try {
      const conn = await connectTo(mock);
      await conn.execute('echo one');
      assert.equal(mock.shells().length, 1);
      mock.inject({ match: { action: 'Delete' }, kind: 'drop' });
      await conn.close();
      assert.equal(mock.shells().length, 0);
    } finally {
      await mock.close();
    }
  });

  it('close() rejects with a ShellCleanupError naming the shells it could not delete', async () => {
    const mock = await startMock();
    try {
      const conn = await connectTo(mock);
      await conn.execute('echo one');
      const shellId = mock.shells()[0]!.shellId;
      mock.inject({ match: { action: 'Delete' }, kind: 'drop', once: false });
      const err = await conn.close().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(isCleanupError(err), `close() settled with ${String(err)}`);
      assert.deepEqual(err.shellIds, [shellId]);
      assert.match(err.message, new RegExp(shellId));
    } finally {
      await mock.close();
    }
  });

  it('destroy() drops everything at once: running and new commands reject with ConnectionError', async () => {
    const mock = await startMock();
    try {
      const conn = await connectTo(mock, { readTimeout: 60_000 });
      const proc = await conn.startProcess('mock-sleep 60000');
      proc.stdout.resume();
      proc.stderr.resume();
      assert.ok(await eventually(() => running(mock, 'mock-sleep').length === 1));
      conn.destroy();
      const r = await settleWithin(proc.exited);
      assert.equal(r.hung, false, 'the running command did not fail');
      if (!r.hung) assert.ok(r.error instanceof ConnectionError, String(r.error));
      await assert.rejects(conn.execute('echo after'), ConnectionError);
      await assert.rejects(conn.close(), (e: unknown) => isCleanupError(e));
    } finally {
      await mock.close();
    }
  });

  it('backs off against a server that answers "Running" at once with no output', async () => {
    const fake = await startFakeWinRm({
      Receive: (n) => (n === 1 ? replies.output('x') : replies.running()),
    });
    try {
      const conn = await connect({
        endpoint: fake.url,
        username: USER.name,
        password: USER.password,
        allowUnencrypted: true,
      });
      const r = await settleWithin(conn.execute('busy', { timeout: 2000 }));
      assert.equal(r.hung, false);
      if (!r.hung) assert.ok(r.error instanceof TimeoutError, String(r.error));
      // With back-off (0, 50, 100, ... ms, at most 1000) two seconds hold about 7 polls; without, hundreds.
      assert.ok(fake.counts.Receive >= 2, `${fake.counts.Receive} Receives`);
      assert.ok(fake.counts.Receive < 40, `${fake.counts.Receive} Receives in 2 s`);
      await settleWithin(conn.close());
    } finally {
      await fake.close();
    }
  });

  it('closeTimeout and cleanupTimeout are checked durations in milliseconds', async () => {
    const base = {
      endpoint: 'http://127.0.0.1:1/wsman',
      username: 'u',
      password: 'p',
      allowUnencrypted: true,
    };
    for (const bad of [{ closeTimeout: 0 }, { cleanupTimeout: -5 }, { closeTimeout: Number.NaN }]) {
      await assert.rejects(connect({ ...base, ...bad }), api.InvalidArgumentError, JSON.stringify(bad));
    }
  });
});
