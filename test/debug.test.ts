import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { CmdLine, encodePowerShell, escapeCmdMeta, quoteMsvcrt } from '../src/cmdline.ts';
import { DebugLog } from '../src/debug.ts';
import { connect } from '../src/index.ts';
import { builtinsHost } from '../src/mock/hosts/builtins.ts';
import { startMockServer } from '../src/mock/index.ts';

const MOCK_USER = { name: 'mock', password: 'Mock-Passw0rd' };

describe('debug log redaction', () => {
  it('masks Authorization headers and registered secrets in every form', () => {
    const lines: string[] = [];
    const log = new DebugLog((ns, m) => lines.push(`${ns} ${m}`));
    log.addSecret('Hunter2!');
    log.log('http', 'Authorization: Basic dXNlcjpIdW50ZXIyIQ== next');
    log.log('wsman', 'echo Hunter2! and SHVudGVyMiE in base64');
    const all = lines.join('\n');
    assert.doesNotMatch(all, /Hunter2|dXNlcjpIdW50ZXIyIQ|SHVudGVyMiE/);
    assert.match(all, /Authorization: Basic \[redacted\]/);
  });
  it('masks Authorization values in JSON and util.inspect shapes, keeping the scheme', () => {
    const log = new DebugLog();
    const token = 'TlRMTVNTUAADAAAAGAAYAEAAAAA=';
    for (const [text, want] of [
      [inspect({ Authorization: `Negotiate ${token}` }), "{ Authorization: 'Negotiate [redacted]' }"],
      [inspect({ authorization: [`NTLM ${token}`] }), "{ authorization: [ 'NTLM [redacted]' ] }"],
      [
        JSON.stringify({ 'Proxy-Authorization': `Basic ${token}` }),
        '{"Proxy-Authorization":"Basic [redacted]"}',
      ],
      [`authorization=${token}&x=1`, 'authorization=[redacted]&x=1'],
      [
        `Authorization: Custom-Scheme ${token}\r\nHost: h`,
        'Authorization: Custom-Scheme [redacted]\r\nHost: h',
      ],
    ] as const) {
      assert.equal(log.redact(text), want);
    }
  });
  it('is silent without a logger or DEBUG', () => {
    const saved = process.env.DEBUG;
    delete process.env.DEBUG;
    const log = new DebugLog();
    assert.equal(log.enabled('wsman'), false);
    process.env.DEBUG = 'winrm-connection:*';
    assert.equal(log.enabled('wsman'), true);
    if (saved === undefined) delete process.env.DEBUG;
    else process.env.DEBUG = saved;
  });
});

describe('secrets in every encoded form (issue #11 item 10)', () => {
  const SECRET = 'Pa$$w0rd&2024!';

  it('a CmdLine.addPassword secret with cmd.exe metacharacters never reaches the logger', async () => {
    const mock = await startMockServer({ users: [MOCK_USER], auth: { basic: true }, allowUnencrypted: true });
    const lines: string[] = [];
    const conn = await connect({
      endpoint: mock.url,
      username: MOCK_USER.name,
      password: MOCK_USER.password,
      allowUnencrypted: true,
      logger: (ns, m) => lines.push(`${ns} ${m}`),
    });
    try {
      await conn.execute(new CmdLine().addArgument('echo').addPassword(SECRET));
    } finally {
      await conn.close();
      await mock.close();
    }
    const all = lines.join('\n');
    for (const form of ['Pa$$w0rd^&amp;2024^!', 'Pa$$w0rd', 'Pa$$w0rd^&2024^!', 'w0rd&amp;2024', 'w0rd']) {
      assert.ok(!all.includes(form), `the log shows ${form}`);
    }
    assert.match(
      all,
      /<rsp:Command>echo \[redacted\]<\/rsp:Command>/,
      'the Command request is logged, masked',
    );
  });

  it('masks the quoted, caret-escaped, XML-escaped, base64 and UTF-16LE base64 forms', () => {
    const lines: string[] = [];
    const log = new DebugLog((_ns, m) => lines.push(m));
    log.addSecret(`${SECRET} "x"`);
    const secret = `${SECRET} "x"`;
    const quoted = quoteMsvcrt(secret);
    const forms = [
      secret,
      quoted,
      escapeCmdMeta(quoted),
      escapeCmdMeta(quoted).replace(/&/g, '&amp;'),
      escapeCmdMeta(quoted).replace(/&/g, '&amp;').replace(/"/g, '&quot;'),
      Buffer.from(secret).toString('base64'),
      encodePowerShell(secret),
    ];
    for (const f of forms) log.log('wsman', `before ${f} after`);
    for (const [i, line] of lines.entries()) {
      assert.equal(line, 'before [redacted] after', `form ${i} (${forms[i]}) is masked whole`);
    }
  });

  it('masks a secret inside a longer base64 stream at each of the three alignments', () => {
    const log = new DebugLog(() => undefined);
    log.addSecret(SECRET);
    const n = Buffer.byteLength(SECRET);
    for (const prefix of ['', 'a', 'ab']) {
      for (const encoding of ['utf8', 'utf16le'] as const) {
        const bytes = Buffer.from(`${prefix}net use X: ${SECRET} /user:admin`, encoding);
        const b64 = bytes.toString('base64');
        const start = Buffer.byteLength(`${prefix}net use X: `, encoding);
        const len = encoding === 'utf8' ? n : n * 2;
        // The base64 characters whose 6 bits all come from the secret's bytes.
        const inner = b64.slice(Math.ceil((8 * start) / 6), Math.floor((8 * (start + len)) / 6));
        const out = log.redact(`-EncodedCommand ${b64}`);
        assert.ok(!out.includes(inner), `${encoding} with prefix "${prefix}": ${out}`);
        assert.match(out, /\[redacted\]/);
      }
    }
  });
});

describe('DEBUG patterns follow the debug package (issue #11 item 18)', () => {
  /** Whether DebugLog (no logger) logs namespace `n` under DEBUG=spec. */
  function enabledWith(spec: string, n: string): boolean {
    const saved = process.env.DEBUG;
    try {
      process.env.DEBUG = spec;
      return new DebugLog().enabled(n);
    } finally {
      if (saved === undefined) delete process.env.DEBUG;
      else process.env.DEBUG = saved;
    }
  }
  it('honours -name exclusions, whatever their place in the list', () => {
    for (const spec of [
      'winrm-connection:*,-winrm-connection:wsman',
      '-winrm-connection:wsman winrm-connection:*',
      '  winrm-connection:*  ,  -winrm-connection:ws* ',
    ]) {
      assert.equal(enabledWith(spec, 'wsman'), false, `${spec} excludes wsman`);
      assert.equal(enabledWith(spec, 'http'), true, `${spec} includes http`);
    }
  });
  it('splits on commas and spaces and matches * anywhere', () => {
    assert.equal(enabledWith('foo winrm-connection:http', 'http'), true);
    assert.equal(enabledWith('foo,bar', 'http'), false);
    assert.equal(enabledWith('*', 'auth'), true);
    assert.equal(enabledWith('*:auth', 'auth'), true);
    assert.equal(enabledWith('*,-*:auth', 'auth'), false);
    assert.equal(enabledWith('winrm-connection:http', 'http2'), false);
  });
});

describe('payloads are summarised in the log (issue #11 item 18)', () => {
  it('a 5 MB upload with a logger writes far less than 5 MB of log', async () => {
    const mock = await startMockServer({
      users: [MOCK_USER],
      auth: { basic: true },
      allowUnencrypted: true,
      commandHost: builtinsHost({}),
    });
    let logged = 0;
    let longest = 0;
    const conn = await connect({
      endpoint: mock.url,
      username: MOCK_USER.name,
      password: MOCK_USER.password,
      allowUnencrypted: true,
      logger: (_ns, m) => {
        logged += m.length;
        longest = Math.max(longest, m.length);
      },
    });
    const size = 5 * 1024 * 1024;
    try {
      // One stream: the bound is about payload summaries; each extra stream adds its own shell's lines
      // (8 streams: 285,229 characters), whatever the payload's size.
      const up = await conn.upload(Buffer.alloc(size, 0x41), 'C:\\Users\\mock\\five-mb.bin', { streams: 1 });
      assert.equal(up.bytes, size);
    } finally {
      await conn.close();
      await mock.close();
    }
    assert.ok(logged > 0, 'something was logged');
    assert.ok(logged < 200_000, `the log holds ${logged} characters for a ${size}-byte upload`);
    assert.ok(longest <= 4096 + 64, `longest line ${longest} characters`);
  });

  it('a long SOAP body keeps its head and says how long it was; Stream contents only their size', () => {
    const lines: string[] = [];
    const log = new DebugLog((_ns, m) => lines.push(m));
    const body = `<s:Envelope><s:Body>${'<p:Item>x</p:Item>'.repeat(2000)}</s:Body></s:Envelope>`;
    log.log('wsman', () => `<<< Receive ${body}`);
    assert.ok(lines[0]!.startsWith('<<< Receive <s:Envelope><s:Body><p:Item>'));
    assert.ok(
      lines[0]!.endsWith(`... (${Buffer.byteLength(`<<< Receive ${body}`)} bytes)`),
      lines[0]!.slice(-80),
    );
    assert.ok(lines[0]!.length < 4200);
    const stream = Buffer.from('secret-free but long payload '.repeat(100)).toString('base64');
    log.log('wsman', `<rsp:Send><rsp:Stream Name="stdin" CommandId="C">${stream}</rsp:Stream></rsp:Send>`);
    assert.equal(
      lines[1],
      '<rsp:Send><rsp:Stream Name="stdin" CommandId="C">[2900 bytes not logged]</rsp:Stream></rsp:Send>',
    );
  });
});
