/**
 * The axios channel against raw TCP servers: one kept-alive socket reused and replaced, typed errors for bad
 * framing, oversized answers, silence, aborts and resets, the status-000 defect of the old reader, the idle
 * limit, and environment proxies ignored.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { AbortError, ConnectionError, ProtocolError, TimeoutError } from '../../src/errors.ts';
import { channelFor, ok, type RawServer, rawServer } from './helpers.ts';

const x = Buffer.from('x');

describe('HttpChannel (axios, one socket)', () => {
  const servers: RawServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });
  const url = (s: RawServer) => `http://127.0.0.1:${s.port}/wsman`;

  it('reuses one connection for consecutive requests and reports its generation', async () => {
    const heads: string[] = [];
    const srv = await rawServer((n, _s, head) => {
      heads.push(head);
      return ok(`answer ${n}`);
    });
    servers.push(srv);
    const ch = channelFor(url(srv));
    const a = await ch.post(x, { headers: { 'Content-Type': 'text/plain' } });
    const b = await ch.post(Buffer.from('yy'), { headers: {} });
    assert.equal(a.body.toString(), 'answer 1');
    assert.equal(b.body.toString(), 'answer 2');
    assert.equal(a.generation, 1);
    assert.equal(b.generation, 1);
    assert.equal(srv.connections, 1);
    assert.match(heads[0]!, /^POST \/wsman HTTP\/1\.1\r\n/);
    assert.match(heads[0]!, /\r\ncontent-type: text\/plain/i);
    assert.match(heads[1]!, /\r\ncontent-length: 2/i);
    assert.doesNotMatch(heads.join('\n'), /gzip|axios/i, 'no compression offered, no library banner');
    ch.destroy();
  });

  it('opens a new connection after the server closes the idle one or answers Connection: close', async () => {
    let firstClosed: Promise<unknown> | undefined;
    const srv = await rawServer((n, socket) => {
      if (n === 1) {
        firstClosed = once(socket, 'close');
        socket.end(ok('one'));
        return undefined;
      }
      return ok(`n${n}`, n === 2 ? 'Connection: close\r\n' : '');
    });
    servers.push(srv);
    const ch = channelFor(url(srv));
    const one = await ch.post(x, { headers: {} });
    assert.equal(one.body.toString(), 'one');
    // The FIN arrives while the socket is idle: the server's socket closes once the client has seen it and closed
    // its side, however long a busy machine takes (a fixed sleep raced it).
    await firstClosed;
    const two = await ch.post(x, { headers: {} });
    assert.equal(two.body.toString(), 'n2');
    const three = await ch.post(x, { headers: {} });
    assert.equal(three.body.toString(), 'n3');
    assert.deepEqual([one.generation, two.generation, three.generation], [1, 2, 3]);
    assert.equal(srv.connections, 3);
    ch.destroy();
  });

  it('does not reuse a socket idle longer than the reuse limit', async () => {
    const srv = await rawServer((n) => ok(`n${n}`));
    servers.push(srv);
    const ch = channelFor(url(srv), {}, { maxIdleReuseMs: 30 });
    assert.equal((await ch.post(x, { headers: {} })).generation, 1);
    assert.equal((await ch.post(x, { headers: {} })).generation, 1);
    await new Promise((r) => setTimeout(r, 80));
    assert.equal((await ch.post(x, { headers: {} })).generation, 2);
    assert.equal(srv.connections, 2);
    ch.destroy();
  });

  it('maps bad framing, oversized answers, silence and aborts to typed errors', async () => {
    const srv = await rawServer((n) => {
      if (n === 1) return 'HTTP/1.1 banana\r\n\r\n';
      if (n === 2) return `HTTP/1.1 200 OK\r\nContent-Length: ${1 << 20}\r\n\r\n${'a'.repeat(1 << 20)}`;
      return undefined; // silence
    });
    servers.push(srv);
    const ch = channelFor(url(srv), { maxResponseBytes: 1000, readTimeout: 1000, operationTimeout: 500 });
    await assert.rejects(ch.post(x, { headers: {} }), (e: unknown) => {
      return e instanceof ProtocolError && /not valid HTTP\/1\.1/.test(e.message);
    });
    await assert.rejects(ch.post(x, { headers: {} }), (e: unknown) => {
      return (
        e instanceof ProtocolError && /too large/.test(e.message) && /maxResponseBytes/.test(e.remedy ?? '')
      );
    });
    await assert.rejects(ch.post(x, { headers: {} }), (e: unknown) => e instanceof TimeoutError);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(
      ch.post(x, { headers: {}, signal: ac.signal }),
      (e: unknown) => e instanceof AbortError,
    );
    ch.destroy();
  });

  it('an answer with status 000 is a ProtocolError (the old reader accepted it)', async () => {
    const srv = await rawServer(() => 'HTTP/1.1 000 OK\r\nContent-Length: 2\r\n\r\nok');
    servers.push(srv);
    const ch = channelFor(url(srv));
    await assert.rejects(ch.post(x, { headers: {} }), (e: unknown) => {
      return e instanceof ProtocolError && /000/.test(e.message);
    });
    ch.destroy();
  });

  it('a reset before the answer is a ConnectionError naming host and port', async () => {
    const srv = await rawServer((_n, socket) => {
      socket.destroy();
      return undefined;
    });
    servers.push(srv);
    const ch = channelFor(url(srv));
    await assert.rejects(
      ch.post(x, { headers: {} }),
      (e: unknown) => e instanceof ConnectionError && e.message.includes(`127.0.0.1:${srv.port}`),
    );
    ch.destroy();
  });

  it('a refused connection names host, port and the listener check', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const p = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const ch = channelFor(`http://127.0.0.1:${p}/wsman`);
    await assert.rejects(
      ch.post(x, { headers: {} }),
      (e: unknown) =>
        e instanceof ConnectionError &&
        e.message.includes(`127.0.0.1:${p}`) &&
        /winrm e winrm\/config\/listener/.test(e.remedy ?? ''),
    );
    ch.destroy();
  });

  it('HTTP_PROXY and HTTPS_PROXY in the environment do not reroute the request', async () => {
    const srv = await rawServer((n) => ok(`direct ${n}`));
    servers.push(srv);
    const saved = { ...process.env };
    // A dead proxy: anything sent there fails.
    for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY']) {
      process.env[k] = 'http://127.0.0.1:9';
    }
    delete process.env.NO_PROXY;
    delete process.env.no_proxy;
    try {
      const ch = channelFor(url(srv));
      assert.equal((await ch.post(x, { headers: {} })).body.toString(), 'direct 1');
      ch.destroy();
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});
