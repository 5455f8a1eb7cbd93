/**
 * HTTP/1.1 framing (src/transport/http1.ts, used by the mock's server only) fed byte by byte and in random
 * splits. The client's channel is tested in test/http/.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  HttpFramingError,
  type ParsedResponse,
  ResponseReader,
  requestHead,
} from '../../src/transport/http1.ts';

const LIMIT = 1 << 20;

/** Feed `wire` to a reader in the given pieces; returns the response and the reader. */
function feed(wire: Buffer, cuts: number[], limit = LIMIT) {
  const reader = new ResponseReader(limit);
  const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
  let last = 0;
  let res: ParsedResponse | undefined;
  for (const p of [...points, wire.length]) {
    if (p <= last) continue;
    assert.equal(res, undefined, 'a response completed before all its bytes arrived');
    res = reader.push(wire.subarray(last, p));
    last = p;
  }
  return { res, reader };
}

const b = (s: string) => Buffer.from(s, 'latin1');

describe('HTTP/1.1 response reader', () => {
  const soap = '<s:Envelope>é</s:Envelope>';
  const length = Buffer.concat([
    b(
      `HTTP/1.1 200 \r\nServer: Microsoft-HTTPAPI/2.0\r\nContent-Type: application/soap+xml;charset=UTF-8\r\n`,
    ),
    b(`Content-Length: ${Buffer.byteLength(soap)}\r\n\r\n`),
    Buffer.from(soap),
  ]);
  const chunked = Buffer.concat([
    b('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n'),
    b('5;ext=1\r\n<s:En\r\n'),
    b(`${(Buffer.byteLength(soap) - 5).toString(16)}\r\n`),
    Buffer.from(soap).subarray(5),
    b('\r\n0\r\nX-Trailer: 1\r\n\r\n'),
  ]);

  it('reads a Content-Length body split at any points', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 8 }), (cuts) => {
        const { res, reader } = feed(length, cuts);
        assert.ok(res);
        assert.equal(res.status, 200);
        assert.equal(res.body.toString(), soap);
        assert.equal(res.headers['content-type'], 'application/soap+xml;charset=UTF-8');
        assert.equal(res.close, false);
        assert.equal(reader.rest.length, 0);
      }),
      { numRuns: 300 },
    );
  });

  it('reads a chunked body with extensions and trailers split at any points', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 10 }), (cuts) => {
        const { res } = feed(chunked, cuts);
        assert.ok(res);
        assert.equal(res.body.toString(), soap);
      }),
      { numRuns: 300 },
    );
    for (let i = 1; i < chunked.length; i++) assert.equal(feed(chunked, [i]).res?.body.toString(), soap);
  });

  it('skips interim 1xx responses, keeps repeated headers as a list, and sees Connection: close', () => {
    const wire = b(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 401 \r\nWWW-Authenticate: Negotiate\r\nWWW-Authenticate: Basic realm="WSMAN"\r\nConnection: close\r\nContent-Length: 0\r\n\r\n',
    );
    const { res } = feed(wire, []);
    assert.equal(res?.status, 401);
    assert.deepEqual(res?.headers['www-authenticate'], ['Negotiate', 'Basic realm="WSMAN"']);
    assert.equal(res?.close, true);
  });

  it('HTTP/1.0 closes unless kept alive; a body without framing runs to the end of the connection', () => {
    assert.equal(feed(b('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n'), []).res?.close, true);
    assert.equal(
      feed(b('HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n'), []).res?.close,
      false,
    );
    const reader = new ResponseReader(LIMIT);
    assert.equal(reader.push(b('HTTP/1.1 200 OK\r\n\r\nabc')), undefined);
    assert.equal(reader.push(b('def')), undefined);
    const res = reader.end();
    assert.equal(res.body.toString(), 'abcdef');
    assert.equal(res.close, true);
  });

  it('Transfer-Encoding beside Content-Length: read as chunked, and the connection is not reused', () => {
    const { res } = feed(
      b('HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'),
      [],
    );
    assert.equal(res?.body.toString(), 'ok');
    assert.equal(res?.close, true);
  });

  it('a header named __proto__ is just a header', () => {
    const { res } = feed(
      b('HTTP/1.1 200 OK\r\n__proto__: x\r\nConstructor: y\r\nContent-Length: 0\r\n\r\n'),
      [],
    );
    assert.equal(res?.headers['__proto__'.toString()], 'x');
    assert.equal(res?.headers.constructor, 'y');
  });

  it('204 has no body; bytes after a complete response are handed back', () => {
    const { res, reader } = feed(b('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nextra'), []);
    assert.equal(res?.body.length, 0);
    assert.equal(reader.rest.toString(), 'extra');
  });

  it('a connection that ends mid-body is a reset, not a short answer', () => {
    const reader = new ResponseReader(LIMIT);
    reader.push(b('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    assert.throws(() => reader.end(), { code: 'ECONNRESET' });
  });

  const malformed: Array<[string, RegExp]> = [
    ['HTTP/2 200 OK\r\n\r\n', /malformed status line/],
    ['HTTP/1.1 20 OK\r\n\r\n', /malformed status line/],
    ['HTTP/1.1 200 OK\r\nNo colon\r\n\r\n', /malformed header line/],
    ['HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n', /malformed header name/],
    ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /malformed Content-Length/],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', /conflicting content-length/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', /unsupported transfer coding/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /malformed chunk size/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXX', /malformed chunk end/],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n 1\r\na\r\n', /malformed chunk size/],
    ['HTTP/1.1 200 OK\r\nX: a\nContent-Length: 5\r\n\r\n', /control character in header "X"/],
    ['HTTP/1.1 200 OK\r\nContent-Length: \u000b5\r\n\r\n', /control character/],
  ];
  for (const [wire, pattern] of malformed) {
    it(`refuses ${JSON.stringify(wire.split('\r\n')[0])}... with ${pattern.source}`, () => {
      assert.throws(
        () => new ResponseReader(LIMIT).push(b(wire)),
        (e: unknown) =>
          e instanceof HttpFramingError && e.code === 'ERR_MALFORMED_RESPONSE' && pattern.test(e.message),
      );
    });
  }

  it('refuses bodies and heads over the limits before buffering them', () => {
    const tooLarge = (e: unknown) => e instanceof HttpFramingError && e.code === 'ERR_RESPONSE_TOO_LARGE';
    assert.throws(
      () => new ResponseReader(100).push(b('HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n')),
      tooLarge,
    );
    assert.throws(
      () => new ResponseReader(100).push(b('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n')),
      tooLarge,
    );
    const r = new ResponseReader(100);
    r.push(b('HTTP/1.1 200 OK\r\n\r\n'));
    assert.throws(() => r.push(Buffer.alloc(101)), tooLarge);
    assert.throws(
      () => new ResponseReader(100).push(b(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(70_000)}`)),
      tooLarge,
    );
  });

  it('writes a request head with the body length and refuses header injection', () => {
    assert.equal(
      requestHead('/wsman', { Host: 'h:5985', 'Content-Length': '999', Authorization: 'Basic x' }, 12),
      'POST /wsman HTTP/1.1\r\nHost: h:5985\r\nAuthorization: Basic x\r\nContent-Length: 12\r\n\r\n',
    );
    assert.throws(() => requestHead('/wsman', { 'X-A': 'v\r\nInjected: 1' }, 0), /invalid HTTP header/);
    assert.throws(() => requestHead('/wsman', { 'X A': 'v' }, 0), /invalid HTTP header/);
  });
});

describe('HTTP/1.1 response reader under garbage', () => {
  it('random bytes and mutated answers end in a response or a typed framing error, never anything else', () => {
    const good = b(
      'HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n',
    );
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
      fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })).map(([pos, byte]) => {
        const copy = Buffer.from(good);
        copy[pos % copy.length] = byte;
        return copy;
      }),
    );
    fc.assert(
      fc.property(input, fc.array(fc.nat(), { maxLength: 5 }), (wire, cuts) => {
        try {
          const { res } = feed(wire, cuts, 1000);
          if (res) assert.ok(res.status >= 200 && res.status <= 999 && Buffer.isBuffer(res.body));
        } catch (e) {
          if (!(e instanceof HttpFramingError)) throw e;
        }
      }),
      { numRuns: 1000 },
    );
  });
});
