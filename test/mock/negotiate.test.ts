/** The mock's Negotiate/NTLM acceptor: sealed traffic, and refusal of tampered or replayed messages. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DebugLog } from '../../src/debug.ts';
import { AuthenticationError, HttpError } from '../../src/errors.ts';
import type { HttpChannel, PostOptions } from '../../src/http/channel.ts';
import { createHttpTransport } from '../../src/http/transport.ts';
import { type MockServer, startMockServer } from '../../src/mock/index.ts';
import { resolveOptions } from '../../src/options/index.ts';
import { WsmanClient } from '../../src/winrm/wsman-client.ts';
import { buildCreateShell, buildDeleteShell, parseCreateShellResponse } from '../../src/wsman/index.ts';

const USER = { name: 'alice', password: 'Seal3d-Pass', domain: 'CORP' };

describe('mock Negotiate/NTLM', () => {
  let mock: MockServer;
  before(async () => {
    mock = await startMockServer({ users: [USER], auth: { negotiate: true } });
  });
  after(() => mock.close());

  function transport(password = USER.password) {
    const opts = resolveOptions({ endpoint: mock.url, username: 'CORP\\alice', password, auth: 'ntlm' });
    return new WsmanClient(opts, createHttpTransport(opts), new DebugLog());
  }

  async function createShell(t: WsmanClient): Promise<string> {
    const ctx = t.context();
    return parseCreateShellResponse(await t.send(ctx, buildCreateShell(ctx), { what: 'Create shell' }))
      .shellId;
  }

  /** Intercept the next post on the transport's channel. */
  async function onNextPost(t: WsmanClient, change: (body: Buffer) => Buffer): Promise<void> {
    const channel: HttpChannel = await t.http.pool.acquire();
    const original = channel.post.bind(channel);
    channel.post = (body: Buffer, o: PostOptions) => {
      channel.post = original;
      return original(change(Buffer.from(body)), o);
    };
    t.http.pool.release(channel);
  }

  it('serves sealed requests on an authenticated connection and seals its answers', async () => {
    const t = transport();
    const id = await createShell(t);
    assert.equal(mock.shells().length, 1);
    const ctx = t.context();
    await t.send(ctx, buildDeleteShell(ctx, { shellId: id }), { what: 'Delete shell' });
    assert.equal(mock.shells().length, 0);
    assert.ok(mock.requestLog.some((e) => e.authScheme === 'Negotiate' && e.status === 200));
    t.close();
  });

  it('refuses a message with a flipped byte (HTTP 400); the client then authenticates afresh', async () => {
    const t = transport();
    await createShell(t);
    await onNextPost(t, (b) => {
      b.writeUInt8(b.readUInt8(b.length - 40) ^ 0x40, b.length - 40);
      return b;
    });
    await assert.rejects(createShell(t), (e: unknown) => e instanceof HttpError && e.status === 400);
    assert.ok(await createShell(t), 'the next request works after a new handshake');
    t.close();
  });

  it('refuses a replayed message (same sequence number)', async () => {
    const t = transport();
    await createShell(t);
    let captured: Buffer | undefined;
    await onNextPost(t, (b) => {
      captured = Buffer.from(b);
      return b;
    });
    await createShell(t);
    await onNextPost(t, () => captured!);
    await assert.rejects(createShell(t), (e: unknown) => e instanceof HttpError && e.status === 400);
    t.close();
  });

  it('a wrong password is a 401 and an AuthenticationError', async () => {
    const t = transport('wrong');
    await assert.rejects(createShell(t), AuthenticationError);
    assert.ok(mock.requestLog.some((e) => e.status === 401 && e.authScheme === 'Negotiate'));
    t.close();
  });
});
