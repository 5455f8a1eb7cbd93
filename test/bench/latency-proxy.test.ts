/**
 * The benchmark's latency proxy: the measurements through it rest on these properties. Delays are checked as
 * lower bounds only (a busy machine may add any amount on top).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { HttpRequestCounter } from '../../bench/lib/http-count.ts';
import { type LatencyProxy, releaseTime, startLatencyProxy } from '../../bench/lib/latency-proxy.ts';

const DELAY = 40;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

/** An upstream server that hands each accepted socket to `onSocket`; closed after the test. */
async function upstream(onSocket: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: true }, onSocket);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { server, port: (server.address() as AddressInfo).port };
}

async function proxyTo(port: number, extra: { delayMs?: number } = {}): Promise<LatencyProxy> {
  const proxy = await startLatencyProxy({ target: { host: '127.0.0.1', port }, delayMs: DELAY, ...extra });
  cleanups.push(() => proxy.close());
  return proxy;
}

async function dial(proxy: LatencyProxy, allowHalfOpen = false): Promise<Socket> {
  const s = connect({ host: proxy.host, port: proxy.port, allowHalfOpen });
  await once(s, 'connect');
  cleanups.push(() => {
    s.destroy();
  });
  return s;
}

/** The first socket an upstream server accepts. */
function withServerSocket(): { onSocket: (s: Socket) => void; socket: Promise<Socket> } {
  let onSocket!: (s: Socket) => void;
  const socket = new Promise<Socket>((resolve) => {
    onSocket = resolve;
  });
  return { onSocket, socket };
}

/** Everything `s` sends until its FIN. */
function readToEnd(s: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    s.on('data', (d) => {
      text += d;
    });
    s.once('end', () => resolve(text));
    s.once('error', reject);
  });
}

/** Resolves with the time the next data event fires on `s`. */
const nextData = (s: Socket) => once(s, 'data').then(() => performance.now());

describe('latency proxy', () => {
  it('releases each chunk its own delay after arrival, not behind the chunks before it', () => {
    const link = { delayMs: 5, bytesPerSecond: 0, notBefore: 0 };
    const times = [0, 1, 2].map((t) => releaseTime(t, 1000, 0, link).at);
    assert.deepEqual(times, [5, 6, 7]);
    // The handshake floor holds back early bytes only.
    const first = { ...link, notBefore: 15 };
    assert.deepEqual(
      [0, 20].map((t) => releaseTime(t, 10, 0, first).at),
      [15, 25],
    );
    // A 1000 B/s cap serialises transmission (1 s per 1000 bytes), then adds the delay.
    const capped = { delayMs: 5, bytesPerSecond: 1000, notBefore: 0 };
    const a = releaseTime(0, 1000, 0, capped);
    const b = releaseTime(0, 1000, a.linkFreeAt, capped);
    assert.deepEqual([a.at, b.at], [1005, 2005]);
  });

  it('adds at least the configured delay each way, and the handshake round trip to a new connection', async () => {
    let server: Socket | undefined;
    const up = await upstream((s) => {
      server = s;
      s.on('data', (d) => s.write(d));
    });
    const proxy = await proxyTo(up.port);
    const acceptedBy = performance.now();
    const client = await dial(proxy);
    let t0 = performance.now();
    client.write('a');
    let t1 = await nextData(client);
    // First bytes: SYN + SYN-ACK + data one way (3 delays), then the echo back (1 delay).
    assert.ok(t1 - acceptedBy >= 4 * DELAY, `first echo after ${t1 - acceptedBy} ms`);
    for (let i = 0; i < 3; i++) {
      t0 = performance.now();
      const arrived = once(server!, 'data').then(() => performance.now());
      client.write('b');
      const atServer = await arrived;
      t1 = await nextData(client);
      assert.ok(atServer - t0 >= DELAY, `one way up took ${atServer - t0} ms`);
      assert.ok(t1 - atServer >= DELAY, `one way down took ${t1 - atServer} ms`);
      assert.ok(t1 - t0 >= 2 * DELAY, `round trip took ${t1 - t0} ms`);
    }
  });

  it('a delay of 0 forwards immediately', async () => {
    const up = await upstream((s) => s.on('data', (d) => s.write(d)));
    const proxy = await proxyTo(up.port, { delayMs: 0 });
    const client = await dial(proxy);
    client.write('ping');
    const [d] = (await once(client, 'data')) as [Buffer];
    assert.equal(d.toString(), 'ping');
  });

  it('delivers a large transfer intact and in order, both ways, with back-pressure', async () => {
    const size = 24 * 1024 * 1024;
    const up = await upstream((s) => s.pipe(s)); // echo, ending when the client ends
    const proxy = await proxyTo(up.port, { delayMs: 2 });
    const client = await dial(proxy);
    const sent = createHash('sha256');
    const got = createHash('sha256');
    let received = 0;
    client.on('data', (d: Buffer) => {
      received += d.length;
      got.update(d);
    });
    const ended = once(client, 'end');
    let x = 0x9e3779b9;
    for (let off = 0; off < size; ) {
      const n = Math.min(size - off, 1 + ((x >>> 0) % 70_000));
      const chunk = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        chunk[i] = x & 0xff;
      }
      sent.update(chunk);
      off += n;
      if (!client.write(chunk)) await once(client, 'drain');
    }
    client.end();
    await ended;
    assert.equal(received, size);
    assert.equal(got.digest('hex'), sent.digest('hex'));
    const st = proxy.stats();
    assert.equal(st.bytesUp, size);
    assert.equal(st.bytesDown, size);
  });

  it('maps each client connection to exactly one upstream connection', async () => {
    const seen: Socket[] = [];
    const up = await upstream((s) => {
      seen.push(s);
      s.on('end', () => s.end());
      s.on('data', (d) => s.write(Buffer.concat([Buffer.from(`${seen.indexOf(s)}:`), d])));
    });
    const proxy = await proxyTo(up.port, { delayMs: 1 });
    const clients = [await dial(proxy), await dial(proxy), await dial(proxy)];
    const replies = await Promise.all(
      clients.map(async (c, i) => {
        c.write(`c${i}`);
        const [d] = (await once(c, 'data')) as [Buffer];
        return d.toString();
      }),
    );
    assert.equal(seen.length, 3);
    // Each client's bytes reached one upstream socket, and its answer came back to the same client.
    assert.equal(new Set(replies.map((r) => r.split(':')[0])).size, 3);
    assert.deepEqual(
      replies.map((r) => r.split(':')[1]),
      ['c0', 'c1', 'c2'],
    );
    assert.equal(proxy.stats().connections, 3);
    for (const c of clients) c.end();
    await Promise.all(clients.map((c) => once(c, 'close')));
    while (proxy.stats().open > 0) await new Promise((r) => setTimeout(r, 5));
    assert.equal(proxy.stats().open, 0);
  });

  it('propagates a FIN each way after the data before it (half-close kept)', async () => {
    const accepted = withServerSocket();
    const up = await upstream(accepted.onSocket);
    const proxy = await proxyTo(up.port, { delayMs: 5 });
    const client = await dial(proxy, true);
    client.write('last words');
    client.end();
    const server = await accepted.socket;
    assert.equal(await readToEnd(server), 'last words');
    // The client's half is closed; the server can still answer, and its FIN follows its bytes.
    const answer = readToEnd(client);
    server.end('reply after FIN');
    assert.equal(await answer, 'reply after FIN');
  });

  it('propagates a reset from the server to the client', async () => {
    const up = await upstream((s) => s.once('data', () => s.resetAndDestroy()));
    const proxy = await proxyTo(up.port, { delayMs: 5 });
    const client = await dial(proxy);
    const failed = once(client, 'error').then(([e]) => e as NodeJS.ErrnoException);
    client.write('x');
    assert.equal((await failed).code, 'ECONNRESET');
  });

  it('propagates a reset from the client to the server', async () => {
    const accepted = withServerSocket();
    const up = await upstream(accepted.onSocket);
    const proxy = await proxyTo(up.port, { delayMs: 5 });
    const client = await dial(proxy);
    client.write('x');
    const server = await accepted.socket;
    const failed = once(server, 'error').then(([e]) => e as NodeJS.ErrnoException);
    await once(server, 'data');
    client.resetAndDestroy();
    assert.equal((await failed).code, 'ECONNRESET');
  });

  it('resets the client when the target refuses the connection', async () => {
    const up = await upstream(() => {});
    const port = up.port;
    await new Promise<void>((r) => up.server.close(() => r()));
    const proxy = await proxyTo(port, { delayMs: 1 });
    const client = await dial(proxy);
    const failed = once(client, 'error').then(([e]) => e as NodeJS.ErrnoException);
    assert.equal((await failed).code, 'ECONNRESET');
  });

  it('close() ends every open connection and stops listening', async () => {
    const up = await upstream(() => {});
    const proxy = await startLatencyProxy({ target: { host: '127.0.0.1', port: up.port }, delayMs: 1 });
    const client = await dial(proxy);
    client.on('error', () => {});
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(proxy.stats().open, 1);
    const closed = once(client, 'close');
    await proxy.close();
    await closed;
    const refused = connect({ host: proxy.host, port: proxy.port });
    const [e] = (await once(refused, 'error')) as [NodeJS.ErrnoException];
    assert.equal(e.code, 'ECONNREFUSED');
  });

  it('rejects a negative delay', async () => {
    await assert.rejects(
      startLatencyProxy({ target: { host: '127.0.0.1', port: 1 }, delayMs: -1 }),
      RangeError,
    );
  });
});

describe('HTTP request counter', () => {
  const req = (body: string) =>
    `POST /wsman HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

  it('counts requests framed by Content-Length however the stream is cut', () => {
    // Bodies that look like request heads must not count.
    const stream = Buffer.from(req('POST / HTTP/1.1\r\n\r\n') + req('') + req('x'.repeat(5000)));
    for (const step of [1, 7, 100, stream.length]) {
      const c = new HttpRequestCounter();
      for (let i = 0; i < stream.length; i += step) c.push(stream.subarray(i, i + step));
      assert.equal(c.requests, 3, `step ${step}`);
      assert.equal(c.broken, undefined);
    }
  });

  it('counts chunked requests', () => {
    const chunked =
      'POST /wsman HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nPOST \r\n3\r\nabc\r\n0\r\n\r\n';
    const c = new HttpRequestCounter();
    const all = Buffer.from(chunked + req('y') + chunked);
    for (let i = 0; i < all.length; i += 3) c.push(all.subarray(i, i + 3));
    assert.equal(c.requests, 3);
    assert.equal(c.broken, undefined);
  });

  it('marks a stream it cannot frame', () => {
    const c = new HttpRequestCounter();
    c.push(Buffer.from('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'));
    assert.match(c.broken ?? '', /chunk size/);
  });
});
