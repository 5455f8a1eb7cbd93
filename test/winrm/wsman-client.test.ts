/** WsmanClient.invoke against the mock: unauthenticated Identify, typed errors, no request for bad input. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BasicAuth } from '../../src/auth/basic.ts';
import { DebugLog } from '../../src/debug.ts';
import { AuthenticationError, InvalidArgumentError } from '../../src/errors.ts';
import { type MockServer, startMockServer } from '../../src/mock/index.ts';
import { resolveOptions } from '../../src/options.ts';
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
    const c = new WsmanClient(opts, new BasicAuth(opts.account, opts.password), new DebugLog(undefined));
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

  it('refuses extra headers on an authenticated request before sending anything', async () => {
    const c = client(USER.password);
    await assert.rejects(
      c.invoke(IDENTIFY, undefined, { headers: { 'X-Test': '1' } }),
      (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'headers',
    );
    assert.equal(c.requestCount, 0);
  });
});
