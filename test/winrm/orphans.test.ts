/**
 * Named shells and the orphan-shell sweep: a Create whose answer is lost leaves a shell on the server that the
 * pool never learned of; it carries this connection's name, so sweepOrphanShells() (and close()) find it through
 * an Enumerate of the shell resource and delete it, and never touch another connection's live shells.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ConnectionOptions, connect, WinRmError } from '../../src/index.ts';
import { type MockServer, startMockServer } from '../../src/mock/index.ts';
import { WinRmInternalConnection } from '../../src/winrm/connection.ts';

const USER = { name: 'vagrant', password: 'vagrant' };
const connectTo = async (mock: MockServer, extra: Partial<ConnectionOptions> = {}) => {
  const conn = await connect({
    endpoint: mock.url,
    username: USER.name,
    password: USER.password,
    allowUnencrypted: true,
    ...extra,
  });
  assert.ok(conn instanceof WinRmInternalConnection);
  return conn;
};
const start = () => startMockServer({ auth: { basic: true }, allowUnencrypted: true, users: [USER] });

describe('orphan shells', () => {
  it('every shell is created with the connection name, and the mock shows it', async () => {
    const mock = await start();
    try {
      const conn = await connectTo(mock);
      await conn.execute('echo one');
      const [shell] = mock.shells();
      assert.ok(shell, 'a shell is open');
      assert.equal(shell.name, conn.shellName);
      assert.match(conn.shellName, /^winrm-connection-[0-9a-f-]{36}$/);
      const other = await connectTo(mock);
      assert.notEqual(other.shellName, conn.shellName);
      await Promise.all([conn.close(), other.close()]);
    } finally {
      await mock.close();
    }
  });

  it('sweepOrphanShells() deletes the shell of a lost Create answer and leaves the live ones alone', async () => {
    const mock = await start();
    try {
      const neighbour = await connectTo(mock);
      const conn = await connectTo(mock);
      await neighbour.execute('echo live'); // the neighbour's idle shell stays in its pool
      await conn.execute('echo mine'); // this connection's own pooled shell
      const neighbourShell = mock.shells().find((s) => s.name === neighbour.shellName)!.shellId;
      const pooled = mock.shells().find((s) => s.name === conn.shellName)!.shellId;
      // The server makes the shell, the answer is cut off: the pool never learns its id.
      mock.inject({ match: { action: 'Create' }, kind: 'truncate' });
      // Other settings than the pooled shell's, so a new shell is created.
      await assert.rejects(conn.execute('echo lost', { codepage: 437 }), WinRmError);
      assert.equal(mock.shells().length, 3, 'the orphan exists on the server');
      const orphan = mock.shells().find((s) => s.shellId !== neighbourShell && s.shellId !== pooled)!.shellId;

      const swept = await conn.sweepOrphanShells();
      assert.deepEqual(swept, [orphan]);
      assert.deepEqual(
        mock
          .shells()
          .map((s) => s.shellId)
          .sort(),
        [neighbourShell, pooled].sort(),
      );

      await conn.close();
      assert.deepEqual(
        mock.shells().map((s) => s.shellId),
        [neighbourShell],
      );
      await neighbour.close();
      assert.equal(mock.shells().length, 0);
    } finally {
      await mock.close();
    }
  });

  it('close() after a lost Create deletes the orphan: no shell is left', async () => {
    const mock = await start();
    try {
      const neighbour = await connectTo(mock);
      await neighbour.execute('echo live');
      const conn = await connectTo(mock);
      mock.inject({ match: { action: 'Create' }, kind: 'truncate' });
      await assert.rejects(conn.execute('echo lost'), WinRmError);
      assert.equal(mock.shells().length, 2, 'the orphan exists on the server');
      await conn.close();
      assert.deepEqual(
        mock.shells().map((s) => s.name),
        [neighbour.shellName],
        "only the neighbour's live shell is left",
      );
      assert.equal(mock.stats.byAction.Enumerate, 1, 'close() enumerated the shells once');
      await neighbour.close();
      assert.equal(mock.shells().length, 0);
    } finally {
      await mock.close();
    }
  });

  it('close() does not enumerate when every Create was answered (a fault is an answer)', async () => {
    const mock = await start();
    try {
      const conn = await connectTo(mock);
      await conn.execute('echo one');
      mock.inject({ match: { action: 'Create' }, kind: 'fault', fault: { wsmanCode: 2150859173 } });
      await assert.rejects(conn.execute('echo two', { codepage: 437 }), WinRmError);
      await conn.close();
      assert.equal(mock.shells().length, 0);
      assert.equal(mock.stats.byAction.Enumerate, undefined, 'no Enumerate was sent');
    } finally {
      await mock.close();
    }
  });
});
