/**
 * describeConnectionContract: one suite every strategy must pass (WinRM-internal over HTTP/HTTPS now; NTLM,
 * Kerberos and winrs-native later). The environment supplies connections and what the far side observed.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection, ConnectionOptions } from '../../src/index.ts';
import { AbortError, TimeoutError, WinRmError, WsmanFaultError } from '../../src/index.ts';
import { ALL_BYTES, type Observations, UNICODE_TEXT } from './commands.ts';

/** What only some strategies have; tests of a capability an environment lacks are skipped. */
export interface Capabilities {
  /** Remote shells reused across commands and bounded by maxShells (WinRM-internal); needs openShells(). */
  shellPooling: boolean;
  /** The far side can fail the next request of an action with a WSManFault; needs injectFault(). */
  faultInjection: boolean;
  /** stats().requests counts the requests sent (WinRM-internal: HTTP requests). */
  requestCounts: boolean;
  /** Exit codes above 255 reach the caller. Default: true (false: a POSIX proxy, whose exit status holds 8 bits). */
  wideExitCodes?: boolean;
  /** kill() and aborts reach the command as Signals. Default: true (false: a proxy that drops them). */
  signals?: boolean;
  /**
   * kill('terminate') reaches the command as a terminate Signal. Default: true (false: a proxy that can only
   * forward a Ctrl-C, such as winrs.exe on a jump host; the command must then see ctrl_c).
   */
  terminateSignal?: boolean;
}

export interface ContractEnvironment {
  /** A new connection; extra options override the environment's. */
  connect(extra?: Partial<ConnectionOptions>): Promise<Connection>;
  /** What the remote commands observed. */
  seen: Observations;
  capabilities: Capabilities;
  /** Shells currently open on the far side (shellPooling). */
  openShells?(): number;
  /** Make the next request of this action fail with this WSManFault code (faultInjection). */
  injectFault?(action: string, wsmanCode: number): void;
  /** OperationTimeout (milliseconds) the environment's connections use; tests stay silent for 3x this. */
  operationTimeout: number;
  /** How many sequential commands the "1,000 sequential commands" test runs. Default: 1000 (a strategy that starts a process per command may give fewer). */
  sequentialCommands?: number;
  close(): Promise<void>;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function describeConnectionContract(name: string, setup: () => Promise<ContractEnvironment>): void {
  describe(`Connection contract: ${name}`, () => {
    let env: ContractEnvironment;
    let conn: Connection;
    const openShells = (): number => {
      if (!env.openShells) throw new Error('an environment with shellPooling must give openShells()');
      return env.openShells();
    };
    /** Whether a command saw `signal` (after the first `from` signals) within a generous "does not hang" bound. */
    const signalSeen = async (signal: string, from: number): Promise<boolean> => {
      const deadline = Date.now() + 10_000;
      while (!env.seen.signals.slice(from).includes(signal)) {
        if (Date.now() > deadline) return false;
        await sleep(10);
      }
      return true;
    };
    before(async () => {
      env = await setup();
      conn = await env.connect();
    });
    after(async () => {
      await conn?.close();
      await env?.close();
    });

    it('reports exit codes 0, non-zero and above 255', async (t) => {
      assert.equal((await conn.execute('exit /b 0')).exitCode, 0);
      assert.equal((await conn.execute('exit /b 3')).exitCode, 3);
      if (env.capabilities.wideExitCodes === false) return t.skip('8-bit exit codes here');
      assert.equal((await conn.execute('exit /b 300')).exitCode, 300);
    });

    it('keeps stdout and stderr apart and byte-exact (binary, CRLF)', async () => {
      const r = await conn.execute('contract-binary');
      assert.deepEqual(r.stdout, ALL_BYTES);
      assert.equal(r.stderrText, 'line one\r\nline two\r\n');
    });

    it('decodes UTF-8 (65001) and OEM 437 text', async () => {
      const utf8 = await conn.execute('contract-text');
      assert.equal(utf8.stdoutText, UNICODE_TEXT);
      assert.deepEqual(utf8.stdout, Buffer.from(UNICODE_TEXT, 'utf8'));
      const oem = await conn.execute('contract-text', { codepage: 437 });
      assert.equal(oem.stdoutText, UNICODE_TEXT);
      assert.notDeepEqual(oem.stdout, utf8.stdout);
    });

    it('passes argv arrays through cmd.exe quoting', async () => {
      const r = await conn.execute(['echo', 'a&b']);
      // cmd.exe removes the carets that protect '&', so echo prints the argument as given.
      assert.equal(r.stdoutText, 'a&b\r\n');
      assert.equal(r.exitCode, 0);
    });

    for (const [label, size] of [
      ['empty', 0],
      ['small', 5],
      ['10 MB', 10 * 1024 * 1024],
    ] as const) {
      it(`sends stdin (${label}) byte-exact`, async () => {
        const data = Buffer.alloc(size);
        for (let i = 0; i < size; i++) data[i] = (i * 7 + 3) & 0xff;
        const r = await conn.execute('contract-cat', { stdin: data });
        assert.equal(r.exitCode, 0);
        assert.equal(sha(r.stdout), sha(data));
        assert.equal(env.seen.stdinSha256.at(-1), sha(data));
      });
    }

    it('streams stdin from a Readable', async () => {
      const parts = Array.from({ length: 50 }, (_, i) => Buffer.alloc(10_000, i));
      const r = await conn.execute('contract-cat', { stdin: Readable.from(parts) });
      assert.equal(sha(r.stdout), sha(Buffer.concat(parts)));
    });

    it('waits through a command silent for 3x the OperationTimeout', async () => {
      const ms = env.operationTimeout * 3;
      const r = await conn.execute(`contract-sleep ${ms}`);
      assert.equal(r.stdoutText, 'awake\r\n');
    });

    it('reads a 100 MB output slowly with bounded memory', async () => {
      const size = 100 * 1024 * 1024;
      const proc = await conn.startProcess(`mock-output ${size}`);
      let got = 0;
      let peak = 0;
      const rss0 = process.memoryUsage().rss;
      proc.stderr.resume();
      for await (const chunk of proc.stdout) {
        got += (chunk as Buffer).length;
        if (got % (8 * 1024 * 1024) < (chunk as Buffer).length) {
          await sleep(20); // a slow consumer
          peak = Math.max(peak, process.memoryUsage().rss - rss0);
        }
      }
      assert.equal(await proc.exited, 0);
      assert.equal(got, size);
      // Both ends (the mock included) run in this process, and with NTLM both seal and unseal every message, so
      // garbage comes twice. A client that buffered the output would grow by at least the 100 MB it held.
      assert.ok(peak < 80 * 1024 * 1024, `RSS grew by ${Math.round(peak / 1048576)} MB`);
    });

    it('cancels through an AbortSignal: the command sees ctrl_c', async (t) => {
      if (env.capabilities.signals === false) return t.skip('the environment delivers no signals');
      const ac = new AbortController();
      const p = conn.execute('contract-wait-for-signal', { signal: ac.signal });
      await sleep(300);
      const from = env.seen.signals.length;
      ac.abort();
      await assert.rejects(p, AbortError);
      // The caller hears of the abort at once; the Signals follow (the error says they are not confirmed).
      assert.ok(await signalSeen('ctrl_c', from), `signals seen: ${env.seen.signals.join(', ')}`);
    });

    it('kill("terminate") stops a process: the command sees terminate', async (t) => {
      if (env.capabilities.signals === false) return t.skip('the environment delivers no signals');
      const proc = await conn.startProcess('contract-wait-for-signal');
      proc.stdout.resume();
      proc.stderr.resume();
      await sleep(300);
      const from = env.seen.signals.length;
      await proc.kill('terminate');
      await assert.rejects(proc.exited, AbortError);
      const expected = env.capabilities.terminateSignal === false ? 'ctrl_c' : 'terminate';
      assert.ok(await signalSeen(expected, from), `signals seen: ${env.seen.signals.join(', ')}`);
    });

    it('kill() sends ctrl_c and the process exits normally', async (t) => {
      if (env.capabilities.signals === false) return t.skip('the environment delivers no signals');
      const proc = await conn.startProcess('contract-wait-for-signal');
      proc.stdout.resume();
      proc.stderr.resume();
      await sleep(300);
      await proc.kill();
      assert.equal(await proc.exited, 0xc000013a);
      assert.equal(env.seen.signals.at(-1), 'ctrl_c');
    });

    it('enforces the deadline with a TimeoutError', async () => {
      const started = Date.now();
      await assert.rejects(conn.execute('contract-wait-for-signal', { timeout: 500 }), TimeoutError);
      assert.ok(Date.now() - started < 10_000);
    });

    it('runs 1,000 sequential commands; with shell pooling on one shell, none left after close()', async () => {
      const c = await env.connect();
      const count = env.sequentialCommands ?? 1000;
      for (let i = 0; i < count; i++) {
        const r = await c.execute(`echo ${i}`);
        assert.equal(r.stdoutText, `${i}\r\n`);
      }
      assert.equal(c.stats().processesRunning, 0);
      if (env.capabilities.requestCounts) {
        const requests = c.stats().requests;
        // Per command: Command, Receive, the stdin End (sent beside the Receive, not awaited), Signal terminate.
        assert.ok(requests !== undefined && requests <= 1 + count * 4, `${requests} requests`);
      }
      if (env.capabilities.shellPooling) assert.ok(openShells() >= 1);
      await c.close();
      await conn.close();
      if (env.capabilities.shellPooling) assert.equal(openShells(), 0);
      conn = await env.connect();
    });

    it('runs commands concurrently on one connection, more than it has sockets, each with its own output', async () => {
      const c = await env.connect();
      try {
        // 12 commands that long-poll (past the 8 channels a connection opens by default) and 24 quick ones.
        const slow = Array.from({ length: 12 }, (_, i) => c.execute(`contract-sleep ${100 + 20 * i}`));
        const quick = Array.from({ length: 24 }, (_, i) => c.execute(['cmd', '/c', 'echo', `parallel-${i}`]));
        const slowResults = await Promise.all(slow);
        const quickResults = await Promise.all(quick);
        for (const r of slowResults) assert.deepEqual([r.exitCode, r.stdoutText], [0, 'awake\r\n']);
        for (const [i, r] of quickResults.entries()) {
          assert.deepEqual([r.exitCode, r.stdoutText], [0, `parallel-${i}\r\n`]);
        }
      } finally {
        await c.close();
      }
      const after = await env.connect();
      assert.equal((await after.execute('echo still-fine')).stdoutText, 'still-fine\r\n');
      await after.close();
    });

    it('keeps at most maxShells shells open; the other commands wait for one', async (t) => {
      if (!env.capabilities.shellPooling) return t.skip('the strategy pools no shells');
      const baseline = openShells();
      const c = await env.connect({ maxShells: 2 });
      let most = 0;
      let running = true;
      const watch = (async () => {
        while (running) {
          most = Math.max(most, openShells() - baseline);
          await sleep(5);
        }
      })();
      try {
        const results = await Promise.all(Array.from({ length: 6 }, () => c.execute('contract-sleep 150')));
        for (const r of results) assert.equal(r.stdoutText, 'awake\r\n');
      } finally {
        running = false;
        await watch;
        await c.close();
      }
      assert.ok(most >= 1 && most <= 2, `saw ${most} shells open at once`);
      assert.equal(openShells(), baseline);
    });

    it('close() while commands are still starting leaves nothing running and no shell behind', async () => {
      const baseline = env.capabilities.shellPooling ? openShells() : 0;
      const c = await env.connect();
      const pending = Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => c.execute(`contract-sleep ${50 + i}`)),
      );
      await c.close();
      const settled = await pending;
      for (const r of settled) {
        if (r.status === 'rejected') assert.ok(r.reason instanceof WinRmError, String(r.reason));
      }
      assert.equal(c.stats().processesRunning, 0);
      if (env.capabilities.shellPooling) assert.equal(openShells(), baseline);
      await assert.rejects(c.execute('echo too-late'), WinRmError);
    });

    it('surfaces faults as typed errors', async (t) => {
      if (!env.capabilities.faultInjection || !env.injectFault)
        return t.skip('environment cannot inject faults');
      env.injectFault('Command', 2150858817);
      await assert.rejects(
        conn.execute('echo x'),
        (e: unknown) => e instanceof WsmanFaultError && e.faultCode === 2150858817,
      );
      assert.equal((await conn.execute('echo again')).stdoutText, 'again\r\n');
    });

    it('recovers from a shell that disappeared (2150858843) by reopening it', async (t) => {
      if (!env.capabilities.faultInjection || !env.capabilities.shellPooling || !env.injectFault) {
        return t.skip('needs fault injection and shell pooling');
      }
      await conn.execute('echo warm');
      env.injectFault('Command', 2150858843);
      assert.equal((await conn.execute('echo reopened')).stdoutText, 'reopened\r\n');
    });

    it('bad input is a typed error, nothing is sent', async () => {
      await assert.rejects(
        conn.execute(''),
        (e: unknown) => e instanceof WinRmError && e.code === 'WINRM_INVALID_ARGUMENT',
      );
      await assert.rejects(conn.execute('echo x', { timeout: -1 }), /timeout must be a positive number/);
    });
  });
}
