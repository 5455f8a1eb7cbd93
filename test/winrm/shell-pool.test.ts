/**
 * Shell pool edges against the mock: an abort while a shell is being created does not leak the shell the server
 * makes anyway, a connection closed while requests wait for a socket fails them instead of hanging, and a
 * command that completed just before close() needs no terminate Signal: the shell's Delete frees it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AbortError, type ConnectionOptions, connect, WinRmError } from '../../src/index.ts';
import { type MockServer, startMockServer } from '../../src/mock/index.ts';
import { eventually } from '../helpers/winrm-mock.ts';

const USER = { name: 'vagrant', password: 'vagrant' };
const connectTo = (mock: MockServer, extra: Partial<ConnectionOptions> = {}) =>
  connect({
    endpoint: mock.url,
    username: USER.name,
    password: USER.password,
    allowUnencrypted: true,
    ...extra,
  });

describe('shell pool edges', () => {
  it('an abort during Create returns at once; the shell the server made anyway is deleted by close()', async () => {
    const mock = await startMockServer({ auth: { basic: true }, allowUnencrypted: true, users: [USER] });
    try {
      const conn = await connectTo(mock);
      mock.inject({ match: { action: 'Create' }, kind: 'delay', delayMs: 300 });
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      await assert.rejects(conn.execute('echo never', { signal: ac.signal }), AbortError);
      // The Create completes on the server after the abort; the shell joins the pool instead of leaking.
      const deadline = Date.now() + 5000;
      while (mock.shells().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(mock.shells().length, 1);
      const r = await conn.execute('echo reused');
      assert.equal(r.stdoutText, 'reused\r\n');
      // Usually the shell made during the abort is reused (1); a second one is made when the next command comes
      // before the late answer arrives. Either way none is left behind by close().
      assert.ok(mock.stats.shellsCreated <= 2, `${mock.stats.shellsCreated} shells created`);
      await conn.close();
      assert.equal(mock.shells().length, 0);
    } finally {
      await mock.close();
    }
  });

  it('close() fails requests still waiting for a socket instead of leaving them pending', async () => {
    const mock = await startMockServer({ auth: { basic: true }, allowUnencrypted: true, users: [USER] });
    try {
      const conn = await connectTo(mock, { maxConcurrentRequests: 1 });
      mock.inject({ match: { action: 'Create' }, kind: 'delay', delayMs: 200 });
      const first = conn.execute('echo one');
      const second = conn.execute('echo two'); // waits for the only socket
      const results = Promise.allSettled([first, second]);
      await new Promise((r) => setTimeout(r, 20));
      await conn.close();
      for (const r of await results) {
        if (r.status === 'rejected') assert.ok(r.reason instanceof WinRmError, String(r.reason));
      }
      assert.equal(mock.shells().length, 0);
    } finally {
      await mock.close();
    }
  });
  it('close() right after a command: no terminate Signal, the Delete frees the command ([MS-WSMV] 3.1.4.4.1)', async () => {
    const mock = await startMockServer({ auth: { basic: true }, allowUnencrypted: true, users: [USER] });
    try {
      const conn = await connectTo(mock);
      const r = await conn.execute('echo once');
      assert.equal(r.stdoutText, 'once\r\n');
      await conn.close();
      assert.equal(mock.stats.byAction.Signal, undefined, JSON.stringify(mock.stats.byAction));
      assert.equal(mock.stats.byAction.Delete, 1);
      assert.equal(mock.shells().length, 0);
    } finally {
      await mock.close();
    }
  });

  it('a connection that stays open terminates each completed command, so its shell is reused', async () => {
    const mock = await startMockServer({ auth: { basic: true }, allowUnencrypted: true, users: [USER] });
    try {
      const conn = await connectTo(mock);
      await conn.execute('echo one');
      const terminated = () => mock.shells()[0]?.commands[0]?.signals.includes('terminate') === true;
      assert.ok(await eventually(terminated), JSON.stringify(mock.shells()));
      await conn.execute('echo two');
      await conn.close();
      assert.equal(mock.stats.shellsCreated, 1);
      // The second command completed just before close(): its shell's Delete freed it.
      assert.equal(mock.stats.byAction.Signal, 1, JSON.stringify(mock.stats.byAction));
      assert.equal(mock.shells().length, 0);
    } finally {
      await mock.close();
    }
  });
});
