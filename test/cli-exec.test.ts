/** `winrm-connection exec` against the mock: bytes unchanged, remote exit code, errors exit 255. */
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { main } from '../src/cli/main.ts';
import { builtinsHost } from '../src/mock/hosts/builtins.ts';
import { scriptedHost } from '../src/mock/hosts/scripted.ts';
import { type MockServer, startMockServer } from '../src/mock/index.ts';
import { captureIo as io, spawnCli, waitFor } from './helpers/cli-io.ts';

const USER = { name: 'cli', password: 'Cli-Passw0rd' };
const BINARY = Buffer.from([0, 1, 2, 13, 10, 10, 13, 255, 254, 0x1b]);

describe('winrm-connection exec', () => {
  let mock: MockServer;
  before(async () => {
    mock = await startMockServer({
      https: true,
      users: [USER],
      auth: { basic: true },
      commandHost: scriptedHost(
        [
          {
            match: 'emit-binary',
            reply: async (c) => {
              await c.stdout.write(BINARY);
              await c.stderr.write('warn\r\n');
              return 42;
            },
          },
        ],
        { fallback: builtinsHost({}) },
      ),
    });
  });
  after(() => mock.close());

  const flags = () => ['--endpoint', mock.url, '-u', USER.name, '--fingerprint', mock.thumbprints!.sha1];

  it('writes stdout and stderr bytes unchanged and exits with the remote exit code', async () => {
    const t = io({ WINRM_PASSWORD: USER.password });
    assert.equal(await main(['exec', ...flags(), '--', 'emit-binary'], t.io), 42);
    assert.deepEqual(t.out(), BINARY);
    assert.equal(t.err(), 'warn\r\n');
  });

  it('passes several arguments as one quoted command line', async () => {
    const t = io({ WINRM_PASSWORD: USER.password });
    assert.equal(await main(['exec', ...flags(), '--', 'echo', 'a&b'], t.io), 0);
    assert.equal(t.out().toString(), 'a&b\r\n');
  });

  it('a wrong password exits 255 with the typed error and no password', async () => {
    const t = io({ WINRM_PASSWORD: 'Wrong-Passw0rd' });
    assert.equal(await main(['exec', ...flags(), '--', 'hostname'], t.io), 255);
    assert.match(t.err(), /AuthenticationError \[WINRM_AUTH\]/);
    assert.doesNotMatch(t.err(), /Wrong-Passw0rd/);
  });
});

describe('winrm-connection exec: stdin', () => {
  let mock: MockServer;
  before(async () => {
    mock = await startMockServer({ https: true, users: [USER], auth: { basic: true } });
  });
  after(() => mock.close());
  const flags = () => ['--endpoint', mock.url, '-u', USER.name, '--fingerprint', mock.thumbprints!.sha1];

  it('streams piped stdin to the command and ends it at EOF (in-process)', { timeout: 60_000 }, async () => {
    const t = io({ WINRM_PASSWORD: USER.password });
    const stdin = Readable.from([Buffer.from('one\n'), Buffer.from('two\n')]);
    assert.equal(await main(['exec', ...flags(), '--', 'mock-cat'], { ...t.io, stdin }), 0);
    assert.equal(t.out().toString(), 'one\ntwo\n');
  });

  it('echo x | winrm-connection exec -- mock-cat prints x', { timeout: 60_000 }, async () => {
    const cli = spawnCli(['exec', ...flags(), '--', 'mock-cat'], { WINRM_PASSWORD: USER.password });
    cli.child.stdin!.end('x\n');
    assert.deepEqual(await cli.exited, { code: 0, signal: null }, cli.err());
    assert.equal(cli.out().toString(), 'x\n');
  });

  // The CLI passes no stdin with --no-stdin; the library then ends the command's stdin at once.
  it('--no-stdin gives the command no stdin: mock-cat ends at once', { timeout: 30_000 }, async () => {
    const t = io({ WINRM_PASSWORD: USER.password });
    const stdin = Readable.from(['not sent\n']);
    assert.equal(await main(['exec', ...flags(), '--no-stdin', '--', 'mock-cat'], { ...t.io, stdin }), 0);
    assert.equal(t.out().toString(), '');
  });

  it('a TTY stdin is not read', async () => {
    const t = io({ WINRM_PASSWORD: USER.password });
    const stdin = Object.assign(Readable.from(['typed\n']), { isTTY: true });
    assert.equal(await main(['exec', ...flags(), '--', 'echo', 'hi'], { ...t.io, stdin }), 0);
    assert.equal(t.out().toString(), 'hi\r\n');
    assert.equal(stdin.readableEnded, false);
  });
});

describe('winrm-connection: SIGINT / SIGTERM cancel the remote work', () => {
  let mock: MockServer;
  before(async () => {
    mock = await startMockServer({ https: true, users: [USER], auth: { basic: true } });
  });
  after(() => mock.close());
  const flags = () => ['--endpoint', mock.url, '-u', USER.name, '--fingerprint', mock.thumbprints!.sha1];
  const running = () => mock.shells().flatMap((s) => s.commands.filter((c) => c.state === 'Running'));

  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal} during exec terminates the command, deletes the shell and exits ${code}`, async () => {
      const cli = spawnCli(['exec', ...flags(), '--', 'mock-sleep', '600000'], {
        WINRM_PASSWORD: USER.password,
      });
      await waitFor('the remote command to run', () => running().length === 1);
      cli.child.kill(signal);
      const exited = await cli.exited;
      assert.deepEqual(running(), []);
      assert.equal(mock.shells().length, 0);
      assert.deepEqual(exited, { code, signal: null }, cli.err());
      assert.match(cli.err(), new RegExp(`interrupted by ${signal}`));
    });
  }

  it('SIGINT during upload leaves no temporary file beside the target and exits 130', async () => {
    const dir = join(mock.fileRoot, 'C', 'Users', USER.name, 'up');
    await mkdir(dir, { recursive: true });
    const local = join(mock.fileRoot, 'big.bin');
    await writeFile(local, Buffer.alloc(5_400_000, 7));
    // Slow every Send so the upload is still under way when the signal comes.
    mock.inject({ match: { action: 'Send' }, kind: 'delay', delayMs: 300, once: false });
    try {
      const cli = spawnCli(
        ['upload', ...flags(), '--chunk-size', '65536', local, `C:\\Users\\${USER.name}\\up\\big.bin`],
        { WINRM_PASSWORD: USER.password },
      );
      await waitFor('the temporary file', async () => (await readdir(dir)).length > 0);
      cli.child.kill('SIGINT');
      const exited = await cli.exited;
      assert.deepEqual(await readdir(dir), []);
      assert.equal(mock.shells().length, 0);
      assert.deepEqual(exited, { code: 130, signal: null }, cli.err());
    } finally {
      mock.clearInjections();
    }
  });
});
