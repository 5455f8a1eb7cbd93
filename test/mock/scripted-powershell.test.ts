/**
 * scriptedHost PowerShell rules: a script is matched by its text whether it came as powershell.exe's
 * -EncodedCommand or over stdin (executePowerShell), error records go out as CLIXML, unmatched scripts fail loudly.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeClixml, encodePowerShell } from '../../src/cmdline.ts';
import { type Connection, connect } from '../../src/index.ts';
import { builtinsHost, type MockServer, scriptedHost, startMockServer } from '../../src/mock/index.ts';

const USER = { name: 'ps', password: 'Ps-Passw0rd' };
const STATUS = 'Get-Service W3SVC | Select-Object -ExpandProperty Status';

function host(fallback: boolean) {
  return scriptedHost([{ match: 'echo-rule', reply: { stdout: 'cmd rule\r\n' } }], {
    fallback: fallback ? builtinsHost() : undefined,
    powershell: [
      { powershell: STATUS, reply: { stdout: 'Running\r\n' } },
      { powershell: /^Remove-Item (\S+)$/, reply: { stderr: 'Access is denied. <x>&\r\n', exitCode: 1 } },
      {
        powershell: /Restart-Service (\w+)/,
        reply: async (c) => {
          await c.stdout.write(`restarting ${c.match![1]}\r\n`);
          c.writeError(`Service '${c.match![1]}' cannot be stopped.\r\nline two`);
          return 3;
        },
      },
    ],
  });
}

describe('scriptedHost PowerShell rules', () => {
  const mocks: MockServer[] = [];
  const conns: Connection[] = [];
  let conn: Connection;
  let withFallback: Connection;
  async function start(fallback: boolean): Promise<Connection> {
    const mock = await startMockServer({
      users: [USER],
      auth: { basic: true },
      allowUnencrypted: true,
      commandHost: host(fallback),
    });
    mocks.push(mock);
    const c = await connect({
      endpoint: mock.url,
      username: USER.name,
      password: USER.password,
      allowUnencrypted: true,
    });
    conns.push(c);
    return c;
  }
  before(async () => {
    conn = await start(false);
    withFallback = await start(true);
  });
  after(async () => {
    for (const c of conns) await c.close();
    for (const m of mocks) await m.close();
  });

  it('executePowerShell: the script sent over stdin matches its rule (exact text, surrounding blanks ignored)', async () => {
    const r = await conn.executePowerShell(`\n${STATUS}\n`);
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdoutText, 'Running\r\n');
    assert.equal(r.stderrText, '');
  });

  it('executePowerShell: error records come back through CLIXML as text, with the exit code', async () => {
    const r = await conn.executePowerShell('Restart-Service W3SVC');
    assert.equal(r.exitCode, 3);
    assert.equal(r.stdoutText, 'restarting W3SVC\r\n');
    assert.equal(r.stderrText, "Service 'W3SVC' cannot be stopped.\r\nline two\r\n");
  });

  it('a raw -EncodedCommand script matches too; stderr is the CLIXML document powershell.exe writes', async () => {
    const ok = await conn.execute(
      `powershell.exe -NoProfile -NonInteractive -EncodedCommand ${encodePowerShell(STATUS)}`,
    );
    assert.equal(ok.exitCode, 0);
    assert.equal(ok.stdoutText, 'Running\r\n');
    const bad = await conn.execute(`powershell -EncodedCommand ${encodePowerShell('Remove-Item C:\\x')}`);
    assert.equal(bad.exitCode, 1);
    assert.equal(
      bad.stderrText,
      '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">' +
        '<S S="Error">Access is denied. &lt;x&gt;&amp;_x000D__x000A_</S></Objs>',
    );
    assert.equal(decodeClixml(bad.stderrText), 'Access is denied. <x>&\r\n');
  });

  it('an unmatched script fails loudly (stderr names it, exit 1), by either route', async () => {
    const viaStdin = await conn.executePowerShell('Stop-Computer -Force');
    assert.equal(viaStdin.exitCode, 1);
    assert.match(viaStdin.stderrText, /no scriptedHost rule matches this PowerShell script/);
    assert.match(viaStdin.stderrText, /Stop-Computer -Force/);
    const encoded = await conn.execute(`powershell.exe -EncodedCommand ${encodePowerShell('Get-Date')}`);
    assert.equal(encoded.exitCode, 1);
    assert.match(encoded.stderrText, /no scriptedHost rule matches this PowerShell script .*Get-Date/);
  });

  it('command-line rules and the fallback still run beside PowerShell rules', async () => {
    assert.equal((await conn.execute('echo-rule')).stdoutText, 'cmd rule\r\n');
    // builtins as fallback: powershell.exe with an unknown script is refused by the builtins' own loud answer.
    const r = await withFallback.executePowerShell('Get-Date');
    assert.equal(r.exitCode, 1);
    assert.match(r.stderrText, /cannot run/);
    assert.equal((await withFallback.executePowerShell(STATUS)).stdoutText, 'Running\r\n');
  });
});
