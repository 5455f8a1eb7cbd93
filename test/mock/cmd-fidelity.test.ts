/**
 * cmd.exe fidelity end to end: the client's argv quoting through the mock's `cmd /c` emulation (phase 1 %VAR%
 * expansion included), and what independent clients send (a quoted <rsp:Command>, <rsp:Arguments> joined with a
 * space).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Connection, connect } from '../../src/index.ts';
import type { MockServer } from '../../src/mock/index.ts';
import { RawClient, startBasicMock, USER } from './helpers.ts';

let mock: MockServer;
let conn: Connection;
let raw: RawClient;

before(async () => {
  mock = await startBasicMock({ users: [USER] });
  conn = await connect({
    endpoint: mock.url,
    username: USER.name,
    password: USER.password,
    allowUnencrypted: true,
  });
  raw = new RawClient(mock.url);
});
after(async () => {
  raw.close();
  await conn.close();
  await mock.close();
});

describe('argv quoting through the mock', () => {
  it('%OS:W=w% and friends reach the program as typed', async () => {
    // Each of these expands on Windows when % is escaped with a caret (cmd's phase 1 ignores carets).
    const argv = [
      '%OS:W=w%',
      '%OS%',
      '%os:~0,3%',
      '%OS:*_=x%',
      '%%OS%%',
      '100%',
      'a "%OS%" b',
      '%',
      '&|<>^!',
    ];
    const r = await conn.execute(['mock-argv', ...argv]);
    assert.equal(r.stderrText, '');
    assert.equal(r.stdoutText, argv.map((a) => `${a}\r\n`).join(''));
    // The same line as a plain string is cmd's business: there it expands.
    assert.equal((await conn.execute('echo %OS:W=w%')).stdoutText, 'windows_NT\r\n');
  });
});

describe('a program name with a blank', () => {
  it('reaches cmd as one name (real quotes; the /c rule removes the extra pair)', async () => {
    // The mock runs no .exe files, so cmd's "not recognized" answer shows the name it looked for.
    const r = await conn.execute(['C:\\Tools\\my tool.exe', 'a b']);
    assert.match(r.stderrText, /^'C:\\Tools\\my tool\.exe' is not recognized/);
  });
});

describe('what other clients send', () => {
  it('a quoted Command (Ruby WinRM gem) runs: cmd /c strips the outer quotes', async () => {
    const r = await raw.run('"echo hello"');
    assert.equal(r.stdout.toString(), 'hello\r\n');
    assert.equal(r.exitCode, 0);
  });

  it('Command and Arguments are joined with a space (pywinrm run_cmd)', async () => {
    const r = await raw.run('"echo"', { args: ['a', '%OS%'] });
    assert.equal(r.stdout.toString(), 'a Windows_NT\r\n');
  });
});
