/**
 * Issue #11 item 9: a connected connection, printed with console.log / util.inspect (default depth and
 * depth Infinity) or JSON.stringify, shows no password, no base64(user:password) and no CmdLine secret.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { DebugLog } from '../src/debug.ts';
import { CmdLine, type Connection, connect } from '../src/index.ts';
import { type MockServer, startMockServer } from '../src/mock/index.ts';
import { resolveOptions } from '../src/options/index.ts';

const USER = { name: 'inspector', password: 'Pa$$w0rd&2024!' };
const BASIC_TOKEN = Buffer.from(`${USER.name}:${USER.password}`).toString('base64');

function printed(value: unknown): Record<string, string> {
  return {
    inspect: inspect(value),
    'inspect depth Infinity': inspect(value, { depth: Infinity, showProxy: true }),
    'inspect showHidden': inspect(value, { depth: Infinity, showHidden: true }),
    'JSON.stringify': JSON.stringify(value),
    String: String(value),
  };
}

function assertNoSecret(value: unknown, secrets: readonly string[]): void {
  for (const [how, text] of Object.entries(printed(value))) {
    for (const s of secrets) assert.ok(!text.includes(s), `${how} printed the secret ${s}:\n${text}`);
  }
}

describe('secrets stay out of inspect and JSON output', () => {
  let mock: MockServer;
  before(async () => {
    mock = await startMockServer({
      users: [USER],
      auth: { basic: true, negotiate: true },
      allowUnencrypted: true,
    });
  });
  after(() => mock.close());

  for (const auth of ['basic', 'ntlm'] as const) {
    it(`a connected ${auth} connection prints no password`, async () => {
      const conn: Connection = await connect({
        endpoint: mock.url,
        username: USER.name,
        password: USER.password,
        auth,
        allowUnencrypted: true,
      });
      try {
        const r = await conn.execute(new CmdLine().addArgument('echo').addPassword('Sec&ret-Arg!42'));
        assert.equal(typeof r.exitCode, 'number');
        const shown = inspect(conn);
        assert.match(shown, /WinRmInternalConnection/, 'the connection is printed at all');
        assertNoSecret(conn, [USER.password, BASIC_TOKEN, 'Sec&ret-Arg!42', 'Sec^&ret-Arg^!42']);
      } finally {
        await conn.close();
      }
    });
  }

  it('resolved options print the password as [redacted] but still give it to the mechanism', () => {
    const opts = resolveOptions({
      host: 'h',
      username: USER.name,
      password: USER.password,
      allowUnencrypted: true,
    });
    assertNoSecret(opts, [USER.password, BASIC_TOKEN]);
    assert.match(inspect(opts), /password: Secret \[redacted\]/);
    assert.equal(opts.password.reveal(), USER.password);
  });

  it('the proxy URL prints without its credentials, and the redactor masks them', () => {
    const opts = resolveOptions({
      host: 'h',
      username: USER.name,
      password: USER.password,
      allowUnencrypted: true,
      proxy: 'http://proxyuser:Pr%26xyPw99@127.0.0.1:3128',
    });
    const proxyToken = Buffer.from('proxyuser:Pr&xyPw99').toString('base64');
    assertNoSecret(opts, ['Pr%26xyPw99', 'Pr&xyPw99', proxyToken, USER.password]);
    assert.equal(inspect(opts.proxy), 'URL http://[redacted]@127.0.0.1:3128/');
    assert.equal(opts.proxy?.password, 'Pr%26xyPw99', 'the transport still reads the credentials');
    const log = new DebugLog();
    log.addSecret(opts.password);
    assert.equal(log.redact(`sent ${proxyToken} for Pr&xyPw99`), 'sent [redacted] for [redacted]');
  });

  it('a CmdLine prints its secret arguments masked', () => {
    const c = CmdLine.of('net', 'use', 'X:').addPassword('Pa$$w0rd&2024!').addRaw('>nul');
    assertNoSecret(c, ['Pa$$w0rd', 'w0rd&2024', 'w0rd^&2024']);
    assert.equal(inspect(c), 'CmdLine { net use X: ******** >nul }');
    assert.equal(JSON.stringify({ c }), '{"c":"net use X: ******** >nul"}');
    assert.ok(c.toCommandLine().includes('Pa$$w0rd^&2024^!'), 'the real command line keeps the secret');
  });
});
