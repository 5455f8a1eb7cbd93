import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { bindCancel, closeAfter, Interrupted, installSignalHandlers } from '../src/cli/cancel.ts';
import { main } from '../src/cli/main.ts';
import { cliMessage, OPTION_FLAGS } from '../src/cli/options.ts';
import { progressFrame, progressLine } from '../src/cli/transfer.ts';
import type { Connection } from '../src/connection.ts';
import { captureIo as io } from './helpers/cli-io.ts';

describe('CLI usage errors exit 2 with a message', () => {
  const cases: Array<[string[], RegExp]> = [
    [[], /Usage/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['exec', '--', 'hostname'], /--endpoint URL or --host/],
    [['exec', '--host', 'h', '--', 'hostname'], /--username/],
    [['exec', '--host', 'h', '-u', 'a', '--', 'hostname'], /--password or set WINRM_PASSWORD/],
    [
      ['exec', '--host', 'h', '-u', 'a', '-p', 'x', '--port', 'abc', '--', 'hostname'],
      /--port needs a positive number/,
    ],
    [['exec', '--host', 'h', '-u', 'a', '-p', 'x', '--bogus', '--', 'hostname'], /bogus/],
    [['exec', '--host', 'h', '-u', 'a', '-p', 'x', '--', 'hostname'], /AllowUnencrypted/],
    [['exec', '--host', 'h', '-u', 'a', '-p', 'x', '--https'], /needs a command/],
  ];
  for (const [argv, pattern] of cases) {
    it(argv.join(' ') || '(no arguments)', async () => {
      const t = io();
      assert.equal(await main(argv, t.io), 2);
      assert.match(t.err(), pattern);
    });
  }
  it('--help prints usage to stdout and exits 0', async () => {
    const t = io();
    assert.equal(await main(['--help'], t.io), 0);
    assert.match(t.out().toString(), /exec \[connection flags\]/);
  });
  it('a refused connection exits 255 with the typed error', async () => {
    const t = io({ WINRM_PASSWORD: 'x' });
    const code = await main(
      ['exec', '--endpoint', 'https://127.0.0.1:1/wsman', '-u', 'a', '--', 'hostname'],
      t.io,
    );
    assert.equal(code, 255);
    assert.match(t.err(), /ConnectionError \[WINRM_CONNECTION\].*127\.0\.0\.1:1/);
    assert.doesNotMatch(t.err(), /WINRM_PASSWORD|\bx\b.*password/);
  });
});

describe('CLI help and version', () => {
  for (const command of ['upload', 'download', 'exec']) {
    it(`${command} --help prints usage to stdout and exits 0`, async () => {
      const t = io();
      assert.equal(await main([command, '--help'], t.io), 0, t.err());
      assert.match(t.out().toString(), new RegExp(`${command} \\[connection flags\\]`));
      assert.match(t.out().toString(), /--endpoint URL/);
    });
  }
  it('--version prints the package version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    const t = io();
    assert.equal(await main(['--version'], t.io), 0, t.err());
    assert.equal(t.out().toString(), `winrm-connection ${version}\n`);
  });
  it('--help lists the --no-stdin flag', async () => {
    const t = io();
    assert.equal(await main(['--help'], t.io), 0);
    assert.match(t.out().toString(), /--no-stdin/);
  });
});

describe('CLI remedies name flags, not API options', () => {
  it('Basic over plain HTTP suggests --https and --allow-unencrypted', async () => {
    const t = io();
    assert.equal(await main(['exec', '--host', 'h', '-u', 'a', '-p', 'x', '--', 'hostname'], t.io), 2);
    assert.match(t.err(), /--allow-unencrypted/);
    assert.match(t.err(), /--https/);
    assert.doesNotMatch(t.err(), /allowUnencrypted: true|https: true/);
  });
  it('rewrites tls.ca / tls.fingerprint / auth / operationTimeout through the one table', () => {
    assert.equal(
      cliMessage(
        "pass tls.ca (PEM), or pin it with tls.fingerprint; use auth 'ntlm'; raise operationTimeout",
      ),
      'pass --ca FILE (PEM), or pin it with --fingerprint HEX; use --auth ntlm; raise --operation-timeout MS',
    );
    // Prose words and the server's own syntax stay.
    const prose = 'would send the password; winrm set winrm/config/service @{AllowUnencrypted="true"}';
    assert.equal(cliMessage(prose), prose);
    for (const { flag } of OPTION_FLAGS) assert.match(flag, /^--[a-z-]+$/);
  });
});

const MB = 1048576;
describe('progress renderer (pure)', () => {
  const samples = [
    { bytes: 0, total: 5.4 * MB, elapsed: 0 },
    { bytes: 1.2 * MB, total: 5.4 * MB, elapsed: 1000 },
    { bytes: 5.3 * MB, total: 5.4 * MB, elapsed: 60_000 },
    { bytes: 123.4 * MB, total: 500 * MB, elapsed: 10_000 },
    { bytes: 999 * MB, total: 1000 * MB, elapsed: 7 },
    { bytes: 10, total: undefined, elapsed: 3 },
  ];
  for (const columns of [10, 20, 30, 40, 50, 60, 80, 120, 200]) {
    it(`at ${columns} columns every line fits in one row`, () => {
      for (const s of samples) {
        const line = progressLine({ bytes: s.bytes, total: s.total, path: 'x' }, s.elapsed, columns);
        assert.ok(line.length <= columns - 1, `${JSON.stringify(line)} is ${line.length} > ${columns - 1}`);
        assert.doesNotMatch(line, /[\r\n]/);
      }
    });
  }
  it('a redraw returns to column 0 and erases the rest of the row, with no newline', () => {
    const long = progressFrame({ bytes: MB, total: 100 * MB, path: 'x' }, 10, 50);
    const short = progressFrame({ bytes: 100 * MB, total: 100 * MB, path: 'x' }, 100_000, 50);
    for (const f of [long, short]) {
      assert.ok(f.startsWith('\r') && f.endsWith('\x1b[K'), JSON.stringify(f));
      assert.doesNotMatch(f.slice(1), /[\r\n]/);
      assert.ok(f.length - '\r\x1b[K'.length <= 49);
    }
  });
  it('at 50 columns the line keeps bytes, total and ETA', () => {
    const line = progressLine({ bytes: 1.2 * MB, total: 5.4 * MB, path: 'x' }, 1000, 50);
    assert.match(line, /1\.2 MB \/ 5\.4 MB/);
    assert.match(line, /ETA 0:04/);
  });
});

describe('CLI signal handling (pure)', () => {
  it('the first signal aborts with Interrupted, the second destroys and exits at once', () => {
    const source = new EventEmitter();
    const exits: number[] = [];
    const { signal, dispose } = installSignalHandlers(source, (c) => exits.push(c));
    let destroyed = 0;
    const conn = { close: async () => {}, destroy: () => destroyed++ } as unknown as Connection;
    const release = bindCancel(conn, signal);
    source.emit('SIGINT');
    assert.ok(signal.reason instanceof Interrupted);
    assert.equal((signal.reason as Interrupted).exitCode, 130);
    assert.deepEqual(exits, []);
    source.emit('SIGTERM');
    assert.equal(destroyed, 1);
    assert.deepEqual(exits, [143]);
    release();
    dispose();
    assert.equal(source.listenerCount('SIGINT') + source.listenerCount('SIGTERM'), 0);
  });
});

describe('closing after the operation', () => {
  const failingClose = {
    close: () => Promise.reject(new Error('1 shell(s) could not be deleted: S-1')),
  } as unknown as Connection;

  it('a failed close() is the error of an operation that succeeded', async () => {
    const lines: string[] = [];
    await assert.rejects(
      closeAfter(failingClose, false, { write: (t) => lines.push(t) }),
      /could not be deleted/,
    );
    assert.deepEqual(lines, []);
  });

  it('a failed close() after a failed operation is an extra stderr line, not a replacement', async () => {
    const lines: string[] = [];
    await closeAfter(failingClose, true, { write: (t) => lines.push(t) });
    assert.deepEqual(lines, ['winrm-connection: also: 1 shell(s) could not be deleted: S-1\n']);
  });
});
