/**
 * Through a CONNECT proxy end to end against the mock: NTLM with message encryption over HTTP, and NTLM with
 * channel binding over HTTPS (TLS inside the tunnel); each channel its own tunnel, each tunnel one handshake.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../src/index.ts';
import { type MockServer, startMockServer } from '../../src/mock/index.ts';
import { type ConnectProxy, connectProxy } from './helpers.ts';

const USER = { name: 'alice', password: 'Pr0xied-Ntlm', domain: 'CORP' };

describe('NTLM through a CONNECT proxy', () => {
  let proxy: ConnectProxy;
  const mocks: MockServer[] = [];
  before(async () => {
    proxy = await connectProxy();
  });
  after(async () => {
    for (const m of mocks) await m.close();
    await proxy.close();
  });

  for (const https of [false, true]) {
    it(`runs commands with NTLM ${https ? 'over HTTPS with channel binding' : 'sealed over HTTP'}`, async () => {
      const mock = await startMockServer({
        https,
        users: [USER],
        auth: { negotiate: true, channelBinding: https ? 'strict' : 'none' },
      });
      mocks.push(mock);
      proxy.tunnels.length = 0;
      const conn = await connect({
        endpoint: mock.url,
        username: `${USER.domain}\\${USER.name}`,
        password: USER.password,
        auth: 'ntlm',
        proxy: proxy.url,
        tls: https ? { fingerprint: mock.thumbprints!.sha256 } : undefined,
      });
      try {
        const results = await Promise.all([conn.execute('echo one'), conn.execute('echo two')]);
        assert.deepEqual(
          results.map((r) => r.stdoutText),
          ['one\r\n', 'two\r\n'],
        );
      } finally {
        await conn.close();
      }
      const port = new URL(mock.url).port;
      assert.ok(proxy.tunnels.length >= 1);
      assert.ok(proxy.tunnels.every((t) => t.target.endsWith(`:${port}`)));
      const negotiated = mock.requestLog.filter((e) => e.authScheme === 'Negotiate' && e.status === 200);
      assert.ok(negotiated.length > 0, 'the mock served authenticated requests');
      if (!https) {
        assert.ok(
          mock.requestLog.every((e) => e.status !== 400),
          'every sealed message verified',
        );
      }
    });
  }
});
