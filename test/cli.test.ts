import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { main } from '../src/cli/main.ts';
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
