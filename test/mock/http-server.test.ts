/**
 * The mock's HTTP/1.1 listener (node:http set up like HTTP.sys) on the wire: pipelined requests handled one at a
 * time and answered in order, 100 Continue, chunked request bodies, a 401 answered before the body keeps the
 * connection, 413 before buffering (declared or chunked), a lingering close after answers that close, 400 and
 * close for what cannot be framed, HTTP/1.0 closing, Date and Server on answers, the idle timeout.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createMockHttpServer } from '../../src/mock/http-server.ts';
import type { MockServer } from '../../src/mock/index.ts';
import { buildIdentify } from '../../src/wsman/index.ts';
import { startBasicMock, USER } from './helpers.ts';

const AUTH = `Basic ${Buffer.from(`${USER.name}:${USER.password}`).toString('base64')}`;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A raw socket that collects everything the server sends until it has `count` complete answers. */
class Wire {
  private buf = '';
  closed = false;
  constructor(readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buf += d;
    });
    socket.on('close', () => {
      this.closed = true;
    });
  }
  /** allowHalfOpen: keep writing after the server's FIN, as a client busy sending its body does. */
  static async open(port: number, allowHalfOpen = false): Promise<Wire> {
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen });
    await once(s, 'connect');
    return new Wire(s);
  }
  send(text: string | Buffer): void {
    this.socket.write(text);
  }
  /** Parses complete answers (Content-Length framed) out of what arrived so far. */
  answers(): Answer[] {
    const out: Answer[] = [];
    let rest = this.buf;
    for (;;) {
      const end = rest.indexOf('\r\n\r\n');
      if (end < 0) break;
      const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines)
        headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
      const len = Number(headers['content-length'] ?? 0);
      if (rest.length < end + 4 + len) break;
      out.push({
        status: Number(statusLine!.split(' ')[1]),
        headers,
        body: rest.slice(end + 4, end + 4 + len),
      });
      rest = rest.slice(end + 4 + len);
    }
    return out;
  }
  async waitFor(count: number, ms = 5000): Promise<Answer[]> {
    const deadline = Date.now() + ms;
    while (this.answers().length < count) {
      if (Date.now() > deadline)
        throw new Error(`only ${this.answers().length} answers: ${JSON.stringify(this.buf)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.answers();
  }
  async waitClosed(ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('the server kept the connection open');
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  raw(): string {
    return this.buf;
  }
}

const identify = buildIdentify();
const post = (body: string, extra = '', auth = true) =>
  `POST /wsman HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth ? `Authorization: ${AUTH}\r\n` : ''}Content-Type: application/soap+xml;charset=UTF-8\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('mock HTTP/1.1 server on the wire', () => {
  let mock: MockServer;
  let port: number;
  before(async () => {
    mock = await startBasicMock();
    port = mock.port;
  });
  after(async () => {
    await mock.close();
  });

  it('answers pipelined requests in order on one connection, with Server and Date', async () => {
    const w = await Wire.open(port);
    w.send(post(identify) + post('<not xml', '') + post(identify));
    const [a, b, c] = await w.waitFor(3);
    assert.equal(a!.status, 200);
    assert.match(a!.body, /IdentifyResponse/);
    assert.equal(b!.status, 500, 'the malformed envelope gets its fault, in its place');
    assert.equal(c!.status, 200);
    assert.equal(a!.headers.server, 'Microsoft-HTTPAPI/2.0');
    assert.ok(!Number.isNaN(Date.parse(a!.headers.date ?? '')), 'Date header');
    assert.equal(a!.headers['keep-alive'], undefined, 'HTTP.sys sends no Keep-Alive header');
    assert.equal(w.closed, false);
    w.socket.destroy();
  });

  it('handles pipelined requests one at a time: a delayed first request is finished before the second starts', async () => {
    mock.inject({ match: { action: 'Identify' }, kind: 'delay', delayMs: 300 });
    const before = mock.requestLog.length;
    const w = await Wire.open(port);
    w.send(post(identify) + post('<not xml', ''));
    const [a, b] = await w.waitFor(2);
    assert.equal(a!.status, 200);
    assert.equal(b!.status, 500);
    const log = mock.requestLog.slice(before);
    assert.deepEqual(
      log.map((e) => e.status),
      [200, 500],
      'the second request was handled after the first had its answer',
    );
    w.socket.destroy();
  });

  it('requests queued behind one whose connection goes away are dropped, not handled', async () => {
    mock.inject({ match: { action: 'Identify' }, kind: 'hang' });
    const before = mock.requestLog.length;
    const w = await Wire.open(port);
    // The second request, unauthenticated, would be logged with its 401 if it reached the handler.
    w.send(post(identify) + post(identify, '', false));
    const deadline = Date.now() + 5000;
    while (!mock.requestLog.slice(before).some((e) => e.injected === 'hang')) {
      assert.ok(Date.now() < deadline, 'the Identify never reached the handler');
      await new Promise((r) => setTimeout(r, 5));
    }
    w.socket.destroy();
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(
      mock.requestLog.slice(before).map((e) => e.status),
      [0],
      'only the hung request was handled',
    );
  });

  it('a parse error behind a request still being answered: that answer first, then 400 and close', async () => {
    mock.inject({ match: { action: 'Identify' }, kind: 'delay', delayMs: 200 });
    const w = await Wire.open(port);
    w.send(`${post(identify)}POST /wsman HTTP/1.1\r\nHost h\r\n\r\n`);
    const [a, b] = await w.waitFor(2);
    assert.equal(a!.status, 200);
    assert.match(a!.body, /IdentifyResponse/);
    assert.equal(b!.status, 400);
    await w.waitClosed();
  });

  it('sends 100 Continue to a client that expects it, then the answer', async () => {
    const w = await Wire.open(port);
    const head = post(identify, 'Expect: 100-continue\r\n');
    w.send(head.slice(0, head.indexOf('\r\n\r\n') + 4));
    const deadline = Date.now() + 5000;
    while (!w.raw().startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
      assert.ok(Date.now() < deadline, `no 100 Continue: ${JSON.stringify(w.raw())}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    w.send(identify);
    const deadline2 = Date.now() + 5000;
    while (!/IdentifyResponse/.test(w.raw())) {
      assert.ok(Date.now() < deadline2, 'no answer after the body');
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.match(w.raw(), /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
    w.socket.destroy();
  });

  it('reads a chunked request body', async () => {
    const w = await Wire.open(port);
    const half = Math.floor(identify.length / 2);
    const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
    w.send(
      `POST /wsman HTTP/1.1\r\nHost: h\r\nAuthorization: ${AUTH}\r\nContent-Type: application/soap+xml;charset=UTF-8\r\nTransfer-Encoding: chunked\r\n\r\n` +
        chunk(identify.slice(0, half)) +
        chunk(identify.slice(half)) +
        '0\r\n\r\n',
    );
    const [a] = await w.waitFor(1);
    assert.equal(a!.status, 200);
    assert.match(a!.body, /IdentifyResponse/);
    w.socket.destroy();
  });

  it('a 401 answered before the body arrives keeps the connection for the next request', async () => {
    const w = await Wire.open(port);
    const anon = post(identify.replace('Identify', 'Identify'), '', false);
    const cut = anon.indexOf('\r\n\r\n') + 4;
    w.send(anon.slice(0, cut));
    const [challenge] = await w.waitFor(1);
    assert.equal(challenge!.status, 401);
    w.send(anon.slice(cut)); // the rest of the refused body, then an authenticated request
    w.send(post(identify));
    const answers = await w.waitFor(2);
    assert.equal(answers[1]!.status, 200);
    assert.equal(w.closed, false);
    w.socket.destroy();
  });

  it('413 for a declared body over MaxEnvelopeSize, before reading it; later bytes are dropped and the connection closes', async () => {
    const w = await Wire.open(port);
    w.send(
      `POST /wsman HTTP/1.1\r\nHost: h\r\nAuthorization: ${AUTH}\r\nContent-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: 10000000\r\n\r\n`,
    );
    const [a] = await w.waitFor(1);
    assert.equal(a!.status, 413);
    assert.equal(a!.headers.connection, 'close');
    w.socket.on('error', () => {});
    if (!w.closed) w.send(post(identify)); // would be a second request on a connection that is ending
    await w.waitClosed();
    assert.equal(w.answers().length, 1, 'nothing after the closing answer is answered');
  });

  it('413 for a chunked body as soon as it passes MaxEnvelopeSize, without waiting for its end', async () => {
    const w = await Wire.open(port);
    w.socket.on('error', () => {});
    w.send(
      `POST /wsman HTTP/1.1\r\nHost: h\r\nAuthorization: ${AUTH}\r\nContent-Type: application/soap+xml;charset=UTF-8\r\nTransfer-Encoding: chunked\r\n\r\n`,
    );
    const piece = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 10; i++) w.send(`${piece.length.toString(16)}\r\n${piece}\r\n`); // 640 KiB > 512,000
    const [a] = await w.waitFor(1); // the last chunk never comes
    assert.equal(a!.status, 413);
    assert.equal(a!.headers.connection, 'close');
    await w.waitClosed(10_000);
  });

  it('after a closing 413 the server lingers: a client still sending its body gets no reset', async () => {
    const w = await Wire.open(port, true);
    let reset: string | undefined;
    w.socket.on('error', (e: NodeJS.ErrnoException) => {
      reset = e.code;
    });
    const piece = 'y'.repeat(64 * 1024);
    w.send(post('').replace('Content-Length: 0', 'Content-Length: 3000000') + piece);
    const [a] = await w.waitFor(1);
    assert.equal(a!.status, 413);
    // A client that writes its whole body before reading (most do) is still writing after the answer.
    for (let i = 0; i < 10 && reset === undefined; i++) {
      w.send(piece);
      await new Promise((r) => setTimeout(r, 20));
    }
    w.socket.end();
    await w.waitClosed(10_000);
    assert.equal(reset, undefined, 'the connection ended without a reset');
  });

  it('requests read after a closing answer are not handled', async () => {
    const before = mock.requestLog.length;
    const w = await Wire.open(port);
    w.send(`POST /wsman HTTP/1.1\r\nHost: h\r\nAuthorization: ${AUTH}\r\n\r\n${post(identify)}`);
    const [a] = await w.waitFor(1);
    assert.equal(a!.status, 411);
    await w.waitClosed();
    assert.equal(w.answers().length, 1);
    assert.equal(mock.requestLog.length, before, 'the Identify behind the 411 never reached the handler');
  });

  for (const [what, request] of [
    ['a malformed request line', 'POST /wsman\r\nHost: h\r\n\r\n'],
    ['a malformed header', 'POST /wsman HTTP/1.1\r\nHost h\r\n\r\n'],
    [
      'conflicting Content-Length headers',
      'POST /wsman HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx',
    ],
    ['an unknown transfer coding', 'POST /wsman HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n'],
    [
      'Transfer-Encoding beside Content-Length (a smuggling shape)',
      'POST /wsman HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n',
    ],
    ['Transfer-Encoding on HTTP/1.0', 'POST /wsman HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['a request line without a version (HTTP/0.9)', 'GET /wsman\r\n\r\n'],
    ['an HTTP/2.0 request line', 'POST /wsman HTTP/2.0\r\nHost: h\r\nContent-Length: 0\r\n\r\n'],
    ['a lower-case method', 'post /wsman HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n'],
    [
      'a head over 16 KB (HTTP.sys MaxRequestBytes)',
      `POST /wsman HTTP/1.1\r\nHost: h\r\nX: ${'a'.repeat(17 * 1024)}\r\nContent-Length: 0\r\n\r\n`,
    ],
    ['HTTP/1.1 without Host', 'POST /wsman HTTP/1.1\r\nContent-Length: 0\r\n\r\n'],
    ['a bare LF inside a header value', 'POST /wsman HTTP/1.1\r\nX: a\nContent-Length: 5\r\n\r\nhello'],
    ['a vertical tab before a length', 'POST /wsman HTTP/1.1\r\nContent-Length: \u000b5\r\n\r\nhello'],
  ] as const) {
    it(`400 and close for ${what}`, async () => {
      const w = await Wire.open(port);
      w.send(request);
      const [a] = await w.waitFor(1);
      assert.equal(a!.status, 400);
      await w.waitClosed();
    });
  }

  it('411 and close for a POST without a length', async () => {
    const w = await Wire.open(port);
    w.send(`POST /wsman HTTP/1.1\r\nHost: h\r\nAuthorization: ${AUTH}\r\n\r\n`);
    const [a] = await w.waitFor(1);
    assert.equal(a!.status, 411);
    await w.waitClosed();
  });

  it('HTTP/1.0 without keep-alive is answered and closed', async () => {
    const w = await Wire.open(port);
    w.send(post(identify).replace('HTTP/1.1', 'HTTP/1.0'));
    const [a] = await w.waitFor(1);
    assert.equal(a!.status, 200);
    assert.equal(a!.headers.connection, 'close');
    await w.waitClosed();
  });

  it('HTTP/1.0 with Connection: keep-alive is kept alive', async () => {
    const w = await Wire.open(port);
    w.send(post(identify, 'Connection: keep-alive\r\n').replace('HTTP/1.1', 'HTTP/1.0'));
    w.send(post(identify, 'Connection: keep-alive\r\n').replace('HTTP/1.1', 'HTTP/1.0'));
    const [a, b] = await w.waitFor(2);
    assert.equal(a!.headers.connection, 'keep-alive');
    assert.equal(b!.status, 200);
    assert.equal(w.closed, false);
    w.socket.destroy();
  });
});

describe('mock HTTP/1.1 listener timeouts', () => {
  it('defaults: 120 s idle keep-alive and 120 s for a request (HTTP.sys), 30 s for a head (HTTP.sys: 120 s)', () => {
    const server = createMockHttpServer({}, () => {});
    assert.equal(server.keepAliveTimeout, 120_000);
    assert.equal(server.headersTimeout, 30_000);
    assert.equal(server.requestTimeout, 120_000);
  });

  it('closes a kept-alive connection that stays idle for idleTimeoutMs', async () => {
    const server = createMockHttpServer({ idleTimeoutMs: 300 }, (_req, res) => {
      res.writeHead(200, { 'Content-Length': 2 }).end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const w = await Wire.open((server.address() as AddressInfo).port);
      w.send('POST /wsman HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n');
      const [a] = await w.waitFor(1);
      assert.equal(a!.status, 200);
      await w.waitClosed(10_000);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('mock HTTP/1.1 server under garbage', () => {
  it('answers 400 and closes, or waits for more, on random request bytes; the server keeps serving', async () => {
    const mock = await startBasicMock();
    try {
      const { default: fc } = await import('fast-check');
      const valid = post(identify);
      const samples = fc.sample(
        fc.oneof(
          fc.uint8Array({ minLength: 1, maxLength: 200 }).map((u) => Buffer.from(u)),
          fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([pos, byte]) => {
            const copy = Buffer.from(valid, 'latin1');
            copy[pos % 200] = byte; // somewhere in the head
            return copy;
          }),
        ),
        60,
      );
      for (const bytes of samples) {
        const w = await Wire.open(mock.port);
        w.send(bytes);
        // Whatever the bytes were, within a moment the server has either answered with a status line, closed,
        // or is still waiting for the rest of a head; it never writes anything that is not HTTP.
        await new Promise((r) => setTimeout(r, 30));
        const raw = w.raw();
        assert.ok(raw === '' || /^HTTP\/1\.1 \d{3} /.test(raw), JSON.stringify(raw.slice(0, 80)));
        w.socket.destroy();
      }
      const w = await Wire.open(mock.port);
      w.send(post(identify));
      const [a] = await w.waitFor(1);
      assert.equal(a!.status, 200, 'the server still serves after the garbage');
      w.socket.destroy();
    } finally {
      await mock.close();
    }
  });
});
