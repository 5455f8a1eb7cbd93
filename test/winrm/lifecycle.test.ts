/** Execution lifecycle against the mock: stdin closing, aborts, deadlines, close() and destroy(). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectTo, startMock } from '../helpers/winrm-mock.ts';

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
});
