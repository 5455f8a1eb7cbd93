/**
 * The mock's HTTP listener bounds what a client can make it hold: pipelined requests from a client that never
 * reads, request heads that never end (slowloris), and an endless chunked body.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import net from 'node:net';
import { describe, it } from 'node:test';
import { createMockHttpServer } from '../../src/mock/http-server.ts';
import { startBasicMock } from './helpers.ts';

/** Resolves when `check` is true, polling each 20 ms; rejects after `deadlineMs` (a "does not hang" bound). */
async function until(check: () => boolean, deadlineMs: number, what: string): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('mock HTTP limits', () => {
  it('a pipelining client that never reads: the server stops reading instead of queueing every request', async () => {
    const TOTAL = 10_000;
    const CAP = 32;
    let received = 0;
    let handled = 0;
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let serverSocket: Socket | undefined;
    const server = createMockHttpServer({ maxPipelinedRequests: CAP }, (req, res) => {
      serverSocket = req.socket;
      // The first request is slow (a Receive waiting for output); the client keeps pipelining behind it.
      void (handled === 0 ? held : Promise.resolve()).then(() => {
        handled++;
        res.writeHead(200, { 'Content-Length': 2 });
        res.end('ok');
      });
    });
    server.on('request', () => {
      received++;
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const client = net.connect({ port, host: '127.0.0.1' });
    await once(client, 'connect');
    client.pause();
    const head = `GET /wsman HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Pad: ${'p'.repeat(40)}\r\n\r\n`;
    client.write(head.repeat(TOTAL));
    try {
      // Either the server stops reading (fixed), or it reads and queues all TOTAL requests (unbounded memory).
      await until(
        () => received === TOTAL || serverSocket?.isPaused() === true,
        60_000,
        'the server to pause or read everything',
      );
      // One read of at most 64 KiB may be parsed after the pause: ~700 of these requests.
      const slack = Math.ceil((64 * 1024) / head.length);
      assert.ok(
        received <= CAP + 1 + slack,
        `${received} of ${TOTAL} pipelined requests were read and queued behind one slow request (cap ${CAP})`,
      );
      // Once served, the client gets every answer, in order.
      let answers = '';
      client.on('data', (c: Buffer) => {
        answers += c.toString('latin1');
      });
      client.resume();
      release();
      await until(() => handled === TOTAL, 120_000, 'every request to be served');
      await until(() => (answers.match(/HTTP\/1\.1 200/g) ?? []).length === TOTAL, 60_000, 'every answer');
      assert.equal(received, TOTAL);
    } finally {
      client.destroy();
      server.close();
      server.closeAllConnections?.();
    }
  });

  it('slowloris: connections whose request head never completes are closed after the head deadline', async () => {
    const mock = await startBasicMock({ http: { headersTimeoutMs: 1000 } });
    const port = mock.port;
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const s = net.connect({ port, host: '127.0.0.1' });
        s.on('error', () => {});
        await once(s, 'connect');
        // Part of a head, a few bytes, or nothing at all.
        if (i % 3 !== 2) s.write(i % 3 === 0 ? 'POST /wsman HTTP/1.1\r\nHost: x\r\n' : 'PO');
        sockets.push(s);
      }
      const closed = sockets.map((s) => once(s, 'close'));
      // Generous bound: the deadline is 1 s; node checks deadlines periodically.
      await until(
        () => sockets.every((s) => s.destroyed || s.readableEnded),
        30_000,
        'slow sockets to be closed',
      );
      await Promise.all(closed);
      assert.ok(sockets.every((s) => s.destroyed));
    } finally {
      for (const s of sockets) s.destroy();
      await mock.close();
    }
  });

  it('HTTPS: connections that never finish the TLS handshake or send nothing are closed after the head deadline', async () => {
    const mock = await startBasicMock({ https: true, http: { headersTimeoutMs: 1000 } });
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < 10; i++) {
        const s = net.connect({ port: mock.port, host: '127.0.0.1' });
        s.on('error', () => {});
        await once(s, 'connect');
        // Half a TLS record header, or nothing at all.
        if (i % 2 === 0) s.write(Buffer.from([0x16, 0x03]));
        sockets.push(s);
      }
      await until(
        () => sockets.every((s) => s.destroyed || s.readableEnded),
        30_000,
        'silent sockets to be closed',
      );
    } finally {
      for (const s of sockets) s.destroy();
      await mock.close();
    }
  });

  it('an endless chunked body gets 413 and the connection is closed', async () => {
    await endless(true, 413);
  });

  it('an endless chunked body answered 401 before it is read: the drain stops and the connection closes', async () => {
    await endless(false, 401);
  });

  async function endless(authenticated: boolean, status: number) {
    const mock = await startBasicMock({ maxEnvelopeSize: 8192 });
    const s = net.connect({ port: mock.port, host: '127.0.0.1' });
    s.on('error', () => {});
    await once(s, 'connect');
    const auth = Buffer.from('vagrant:vagrant').toString('base64');
    s.write(
      `POST /wsman HTTP/1.1\r\nHost: 127.0.0.1\r\n${authenticated ? `Authorization: Basic ${auth}\r\n` : ''}` +
        'Content-Type: application/soap+xml;charset=UTF-8\r\nTransfer-Encoding: chunked\r\n\r\n',
    );
    let answer = '';
    s.on('data', (c: Buffer) => {
      answer += c.toString('latin1');
    });
    const chunk = `${(4096).toString(16)}\r\n${'a'.repeat(4096)}\r\n`;
    let sent = 0;
    let closed = false;
    s.once('close', () => {
      closed = true;
    });
    try {
      // Keep sending for as long as the server reads; it must answer 413 and close, not read for ever.
      const deadline = Date.now() + 30_000;
      while (!closed && Date.now() < deadline) {
        if (!s.write(chunk)) await Promise.race([once(s, 'drain'), once(s, 'close')]);
        sent += 4096;
        if (sent % (256 * 1024) === 0) await new Promise((r) => setImmediate(r));
      }
      assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `));
      assert.ok(closed, `the connection stayed open after ${sent} body bytes`);
    } finally {
      s.destroy();
      await mock.close();
    }
  }
});
