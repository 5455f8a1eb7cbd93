/**
 * The CLI's strategy and mechanism flags: `--type native --winrs PATH` runs a command through winrs (here the
 * winrs emulator, built once) against the mock; `--auth kerberos` takes no password (the ticket cache).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { main } from '../src/cli/main.ts';
import { toConnectionOptions, UsageError } from '../src/cli/options.ts';
import { type MockServer, startMockServer } from '../src/mock/index.ts';
import { captureIo as io } from './helpers/cli-io.ts';
import { buildEmulator, NATIVE_USER } from './native/emulator-launcher.ts';

describe('CLI: --type native and --auth kerberos', { skip: process.platform === 'win32' }, () => {
  let mock: MockServer;
  let emulator: Awaited<ReturnType<typeof buildEmulator>>;
  before(async () => {
    [mock, emulator] = await Promise.all([
      startMockServer({ users: [NATIVE_USER], auth: { negotiate: true }, allowUnencrypted: true }),
      buildEmulator(),
    ]);
  });
  after(async () => {
    await mock?.close();
    await emulator?.dispose();
  });

  it('exec --type native --winrs EMULATOR runs the command through winrs, exit code passed through', async () => {
    const url = new URL(mock.url);
    const t = io();
    const flags = ['--host', url.hostname, '--port', url.port, '--type', 'native', '--winrs', emulator.path];
    const account = ['-u', `${NATIVE_USER.domain}\\${NATIVE_USER.name}`, '-p', NATIVE_USER.password];
    const code = await main(['exec', ...flags, ...account, '--', 'cmd', '/c', 'echo native & exit 3'], t.io);
    assert.equal(code, 3, t.err());
    assert.equal(t.out().toString().trim(), 'native');
  });

  it('--help lists the strategy and Kerberos choices it accepts', async () => {
    const t = io();
    assert.equal(await main(['--help'], t.io), 0);
    assert.match(t.out().toString(), /--auth basic\|ntlm\|kerberos/);
    assert.match(t.out().toString(), /--type internal\|native/);
  });

  it('--auth kerberos needs no password (single sign-on); basic still does; --winrs needs --type native', () => {
    const o = toConnectionOptions({ host: 'h', username: 'alice@EXAMPLE.COM', auth: 'kerberos' }, {});
    assert.equal(o.auth, 'kerberos');
    assert.equal(o.password, undefined);
    assert.throws(() => toConnectionOptions({ host: 'h', username: 'u' }, {}), UsageError);
    assert.throws(
      () => toConnectionOptions({ host: 'h', username: 'u', password: 'p', winrs: '/x' }, {}),
      /--winrs needs --type native/,
    );
  });
});
