/** The winrs emulator: winrs.exe's flag syntax, and a run against the mock (in this process, no spawn). */
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { parseWinrsArgs, remoteUrl, WinrsUsageError } from '../../src/native/emulator/args.ts';
import { runWinrsEmulator } from '../../src/native/emulator/index.ts';
import { winrsFailure, winrsFailureKind } from '../../src/native/errors.ts';
import { type MockEnvironment, mockEnvironment } from '../contract/mock-environment.ts';

describe('winrs emulator: flags as winrs.exe takes them', () => {
  it('short and long forms, "-" or "/", any case', () => {
    const long = parseWinrsArgs([
      '-remote:srv:5985',
      '-username:CORP\\u',
      '-password:p w',
      '-directory:C:\\x',
      '-environment:A=1',
      '-noecho',
      '-noprofile',
      '-allowdelegate',
      '-compression',
      '-unencrypted',
      '-usessl',
      '-codepage:437',
      'echo',
      'hi',
    ]);
    const short = parseWinrsArgs([
      '/r:srv:5985',
      '/U:CORP\\u',
      '-p:p w',
      '-d:C:\\x',
      '-env:A=1',
      '-NOE',
      '-nop',
      '-ad',
      '-comp',
      '-un',
      '-ssl',
      '-cp:437',
      'echo',
      'hi',
    ]);
    assert.deepEqual(short, long);
    assert.equal(long.command, 'echo hi');
    assert.deepEqual(long.env, { A: '1' });
  });

  it('repeats -env, ignores the deprecated -t, defaults -r to localhost', () => {
    const inv = parseWinrsArgs(['-env:A=1', '-env:B=x=y', '-t:60', 'set']);
    assert.deepEqual([inv.remote, inv.env], ['localhost', { A: '1', B: 'x=y' }]);
  });

  const invalid: Array<[string, string[]]> = [
    ['an unknown switch', ['-bogus', 'dir']],
    ['another abbreviation than the two forms', ['-rem:srv', 'dir']],
    ['a value switch without a value', ['-r', 'dir']],
    ['a value switch with an empty value', ['-r:', 'dir']],
    ['a flag with a value', ['-noecho:yes', 'dir']],
    ['-env without NAME=', ['-env:novalue', 'dir']],
    ['-password without -username', ['-p:x', 'dir']],
    ['-username without -password (winrs would prompt)', ['-u:x', 'dir']],
    ['no command', ['-r:srv']],
    ['a switch twice', ['-r:a', '-r:b', 'dir']],
    ['a code page that is not a number', ['-cp:utf8', 'dir']],
  ];
  for (const [name, argv] of invalid) {
    it(`refuses ${name}`, () => assert.throws(() => parseWinrsArgs(argv), WinrsUsageError));
  }

  it('reads -r: as [transport://]target[:port], https with -usessl, default ports', () => {
    assert.equal(remoteUrl('srv', false).href, 'http://srv:5985/wsman');
    assert.equal(remoteUrl('srv', true).href, 'https://srv:5986/wsman');
    assert.equal(remoteUrl('https://srv', false).href, 'https://srv:5986/wsman');
    assert.equal(remoteUrl('[::1]:1234', false).href, 'http://[::1]:1234/wsman');
  });
});

describe('winrs emulator: a run against the mock', () => {
  const USER = { name: 'emu', password: 'Emu&1 %OS%', domain: 'CORP' };
  let env: MockEnvironment;
  let remote = '';
  before(async () => {
    env = await mockEnvironment({ users: [USER], auth: { negotiate: true } }, (mock) => {
      remote = new URL(mock.url).host;
      return { endpoint: mock.url, username: 'x', password: 'y', auth: 'ntlm' };
    });
    // The options callback (which learns the mock's address) runs at connect(); nothing is sent.
    await (await env.connect()).close();
  });
  after(() => env.close());

  async function run(argv: string[], stdin: Buffer = Buffer.alloc(0)) {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    stdout.on('data', (c: Buffer) => out.push(c));
    stderr.on('data', (c: Buffer) => err.push(c));
    const code = await runWinrsEmulator(argv, { stdin: Readable.from([stdin]), stdout, stderr, env: {} });
    return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') };
  }
  const creds = () => [`-r:${remote}`, `-u:${USER.domain}\\${USER.name}`, `-p:${USER.password}`];

  it('exit code = the remote exit code, stdout passed through', async () => {
    assert.equal((await run([...creds(), 'exit', '/b', '7'])).code, 7);
    const r = await run([...creds(), 'echo', 'hello']);
    assert.deepEqual([r.code, r.stdout.toString()], [0, 'hello\r\n']);
  });

  it('stderr passed through, stdin forwarded', async () => {
    const r = await run([...creds(), 'contract-binary']);
    assert.equal(r.stderr, 'line one\r\nline two\r\n');
    const data = Buffer.from('some stdin bytes\r\n\u0000\u00ff');
    const cat = await run([...creds(), 'contract-cat'], data);
    assert.deepEqual(cat.stdout, data);
  });

  it("its own failures are 'Winrs error:' lines the error table reads", async () => {
    const usage = await run(['-bogus', 'dir']);
    assert.equal(usage.code, 1);
    assert.equal(winrsFailureKind(winrsFailure(usage.stderr, usage.code)), 'usage');
    const denied = await run([`-r:${remote}`, '-u:CORP\\emu', '-p:wrong', 'dir']);
    assert.equal(denied.code, 1);
    assert.equal(winrsFailureKind(winrsFailure(denied.stderr, denied.code)), 'access-denied');
    const refused = await run(['-r:127.0.0.1:1', '-u:a', '-p:b', 'dir']);
    assert.equal(winrsFailureKind(winrsFailure(refused.stderr, refused.code)), 'unreachable');
  });
});
