/** WsmanClient.invoke against the mock: unauthenticated Identify, typed errors, no request for bad input. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DebugLog } from '../../src/debug.ts';
import { AuthenticationError } from '../../src/errors.ts';
import { createHttpTransport } from '../../src/http/transport.ts';
import { type MockServer, startMockServer } from '../../src/mock/index.ts';
import { resolveOptions } from '../../src/options/index.ts';
import { IDENTIFY } from '../../src/winrm/actions.ts';
import { WsmanClient } from '../../src/winrm/wsman-client.ts';

const USER = { name: 'ident', password: 'Id3ntify&Me' };

describe('WsmanClient.invoke', () => {
  let mock: MockServer;
  const clients: WsmanClient[] = [];
  const client = (password: string) => {
    const opts = resolveOptions({
      endpoint: mock.url,
      username: USER.name,
      password,
      allowUnencrypted: true,
    });
    const c = new WsmanClient(opts, createHttpTransport(opts), new DebugLog(undefined));
    clients.push(c);
    return c;
  };
  before(async () => {
    mock = await startMockServer({ users: [USER], auth: { basic: true }, allowUnencrypted: true });
  });
  after(async () => {
    for (const c of clients) c.close();
    await mock.close();
  });

  it('sends Identify unauthenticated with authenticate: false, even with a wrong password', async () => {
    const c = client('wrong-password');
    const anonymous = await c.invoke(IDENTIFY, undefined, { authenticate: false });
    assert.equal(anonymous.os, '0.0.0', 'the unauthenticated answer hides the OS version');
    assert.deepEqual(anonymous.securityProfiles, [], 'the unauthenticated answer names no security profile');
    assert.equal(c.requestCount, 1);
    // The same request with authentication is refused for that password.
    await assert.rejects(c.invoke(IDENTIFY, undefined), AuthenticationError);
  });

  it('authenticated Identify reports the security profiles', async () => {
    const r = await client(USER.password).invoke(IDENTIFY, undefined);
    assert.ok(r.securityProfiles.length > 0, JSON.stringify(r));
  });

  it('extra headers travel on an authenticated request, beside Authorization', async () => {
    const seen: Array<{ auth: string | undefined; test: string | undefined }> = [];
    const server = http.createServer((req, res) => {
      seen.push({ auth: req.headers.authorization, test: req.headers['x-test'] as string | undefined });
      req.resume();
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="WSMAN"', 'Content-Length': '0' });
      res.end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const opts = resolveOptions({
      endpoint: `http://127.0.0.1:${port}/wsman`,
      username: USER.name,
      password: USER.password,
      allowUnencrypted: true,
    });
    const c = new WsmanClient(opts, createHttpTransport(opts), new DebugLog(undefined));
    try {
      await assert.rejects(
        c.invoke(IDENTIFY, undefined, { headers: { 'X-Test': 'yes' } }),
        AuthenticationError,
      );
    } finally {
      c.close();
      server.close();
    }
    assert.equal(seen.length, 1);
    assert.match(seen[0]!.auth ?? '', /^Basic /);
    assert.equal(seen[0]!.test, 'yes');
  });
});
