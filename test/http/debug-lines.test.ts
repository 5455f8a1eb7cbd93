/**
 * The `http` and `auth` debug lines (issue #11 item 18), captured through the logger option against the mock:
 * one `http` line per request (method, path, status, bytes, elapsed, socket new/reused, TLS or not), `auth` lines
 * for the scheme, each leg's status and the reason a login was refused, and never a secret or a token.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AuthenticationError, type ConnectionOptions, connect } from '../../src/index.ts';
import { startMockServer } from '../../src/mock/index.ts';

const USER = { name: 'svc-debug', password: 'Dbg&Secret-77' };

interface Captured {
  lines: Array<{ ns: string; text: string }>;
  /** Authorization header values seen by the wire, to prove none of their tokens is logged. */
  all(): string;
  of(ns: string): string[];
}

function capture(): Captured & { logger: NonNullable<ConnectionOptions['logger']> } {
  const lines: Array<{ ns: string; text: string }> = [];
  return {
    lines,
    logger: (ns, text) => lines.push({ ns, text }),
    all: () => lines.map((l) => `${l.ns} ${l.text}`).join('\n'),
    of: (ns) => lines.filter((l) => l.ns === `winrm-connection:${ns}`).map((l) => l.text),
  };
}

/** No password, no base64 of it, no Authorization token (anything after a scheme name) in the lines. */
function assertNoSecrets(text: string, password: string): void {
  assert.ok(!text.includes(password), 'the password is logged');
  assert.ok(!text.includes(Buffer.from(password).toString('base64').slice(0, 12)), 'base64 of the password');
  assert.doesNotMatch(
    text,
    /\b(Basic|Negotiate|NTLM) [A-Za-z0-9+/]{16,}/,
    'an Authorization token is logged',
  );
  assert.doesNotMatch(text, /TlRMTVNT/, 'an NTLM message (base64 "NTLMSSP") is logged');
}

describe('debug lines for http and auth', () => {
  it('Basic: one http line per request with status, bytes, elapsed, socket and TLS; the scheme under auth', async () => {
    const mock = await startMockServer({ auth: { basic: true }, allowUnencrypted: true, users: [USER] });
    const log = capture();
    try {
      const conn = await connect({
        endpoint: mock.url,
        username: USER.name,
        password: USER.password,
        allowUnencrypted: true,
        logger: log.logger,
      });
      try {
        const r = await conn.execute('echo hello');
        assert.equal(r.stdoutText, 'hello\r\n');
      } finally {
        await conn.close();
      }
      const http = log.of('http');
      assert.ok(http.length >= 3, `expected one line per request, got ${http.length}`);
      for (const line of http) {
        assert.match(
          line,
          /^POST \/wsman HTTP (200|500), sent \d+ B, received \d+ B, (new|reused) socket #\d+, \d+ ms, plain HTTP$/,
          line,
        );
      }
      // Create, Command, Receive answer 200; the End of stdin racing the command's end may draw a fault (500).
      assert.ok(http.filter((l) => / HTTP 200, /.test(l)).length >= 3, http.join('\n'));
      assert.match(http[0]!, /new socket/);
      assert.ok(
        http.some((l) => / reused socket /.test(l)),
        'a kept-alive socket is reported as reused',
      );
      assert.ok(
        log.of('auth').some((l) => /^Basic chosen for .*svc-debug/.test(l)),
        log.of('auth').join('\n'),
      );
      assertNoSecrets(log.all(), USER.password);
    } finally {
      await mock.close();
    }
  });

  it('NTLM: the handshake legs and their statuses, then a refused login with its reason, without secrets', async () => {
    const mock = await startMockServer({ auth: { negotiate: true }, users: [USER] });
    try {
      const good = capture();
      const conn = await connect({
        endpoint: mock.url,
        username: USER.name,
        password: USER.password,
        auth: 'ntlm',
        logger: good.logger,
      });
      try {
        assert.equal((await conn.execute('echo sealed')).stdoutText, 'sealed\r\n');
      } finally {
        await conn.close();
      }
      const auth = good.of('auth');
      assert.ok(
        auth.some((l) => /^Negotiate handshake for .*svc-debug.* on connection #1, messages sealed$/.test(l)),
        `auth lines:\n${auth.join('\n')}`,
      );
      assert.ok(
        auth.some((l) => /^Negotiate leg 1: HTTP 401, server token received$/.test(l)),
        `auth lines:\n${auth.join('\n')}`,
      );
      assert.ok(
        auth.some((l) => /^Negotiate leg 2 \(last token with the message\): HTTP 200$/.test(l)),
        `auth lines:\n${auth.join('\n')}`,
      );
      const http = good.of('http');
      assert.ok(http.length >= 3, `http lines:\n${http.join('\n')}`);
      // The first leg opens the socket; the next leg and messages go on the same (reused) socket. A second
      // socket (the End of stdin is sent beside the Receive) starts with its own first leg.
      assert.match(http[0]!, /^POST \/wsman HTTP 401, .*, new socket #1, \d+ ms, plain HTTP$/);
      assert.ok(
        http.every(
          (l) => / reused socket #\d+,/.test(l) || /^POST \/wsman HTTP 401, .*, new socket /.test(l),
        ),
        `http lines:\n${http.join('\n')}`,
      );
      assertNoSecrets(good.all(), USER.password);

      const bad = capture();
      const wrongPassword = 'Not-The-Password-9';
      const refused = await connect({
        endpoint: mock.url,
        username: USER.name,
        password: wrongPassword,
        auth: 'ntlm',
        logger: bad.logger,
      });
      try {
        await assert.rejects(refused.execute('echo never'), AuthenticationError);
      } finally {
        await refused.close().catch(() => undefined);
      }
      const failed = bad.of('auth').filter((l) => l.startsWith('login failed: '));
      assert.equal(failed.length >= 1, true, `a refused NTLM login is logged:\n${bad.all()}`);
      assert.match(failed[0]!, /svc-debug.*Negotiate.*refused.*HTTP 401/);
      assert.ok(
        bad.of('http').some((l) => /HTTP 401/.test(l)),
        bad.of('http').join('\n'),
      );
      assertNoSecrets(bad.all(), wrongPassword);
      assertNoSecrets(bad.all(), USER.password);
    } finally {
      await mock.close();
    }
  });
});
