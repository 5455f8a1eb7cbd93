/**
 * Every HTTP request is bounded as a whole (issue #11 item 6): a server that trickles its answer one byte every
 * 2 s, or sends endless `102 Processing` heads, cannot keep a request pending; destroy() drops everything at once.
 * Raw net servers play the misbehaving endpoint; each test checks that the server saw its socket close.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { describe, it } from 'node:test';
import { DebugLog } from '../../src/debug.ts';
import { ConnectionError, InvalidArgumentError, ProtocolError, TimeoutError } from '../../src/errors.ts';
import { createHttpTransport, type HttpTransport } from '../../src/http/transport.ts';
import { type ConnectionOptions, resolveOptions } from '../../src/options/index.ts';
import { WsmanClient } from '../../src/winrm/wsman-client.ts';
import { buildIdentify } from '../../src/wsman/actions/identify.ts';

/** "Does not hang" bound, far above every deadline used here (a busy 2-core machine must still pass). */
const HANG_MS = 25_000;

interface BadServer {
  port: number;
  /** Resolves when the server saw the client's socket close (count of sockets closed so far). */
  closed: Promise<void>;
  requests: number;
  close(): Promise<void>;
}

/** A TCP server that, once a request head arrived, feeds the socket with `behave` until the socket closes. */
async function badServer(behave: (socket: net.Socket) => () => void): Promise<BadServer> {
  const sockets = new Set<net.Socket>();
  let sawClose: () => void = () => undefined;
  const closed = new Promise<void>((r) => {
    sawClose = r;
  });
  const state = { requests: 0 };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    let stop: (() => void) | undefined;
    let head = '';
    socket.on('data', (d) => {
      head += d.toString('latin1');
      if (stop || !head.includes('\r\n\r\n')) return;
      state.requests++;
      stop = behave(socket);
    });
    socket.on('close', () => {
      stop?.();
      sockets.delete(socket);
      sawClose();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    closed,
    get requests() {
      return state.requests;
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A 200 head announcing a large body, then one body byte every 2 s, for ever. */
const trickle = (socket: net.Socket) => {
  socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nContent-Length: 100000\r\n\r\n<');
  const t = setInterval(() => socket.write('x'), 2000);
  return () => clearInterval(t);
};

/** `HTTP/1.1 102 Processing` heads as fast as the socket takes them, for ever. */
const processingFlood = (socket: net.Socket) => {
  let stopped = false;
  const pump = () => {
    while (!stopped && !socket.destroyed && socket.write('HTTP/1.1 102 Processing\r\n\r\n')) {
      // keep writing until the socket buffer is full
    }
    if (!stopped && !socket.destroyed) socket.once('drain', pump);
  };
  pump();
  return () => {
    stopped = true;
  };
};

function options(port: number, more: Partial<ConnectionOptions> = {}) {
  // readTimeout (idle) above the 2 s trickle interval, so only the whole-exchange deadline can stop it.
  return resolveOptions({
    endpoint: `http://127.0.0.1:${port}/wsman`,
    username: 'u',
    password: 'Trickle-Secret',
    auth: 'basic',
    allowUnencrypted: true,
    operationTimeout: 1000,
    readTimeout: 3000,
    responseTimeout: 4000,
    ...more,
  });
}

/** The promise's value, or a failure naming what still hangs after HANG_MS. */
async function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_r, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still pending after ${HANG_MS} ms`)), HANG_MS);
  });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** The promise's rejection (within HANG_MS); a resolution fails the test. */
async function settle(p: Promise<unknown>, what: string): Promise<{ error: unknown }> {
  const outcome = await within(
    p.then(
      () => ({ resolved: true as const, error: undefined }),
      (error: unknown) => ({ resolved: false as const, error }),
    ),
    what,
  );
  assert.equal(outcome.resolved, false, `${what} resolved; expected a rejection`);
  return { error: outcome.error };
}

describe('whole-exchange deadline (responseTimeout)', () => {
  it('a body trickled one byte every 2 s fails with a TimeoutError naming responseTimeout', async () => {
    const server = await badServer(trickle);
    let transport: HttpTransport | undefined;
    try {
      transport = createHttpTransport(options(server.port));
      const { error } = await settle(transport.post(Buffer.from('<x/>')), 'post() to a trickling server');
      assert.ok(error instanceof TimeoutError, String(error));
      assert.match(error.message, /responseTimeout \(4000 ms\)/);
      assert.equal(error.timeoutMs, 4000);
      await within(server.closed, 'the server-side socket close');
    } finally {
      transport?.close();
      await server.close();
    }
  });

  it('a WsmanClient invoke against a trickling server rejects within its deadline', async () => {
    const server = await badServer(trickle);
    const opts = options(server.port);
    const client = new WsmanClient(opts, createHttpTransport(opts), new DebugLog());
    try {
      const ctx = client.context();
      const { error } = await settle(
        client.send(ctx, buildIdentify(), { what: 'Identify', checkRelatesTo: false }),
        'WsmanClient.send()',
      );
      assert.ok(error instanceof TimeoutError, String(error));
      assert.match(error.message, /responseTimeout/);
    } finally {
      client.close();
      await server.close();
    }
  });

  it('endless 102 Processing heads: ProtocolError after at most 10, and the socket is closed', async () => {
    const server = await badServer(processingFlood);
    const opts = options(server.port, { responseTimeout: 60_000 });
    const client = new WsmanClient(opts, createHttpTransport(opts), new DebugLog());
    try {
      const { error } = await settle(
        client.send(client.context(), buildIdentify(), { what: 'Identify', checkRelatesTo: false }),
        'WsmanClient.send() to a 102 flood',
      );
      assert.ok(error instanceof ProtocolError, String(error));
      assert.match(error.message, /more than 10 interim \(1xx\) HTTP heads/);
      await within(server.closed, 'the server-side socket close');
    } finally {
      client.close();
      await server.close();
    }
  });

  it('an abort during the body stops the request with an AbortError', async () => {
    const server = await badServer(trickle);
    const transport = createHttpTransport(options(server.port, { responseTimeout: 60_000 }));
    try {
      const ac = new AbortController();
      const p = transport.post(Buffer.from('<x/>'), { signal: ac.signal });
      // Abort once the server has the request (the body is trickling by then).
      setTimeout(function check() {
        if (server.requests > 0) ac.abort();
        else setTimeout(check, 20);
      }, 20);
      const { error } = await settle(p, 'an aborted post()');
      assert.equal((error as Error).name, 'AbortError', String(error));
    } finally {
      transport.close();
      await server.close();
    }
  });
});

describe('HttpTransport.destroy()', () => {
  it('rejects the request in flight at once with a ConnectionError, closes the socket, refuses new requests', async () => {
    const server = await badServer(trickle);
    const transport = createHttpTransport(
      options(server.port, { responseTimeout: 600_000, readTimeout: 600_000 }),
    );
    try {
      const p = transport.post(Buffer.from('<x/>'));
      p.catch(() => undefined);
      await new Promise<void>(function wait(resolve) {
        if (server.requests > 0) resolve();
        else setTimeout(() => wait(resolve), 20);
      });
      transport.destroy();
      const { error } = await settle(p, 'post() in flight after destroy()');
      assert.ok(error instanceof ConnectionError, String(error));
      assert.match(error.message, /destroyed/);
      await within(server.closed, 'the server-side socket close after destroy()');
      const { error: later } = await settle(transport.post(Buffer.from('<x/>')), 'post() after destroy()');
      assert.ok(later instanceof ConnectionError, String(later));
      assert.equal(server.requests, 1, 'nothing may be sent after destroy()');
    } finally {
      transport.close();
      await server.close();
    }
  });

  it('a request waiting for a channel rejects at once too', async () => {
    const server = await badServer(trickle);
    const transport = createHttpTransport(
      options(server.port, {
        maxConcurrentRequests: 1,
        responseTimeout: 600_000,
        readTimeout: 600_000,
      }),
    );
    try {
      const first = transport.post(Buffer.from('<x/>'));
      const second = transport.post(Buffer.from('<y/>'));
      first.catch(() => undefined);
      second.catch(() => undefined);
      await new Promise<void>(function wait(resolve) {
        if (server.requests > 0) resolve();
        else setTimeout(() => wait(resolve), 20);
      });
      transport.destroy();
      for (const [p, what] of [
        [first, 'first'],
        [second, 'second'],
      ] as const) {
        const { error } = await settle(p, `${what} post() after destroy()`);
        assert.ok(error instanceof ConnectionError, `${what}: ${String(error)}`);
      }
    } finally {
      transport.close();
      await server.close();
    }
  });
});

describe('responseTimeout option', () => {
  const base = {
    endpoint: 'http://127.0.0.1:5985/wsman',
    username: 'u',
    password: 'p',
    allowUnencrypted: true,
  };

  it('defaults to readTimeout + 20000 ms (operationTimeout + 30000 ms)', () => {
    assert.equal(resolveOptions(base).responseTimeoutMs, 50_000);
    assert.equal(resolveOptions({ ...base, operationTimeout: 1000 }).responseTimeoutMs, 31_000);
    assert.equal(resolveOptions({ ...base, readTimeout: 40_000 }).responseTimeoutMs, 60_000);
    assert.equal(resolveOptions({ ...base, responseTimeout: 35_000 }).responseTimeoutMs, 35_000);
  });

  it('refuses a responseTimeout below readTimeout, naming the option', () => {
    assert.throws(
      () => resolveOptions({ ...base, readTimeout: 30_000, responseTimeout: 29_999 }),
      (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'responseTimeout',
    );
  });
});
