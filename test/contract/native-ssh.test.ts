/**
 * The connection and transfer contracts for WINRM_NATIVE through the ssh runner: connect() -> SSH to Debian's
 * OpenSSH on 127.0.0.1 (test/helpers/sshd.ts, remoteShell 'posix') -> a `winrs` shim on the session PATH that
 * runs the bundled winrs emulator -> NTLM with message encryption to the mock.
 */

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { builtinsHost } from '../../src/mock/hosts/builtins.ts';
import { scriptedHost } from '../../src/mock/hosts/scripted.ts';
import { startMockServer } from '../../src/mock/index.ts';
import { ALL_BYTES, contractRules, type Observations } from './commands.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

import type { Connection, ConnectionOptions } from '../../src/index.ts';
import { type Sshd, sshdSkip, startSshd } from '../helpers/sshd.ts';
import { CONTRACT_OPERATION_TIMEOUT, type MockEnvironment } from './mock-environment.ts';

const USER = { name: 'svc-native', password: 'Native&Ssh-1', domain: 'CORP' };
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
const EMULATOR = fileURLToPath(new URL('../../src/native/emulator/bin.ts', import.meta.url));

/**
 * The mock with the contract's commands, as mock-environment.ts sets it up (its connect() is WinRM-internal only),
 * NTLM on, AllowUnencrypted at Windows' default (false): the emulator seals every message.
 */
async function nativeMockEnvironment(): Promise<Omit<MockEnvironment, 'connect'> & { url: string }> {
  const seen: Observations = { signals: [], stdinSha256: [] };
  const mock = await startMockServer({
    users: [USER],
    auth: { negotiate: true },
    commandHost: scriptedHost(contractRules(seen), { fallback: builtinsHost({}) }),
  });
  const hostPath = (winPath: string) => {
    const m = /^([A-Za-z]):\\?(.*)$/.exec(winPath);
    if (!m) throw new Error(`not an absolute Windows path: ${winPath}`);
    return join(mock.fileRoot, m[1]!.toUpperCase(), ...m[2]!.split('\\').filter(Boolean));
  };
  return {
    url: mock.url,
    seen,
    capabilities: { shellPooling: false, faultInjection: false, requestCounts: false },
    operationTimeout: CONTRACT_OPERATION_TIMEOUT,
    readRemote: (winPath) => readFile(hostPath(winPath)),
    remoteTempFiles: async () => {
      const all = await readdir(mock.fileRoot, { recursive: true }).catch(() => [] as string[]);
      return all.map(String).filter((p) => /(^|[\\/])\.wrcp-[0-9a-f]{16}\.tmp$/.test(p));
    },
    close: () => mock.close(),
  };
}

/** A mock environment whose connections are WINRM_NATIVE over SSH; the sshd lives as long as the environment. */
export async function nativeSshEnvironment(): Promise<MockEnvironment> {
  const sshd: Sshd = await startSshd({ shims: { winrs: `#!/bin/sh\nexec ${TSX} ${EMULATOR} "$@"\n` } });
  try {
    const env = await nativeMockEnvironment();
    const base: ConnectionOptions = {
      connectionType: 'WINRM_NATIVE',
      endpoint: env.url,
      username: `${USER.domain}\\${USER.name}`,
      password: USER.password,
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
    };
    const { connect } = await import('../../src/index.ts');
    return {
      ...env,
      capabilities: { shellPooling: false, faultInjection: false, requestCounts: false },
      connect: (extra: Partial<ConnectionOptions> = {}) =>
        connect({ ...base, ...extra } as ConnectionOptions),
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

const skip = sshdSkip();

/**
 * A subset of the connection and transfer contracts (the full suites take minutes here: every winrs is a fresh
 * Node + tsx emulator process, about a second each). Left out, with the reason: exit codes above 255 (a Linux
 * proxy's process status holds 8 bits, winrs.exe on Windows OpenSSH passes the 32-bit code) and ctrl_c delivery
 * (the test sshd runs as root, and OpenSSH refuses signal requests without privilege separation).
 */
describe('WINRM_NATIVE via ssh (OpenSSH proxy on 127.0.0.1, winrs emulator, NTLM to the mock)', {
  skip,
}, () => {
  let env: MockEnvironment;
  let conn: Connection;
  before(async () => {
    env = await nativeSshEnvironment();
    conn = await env.connect();
  });
  after(async () => {
    await conn?.close();
    await env?.close();
  });

  it('exit codes, stdout and stderr apart, byte-exact', async () => {
    const ok = await conn.execute('exit 0');
    assert.equal(ok.exitCode, 0);
    const seven = await conn.execute('exit 7');
    assert.equal(seven.exitCode, 7);
    const bin = await conn.execute('contract-binary');
    assert.deepEqual(bin.stdout, ALL_BYTES);
    const both = await conn.execute(['cmd', '/c', 'echo out& echo err 1>&2']);
    assert.equal(both.stdoutText, 'out\r\n');
    assert.equal(both.stderrText, 'err \r\n');
  });

  it('stdin arrives byte-exact through SSH and winrs', async () => {
    const data = randomBytes(300_000);
    const r = await conn.execute('contract-cat', { stdin: data });
    assert.equal(r.exitCode, 0);
    assert.equal(sha(r.stdout), sha(data));
  });

  it('argv arrays arrive unchanged (SSH posix quoting, then winrs and cmd.exe quoting)', async () => {
    const args = ['a b', '"q"', "it's", '50%', '&|<>^', ''];
    const r = await conn.execute(['mock-argv', ...args]);
    assert.deepEqual(r.stdoutText.split('\r\n').slice(0, -1), args);
  });

  it('upload and download through the transfer protocol, hashes equal', async () => {
    const data = randomBytes(200_000);
    const up = await conn.upload(data, 'C:\\Users\\svc-native\\native-ssh.bin');
    assert.equal(up.sha256, sha(data));
    assert.deepEqual(await env.readRemote('C:\\Users\\svc-native\\native-ssh.bin'), data);
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(c);
        cb();
      },
    });
    const down = await conn.download('C:\\Users\\svc-native\\native-ssh.bin', sink);
    assert.equal(down.sha256, sha(data));
    assert.deepEqual(Buffer.concat(chunks), data);
    assert.deepEqual(await env.remoteTempFiles(), []);
  });

  it('stats() counts running processes; close() leaves none', async () => {
    const p = await conn.startProcess('contract-cat');
    assert.equal(conn.stats().processesRunning, 1);
    p.stdin.end('x');
    p.stdout.resume();
    p.stderr.resume();
    assert.equal(await p.exited, 0);
    assert.equal(conn.stats().processesRunning, 0);
  });
});
