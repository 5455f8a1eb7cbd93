/**
 * executePowerShell: scripts of any length travel over stdin behind a short -EncodedCommand bootstrap, and
 * CLIXML on stderr comes back as plain text. The mock cannot run PowerShell, so a scripted handler plays
 * powershell.exe: it checks the bootstrap it was given and answers the script it read from stdin.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { POWERSHELL_STDIN_BOOTSTRAP } from '../../src/cmdline.ts';
import { type Connection, connect } from '../../src/index.ts';
import { scriptedHost } from '../../src/mock/hosts/scripted.ts';
import { type MockServer, startMockServer } from '../../src/mock/index.ts';

const USER = { name: 'ps', password: 'Ps-Passw0rd' };
let lastCommandLine = '';
let lastScript = '';

const fakePowerShell = scriptedHost([
  {
    match:
      /^powershell\.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand (\S+)$/,
    reply: async (c) => {
      lastCommandLine = c.commandLine;
      const bootstrap = Buffer.from(c.match![1]!, 'base64').toString('utf16le');
      if (bootstrap !== POWERSHELL_STDIN_BOOTSTRAP) {
        await c.stderr.write('unexpected bootstrap\r\n');
        return 1;
      }
      lastScript = (await c.readStdin()).toString('utf8');
      const out = /^Write-Output '([^']*)'/m.exec(lastScript);
      if (out) await c.stdout.write(`${out[1]}\r\n`);
      const thrown = /^throw '([^']*)'/m.exec(lastScript);
      if (thrown) {
        await c.stderr.write(
          '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">' +
            '<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T></TN></Obj>' +
            `<S S="Error">${thrown[1]}_x000D__x000A_</S></Objs>`,
        );
        return 1;
      }
      return 0;
    },
  },
]);

describe('executePowerShell', () => {
  let mock: MockServer;
  let conn: Connection;
  before(async () => {
    mock = await startMockServer({
      users: [USER],
      auth: { basic: true },
      allowUnencrypted: true,
      commandHost: fakePowerShell,
    });
    conn = await connect({
      endpoint: mock.url,
      username: USER.name,
      password: USER.password,
      allowUnencrypted: true,
    });
  });
  after(async () => {
    await conn.close();
    await mock.close();
  });

  it('sends a 100,000-character script over stdin, not on the 8,191-character command line', async () => {
    const filler = `# ${'x'.repeat(98)}\n`.repeat(1000);
    const script = `${filler}Write-Output 'from a long script: é'\n`;
    const r = await conn.executePowerShell(script);
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdoutText, 'from a long script: é\r\n');
    assert.equal(lastScript, script);
    assert.ok(lastCommandLine.length < 8191, `command line is ${lastCommandLine.length} characters`);
  });

  it('turns CLIXML errors into plain text and keeps the exit code', async () => {
    const r = await conn.executePowerShell("throw 'Cannot find path C:\\nope'\n");
    assert.equal(r.exitCode, 1);
    assert.equal(r.stderrText, 'Cannot find path C:\\nope\r\n');
    assert.equal(r.stderr.toString('utf8'), r.stderrText);
  });

  it('refuses an empty script and a stdin option', async () => {
    await assert.rejects(conn.executePowerShell('  '), /script is empty/);
    await assert.rejects(conn.executePowerShell('1', { stdin: 'x' }), /stdin option cannot be used/);
  });
});
