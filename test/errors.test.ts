import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { DebugLog } from '../src/debug.ts';
import {
  AbortError,
  AuthenticationError,
  ConnectionError,
  ErrorCodes,
  HttpError,
  InvalidArgumentError,
  ProtocolError,
  TimeoutError,
  TransferError,
  WinRmError,
  WsmanFaultError,
} from '../src/errors.ts';
import { CmdLine, connect } from '../src/index.ts';
import { startMockServer } from '../src/mock/index.ts';
import { KNOWN_FAULTS } from '../src/wsman/faults.ts';

describe('error classes', () => {
  const table: Array<[WinRmError, string, string]> = [
    [
      new WsmanFaultError({ faultCode: 5, faultName: 'AccessDenied', faultMessage: 'Access is denied.' }),
      'WsmanFaultError',
      ErrorCodes.fault,
    ],
    [new HttpError(404, 'nope'), 'HttpError', ErrorCodes.http],
    [new AuthenticationError('refused'), 'AuthenticationError', ErrorCodes.auth],
    [new TimeoutError('late'), 'TimeoutError', ErrorCodes.timeout],
    [new AbortError(), 'AbortError', ErrorCodes.aborted],
    [new TransferError('partial'), 'TransferError', ErrorCodes.transfer],
    [new InvalidArgumentError('bad', { argument: 'x' }), 'InvalidArgumentError', ErrorCodes.invalidArgument],
    [new ProtocolError('garbled'), 'ProtocolError', ErrorCodes.protocol],
    [new ConnectionError('refused', { host: 'h', port: 1 }), 'ConnectionError', ErrorCodes.connection],
  ];
  for (const [err, name, code] of table) {
    it(`${name} has name, stable code and is a WinRmError`, () => {
      assert.ok(err instanceof WinRmError);
      assert.ok(err instanceof Error);
      assert.equal(err.name, name);
      assert.equal(err.code, code);
    });
  }
  it('appends the remedy to the message', () => {
    const e = new InvalidArgumentError('Bad port', { remedy: 'use 5985' });
    assert.equal(e.message, 'Bad port. Fix: use 5985');
    assert.equal(e.remedy, 'use 5985');
  });
  it('fault messages name code, name and machine', () => {
    const e = new WsmanFaultError({
      faultCode: 2150858793,
      faultName: 'TimedOut',
      machine: 'srv',
      faultMessage: 'slow',
    });
    assert.match(e.message, /TimedOut 2150858793 \(machine srv\): slow/);
  });
});

describe('docs/errors.md', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  for (const [code, f] of Object.entries(KNOWN_FAULTS)) {
    it(`lists fault ${code} (${f.name}) with its hex form`, () => {
      const hex = `0x${Number(code).toString(16).toUpperCase()}`;
      const row = doc.split('\n').find((l) => l.startsWith(`| ${code} |`));
      assert.ok(row, `no row for ${code}`);
      assert.ok(row.includes(hex), `row for ${code} lacks ${hex}`);
      assert.ok(row.includes(f.name), `row for ${code} lacks ${f.name}`);
    });
  }
  it('every error class is documented', () => {
    for (const c of Object.values(ErrorCodes)) if (c !== 'WINRM_ERROR') assert.ok(doc.includes(c), c);
  });
});

describe('error excerpts of a server body are redacted (issue #11 item 11)', () => {
  const USER = { name: 'echoed', password: 'Pr0xy&Echo!2024' };
  const TOKEN = Buffer.from(`${USER.name}:${USER.password}`).toString('base64');
  // A misbehaving proxy or middlebox that answers every request with its request headers in the body.
  const shapes: Record<string, (headers: Record<string, unknown>) => { type: string; body: string }> = {
    json: (h) => ({ type: 'application/json', body: JSON.stringify({ error: 'bad gateway', headers: h }) }),
    'token across the 512-character excerpt edge': (h) => ({
      type: 'text/plain',
      // The excerpt keeps 16 characters of the token: masked before the cut, none of them may show.
      body: `${'x'.repeat(512 - 1 - 16)} ${String(h.authorization).slice('Basic '.length)}`,
    }),
    'echoed credentials without a header name': (h) => ({
      type: 'text/plain',
      body: `you sent ${String(h.authorization).slice(6)} (${USER.password})`,
    }),
  };
  let server: Server;
  let shape = 'json';
  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const { type, body } = shapes[shape]!(req.headers);
        res.writeHead(502, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  for (const name of Object.keys(shapes)) {
    it(`HttpError and the log hide base64(user:password) and the password (${name})`, async () => {
      shape = name;
      const lines: string[] = [];
      const conn = await connect({
        host: '127.0.0.1',
        port: (server.address() as AddressInfo).port,
        username: USER.name,
        password: USER.password,
        allowUnencrypted: true,
        logger: (ns, m) => lines.push(`${ns} ${m}`),
      });
      let caught: unknown;
      try {
        await conn.execute('echo hi');
      } catch (err) {
        caught = err;
      } finally {
        await conn.close();
      }
      assert.ok(caught instanceof HttpError, `expected an HttpError, got ${String(caught)}`);
      assert.equal(caught.status, 502);
      assert.ok(caught.bodyExcerpt.length > 0, 'the excerpt is kept');
      const shown = [caught.message, caught.bodyExcerpt, inspect(caught), ...lines].join('\n');
      for (const s of [TOKEN, TOKEN.slice(0, 12), USER.password]) {
        assert.ok(!shown.includes(s), `the error or log shows ${s}:\n${shown}`);
      }
      assert.match(caught.bodyExcerpt, /\[redacted\]/);
    });
  }

  it('DebugLog.excerpt masks any Authorization value, also one echoed as JSON', () => {
    const log = new DebugLog();
    const ntlm = 'TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==';
    const out = log.excerpt(
      Buffer.from(JSON.stringify({ Authorization: `Negotiate ${ntlm}`, other: 'kept' })),
    );
    assert.equal(out, '{"Authorization":"Negotiate [redacted]","other":"kept"}');
    assert.equal(
      log.redact('proxy-authorization: Basic Zm9vOmJhcg== rest'),
      'proxy-authorization: Basic [redacted] rest',
    );
  });
});

describe('typed HTTP errors keep no request headers (issue #11 item 9)', () => {
  it('a ConnectionError from a reset connection prints no base64(user:password), even at depth Infinity', async () => {
    const password = 'Res3t&Conn!2024';
    const token = Buffer.from(`resetter:${password}`).toString('base64');
    // Reads the request, then drops the connection without an answer: axios fails with the request in hand.
    const server = createServer((req) => req.socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const conn = await connect({
      host: '127.0.0.1',
      port: (server.address() as AddressInfo).port,
      username: 'resetter',
      password,
      allowUnencrypted: true,
    });
    let caught: unknown;
    try {
      await conn.execute('echo hi');
    } catch (err) {
      caught = err;
    } finally {
      await conn.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    assert.ok(caught instanceof ConnectionError, `expected a ConnectionError, got ${String(caught)}`);
    assert.equal(caught.syscallCode, 'ECONNRESET');
    assert.ok(caught.cause instanceof Error, 'the cause is kept');
    for (const text of [inspect(caught), inspect(caught, { depth: Infinity, showHidden: true })]) {
      assert.ok(!text.includes(token), 'inspect(err) shows the Basic credentials');
      assert.ok(!text.includes(password), 'inspect(err) shows the password');
    }
  });
});

describe('fault texts are redacted (issue #11 item 11)', () => {
  it('a fault that echoes a CmdLine secret shows it masked in every field', async () => {
    const user = { name: 'faulty', password: 'Fault-Passw0rd' };
    const secret = 'Pa$$w0rd&2024!';
    const mock = await startMockServer({ users: [user], auth: { basic: true }, allowUnencrypted: true });
    // A provider that repeats the command line it was given in its fault text (the caret-escaped form).
    mock.inject({
      match: { action: 'Command' },
      once: true,
      kind: 'fault',
      fault: { wsmanCode: 2150858817, message: `cannot run net use X: Pa$$w0rd^&2024^! (${user.password})` },
    });
    const conn = await connect({
      endpoint: mock.url,
      username: user.name,
      password: user.password,
      allowUnencrypted: true,
    });
    let caught: unknown;
    try {
      await conn.execute(CmdLine.of('net', 'use', 'X:').addPassword(secret));
    } catch (err) {
      caught = err;
    } finally {
      await conn.close();
      await mock.close();
    }
    assert.ok(caught instanceof WsmanFaultError, `expected a WsmanFaultError, got ${String(caught)}`);
    assert.equal(caught.faultCode, 2150858817);
    assert.equal(caught.faultMessage, 'cannot run net use X: [redacted] ([redacted])');
    const shown = [caught.message, String(caught.stack), inspect(caught, { depth: Infinity })].join('\n');
    for (const s of ['Pa$$w0rd', 'w0rd^&2024', user.password]) assert.ok(!shown.includes(s), `shows ${s}`);
  });
});
