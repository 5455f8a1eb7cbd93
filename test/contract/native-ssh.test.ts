/**
 * The full connection and transfer contracts for WINRM_NATIVE through the ssh runner: connect() -> SSH to Debian's
 * OpenSSH on 127.0.0.1 (test/helpers/sshd.ts, remoteShell 'posix') -> a `winrs` shim on the session PATH that
 * runs the esbuild-built winrs emulator with plain `node` (test/native/emulator-launcher.ts, as the local contract
 * does) -> NTLM to the mock (the connection contract with -unencrypted for CPU, the transfer contract sealed).
 *
 * What a POSIX proxy cannot carry is skipped through the contract's capabilities, with the reason:
 * - `wideExitCodes: false`: a Linux process status holds 8 bits, so sshd's `exit-status` is the low byte of
 *   the remote code; winrs.exe under Windows OpenSSH reports the full 32-bit code (docs/native.md, Proxies).
 * - `signals: false` when the test sshd runs as root: OpenSSH refuses `signal` channel requests in sessions
 *   without privilege separation, which root logins are (sshd logs "session signalling requires privilege
 *   separation"); kill() then cannot reach winrs, and the command keeps running until the mock closes.
 */
import assert from 'node:assert/strict';
import { userInfo } from 'node:os';
import { after, before, describe, it } from 'node:test';
import type { Connection, ConnectionOptions } from '../../src/index.ts';
import { type Sshd, sshdSkip, startSshd } from '../helpers/sshd.ts';
import { buildEmulator, NATIVE_USER } from '../native/emulator-launcher.ts';
import { describeConnectionContract } from './connection-contract.ts';
import { type MockEnvironment, mockEnvironment } from './mock-environment.ts';
import { describeTransferContract } from './transfer-contract.ts';

const skip = sshdSkip();

/** Root logins get no signal delivery from OpenSSH (see the module comment). */
const SIGNALS_DELIVERED = userInfo().uid !== 0;

/**
 * A contract environment whose connections are WINRM_NATIVE over SSH; its own sshd (the winrs shim on the session
 * PATH) and mock live as long as the environment.
 */
async function nativeSshEnvironment(
  emulatorPath: string,
  options: { unencrypted: boolean },
): Promise<MockEnvironment & { sequentialCommands: number }> {
  // The emulator bundle under the node running the tests: no tsx, about 0.3 s of CPU a winrs.
  const shim = `#!/bin/sh\nexec '${process.execPath}' '${emulatorPath}' "$@"\n`;
  // The contract runs 36 commands at once: more than OpenSSH's default MaxSessions (10) channels per connection.
  const sshd: Sshd = await startSshd({ shims: { winrs: shim }, maxSessions: 64 });
  try {
    const env = await mockEnvironment(
      { users: [NATIVE_USER], auth: { negotiate: true }, allowUnencrypted: options.unencrypted },
      (mock) => ({
        connectionType: 'WINRM_NATIVE',
        endpoint: mock.url,
        username: `${NATIVE_USER.domain}\\${NATIVE_USER.name}`,
        password: NATIVE_USER.password,
        winrsUnencrypted: options.unencrypted,
        winrsProxyProtocol: 'ssh',
        winrsPath: 'winrs',
        winrsProxyConnectionOptions: {
          host: sshd.host,
          port: sshd.port,
          username: sshd.username,
          privateKey: sshd.userKey,
          hostKeyFingerprint: sshd.hostKeyFingerprint,
          remoteShell: 'posix',
        },
      }),
    );
    return {
      ...env,
      capabilities: {
        shellPooling: false,
        faultInjection: false,
        requestCounts: false,
        wideExitCodes: false,
        signals: SIGNALS_DELIVERED,
        // Where signals are delivered, kill('terminate') starts with INT (runners/ssh.ts), which the emulator
        // forwards as ctrl_c; Windows OpenSSH delivers none. So the command sees ctrl_c, never terminate.
        terminateSignal: false,
      },
      sequentialCommands: 10,
      close: async () => {
        await env.close();
        await sshd.close();
      },
    };
  } catch (err) {
    await sshd.close();
    throw err;
  }
}

if (skip) {
  describe('WINRM_NATIVE via ssh', { skip }, () => undefined);
} else {
  const emulator = buildEmulator();
  emulator.catch(() => undefined);
  after(async () => (await emulator).dispose());
  const setup = (unencrypted: boolean) => async () =>
    nativeSshEnvironment((await emulator).path, { unencrypted });

  describeConnectionContract(
    'WINRM_NATIVE via ssh (OpenSSH proxy on 127.0.0.1, winrs emulator, NTLM -unencrypted to the mock)',
    setup(true),
  );
  describeTransferContract(
    'WINRM_NATIVE via ssh (OpenSSH proxy on 127.0.0.1, winrs emulator, NTLM sealed to the mock)',
    setup(false),
  );

  describe('WINRM_NATIVE via ssh: quoting and exit codes through a POSIX shell', () => {
    let env: MockEnvironment;
    let conn: Connection;
    before(async () => {
      env = await setup(true)();
      conn = await env.connect({} as Partial<ConnectionOptions>);
    });
    after(async () => {
      await conn?.close();
      await env?.close();
    });

    it('argv arrays arrive unchanged (SSH posix quoting, then winrs and cmd.exe quoting)', async () => {
      const args = ['a b', '"q"', "it's", '50%', '&|<>^', '', '$HOME', '`id`', '\\'];
      const r = await conn.execute(['mock-argv', ...args]);
      assert.deepEqual(r.stdoutText.split('\r\n').slice(0, -1), args);
    });

    it('an exit code above 255 arrives as its low byte (POSIX exit status), not as success', async () => {
      const r = await conn.execute('exit /b 300');
      assert.equal(r.exitCode, 300 & 0xff);
    });
  });
}
