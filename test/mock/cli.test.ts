/** `winrm-connection mock`: URL on the first line, thumbprints with --https, clean stop, usage errors. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { parseMockArgs, runMockCli } from '../../src/mock/cli.ts';
import { RawClient } from './helpers.ts';

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => {
    text += c.toString();
  });
  return {
    stream,
    get text() {
      return text;
    },
    async lines(n: number): Promise<string[]> {
      for (let i = 0; i < 200 && text.split('\n').length <= n; i++)
        await new Promise((r) => setTimeout(r, 25));
      return text.split('\n').slice(0, n);
    },
  };
}

describe('mock CLI', () => {
  it('prints the URL first, serves it, and exits 0 when stopped', async () => {
    const out = capture();
    const err = capture();
    const stop = new AbortController();
    const done = runMockCli(['--port', '0', '--auth', 'basic', '--allow-unencrypted', '--user', 'ci:p:w'], {
      stdout: out.stream,
      stderr: err.stream,
      signal: stop.signal,
    });
    const [url] = await out.lines(1);
    assert.match(url!, /^http:\/\/127\.0\.0\.1:\d+\/wsman$/);
    const c = new RawClient(url!, { user: { name: 'ci', password: 'p:w' } });
    const r = await c.run('hostname');
    assert.equal(r.stdout.toString(), 'WIN-MOCK\r\n');
    c.close();
    stop.abort();
    assert.equal(await done, 0);
    assert.equal(err.text, '');
  });

  it('--https prints the SHA-1 and SHA-256 thumbprints after the URL', async () => {
    const out = capture();
    const stop = new AbortController();
    const done = runMockCli(['--https', '--machine-name', 'WIN-CLI'], {
      stdout: out.stream,
      stderr: capture().stream,
      signal: stop.signal,
    });
    const lines = await out.lines(3);
    assert.match(lines[0]!, /^https:\/\/127\.0\.0\.1:\d+\/wsman$/);
    assert.match(lines[1]!, /^sha1 [0-9A-F]{40}$/);
    assert.match(lines[2]!, /^sha256 [0-9A-F]{64}$/);
    stop.abort();
    assert.equal(await done, 0);
  });

  it('warns when no authentication scheme is enabled (the Windows default)', async () => {
    const err = capture();
    const stop = new AbortController();
    stop.abort();
    assert.equal(
      await runMockCli([], { stdout: capture().stream, stderr: err.stream, signal: stop.signal }),
      0,
    );
    assert.match(err.text, /no authentication scheme enabled/);
  });

  it('usage errors exit 2 and name the problem; passwords are not echoed', async () => {
    for (const [argv, pattern] of [
      [['--port', 'x'], /--port must be a number/],
      [['--auth', 'kerberos'], /--auth kerberos needs --keytab FILE/],
      [['--keytab', '/k'], /--keytab is used only with --auth kerberos/],
      [['--auth', 'kerberos', '--keytab', '/nonexistent/keytab'], /auth\.kerberos\.keytab/],
      [['--auth', 'digest'], /unknown scheme "digest"/],
      [['--host', 'remote'], /--host must be builtins or local/],
      [['--user', 'nopassword'], /NAME:PASSWORD/],
      [['--bogus'], /Unknown option/],
    ] as const) {
      const err = capture();
      assert.equal(
        await runMockCli([...argv], { stdout: capture().stream, stderr: err.stream }),
        2,
        argv.join(' '),
      );
      assert.match(err.text, pattern);
    }
  });

  it('--auth kerberos --keytab FILE offers Kerberos alone and inside Negotiate', () => {
    assert.deepEqual(parseMockArgs(['--auth', 'kerberos', '--keytab', '/etc/wsman.keytab']).auth, {
      basic: false,
      negotiate: true,
      kerberos: { keytab: '/etc/wsman.keytab' },
    });
  });

  it('parses every flag into options', () => {
    assert.deepEqual(
      parseMockArgs([
        '--port',
        '5985',
        '--listen',
        '0.0.0.0',
        '--https',
        '--user',
        'a:1',
        '--user',
        'b:2',
        '--auth',
        'basic',
        '--allow-unencrypted',
        '--host',
        'local',
        '--machine-name',
        'SRV',
        '--path',
        '/x',
      ]),
      {
        port: 5985,
        host: '0.0.0.0',
        https: true,
        users: [
          { name: 'a', password: '1' },
          { name: 'b', password: '2' },
        ],
        auth: { basic: true, negotiate: false },
        allowUnencrypted: true,
        commandHost: 'local',
        machineName: 'SRV',
        path: '/x',
      },
    );
  });
});
