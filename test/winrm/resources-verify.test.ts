/** connect({ verify: true }) and conn.verify(): an authenticated Identify up front, failures typed and named. */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../src/connect.ts';
import { AuthenticationError, ConnectionError, InvalidArgumentError } from '../../src/errors.ts';
import type { MockServer } from '../../src/mock/index.ts';
import type { WinRmInternalConnection } from '../../src/winrm/connection.ts';
import { connectTo, startMock, USER } from '../helpers/winrm-mock.ts';

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('verify', () => {
  let mock: MockServer;
  before(async () => {
    mock = await startMock();
  });
  after(() => mock.close());

  it('connect({ verify: true }) rejects with a ConnectionError against a closed port', async () => {
    const port = await closedPort();
    const opts = {
      endpoint: `http://127.0.0.1:${port}/wsman`,
      ...USER,
      username: USER.name,
      allowUnencrypted: true,
    };
    const lazy = await connect(opts);
    lazy.destroy();
    await assert.rejects(connect({ ...opts, verify: true }), (e: unknown) => {
      assert.ok(e instanceof ConnectionError, String(e));
      return true;
    });
  });

  it('connect({ verify: true }) rejects with an AuthenticationError naming the fix for a wrong password', async () => {
    await assert.rejects(connectTo(mock, { password: 'wrong', verify: true }), (e: unknown) => {
      assert.ok(e instanceof AuthenticationError, String(e));
      assert.ok(e.remedy, 'names the fix');
      assert.ok(!e.message.includes('wrong'), 'no password in the message');
      return true;
    });
  });

  it('connect({ verify: true }) resolves against a healthy host; conn.verify() sends an authenticated Identify', async () => {
    const conn = (await connectTo(mock, { verify: true })) as WinRmInternalConnection;
    try {
      const sent = conn.stats().requests ?? 0;
      assert.ok(sent >= 1, 'the Identify went out during connect()');
      const id = await conn.verify();
      assert.equal(id.productVendor, 'Microsoft Corporation');
      assert.ok((conn.stats().requests ?? 0) > sent);
    } finally {
      await conn.close();
    }
  });

  it('refuses a non-boolean verify', async () => {
    await assert.rejects(
      connectTo(mock, { verify: 'yes' as unknown as boolean }),
      (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'verify',
    );
  });
});
