/**
 * WINRM_NATIVE through the jump runner, end to end: connect() -> a WINRM_INTERNAL connection to a jump mock ->
 * `winrs ...` run there -> the target mock (NTLM with message encryption, the contract's commands). The jump
 * mock's builtins do not know winrs, so this fixture (test-only) adds a rule that splits the line as cmd.exe and
 * the C runtime would (the mock's own cmd parser) and runs the bundled winrs emulator in-process on it; a ctrl_c
 * Signal to the jump command reaches the emulator as SIGINT, as Ctrl-C reaches winrs.exe.
 * A few jump-specific tests, then the full connection and transfer contracts.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { type Connection, type ConnectionOptions, connect } from '../../src/index.ts';
import { builtinsHost } from '../../src/mock/hosts/builtins.ts';
import { expandVariables, msvcrtArgs, parseCommandLine } from '../../src/mock/hosts/cmd-parse.ts';
import { type ScriptedRule, scriptedHost } from '../../src/mock/hosts/scripted.ts';
import type { OutputWriter } from '../../src/mock/hosts/types.ts';
import { type MockServer, startMockServer } from '../../src/mock/index.ts';
import { runWinrsEmulator } from '../../src/native/emulator/index.ts';
import { ALL_BYTES, contractRules, type Observations } from './commands.ts';
import { describeConnectionContract } from './connection-contract.ts';
import { CONTRACT_OPERATION_TIMEOUT, type MockEnvironment } from './mock-environment.ts';
import { describeTransferContract } from './transfer-contract.ts';

const JUMP_USER = { name: 'jumper', password: 'Jump&Pass1' };
const USER = { name: 'svc-native', password: 'Native&Jump-1', domain: 'CORP' };
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function writerStream(out: OutputWriter): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.write(chunk).then(() => cb(), cb);
    },
  });
}

/** The jump mock's test-only rule: run `winrs ...` with the bundled emulator, in-process. */
function winrsRule(lines: string[]): ScriptedRule {
  return {
    match: /^winrs(\.exe)? /i,
    reply: async (c) => {
      lines.push(c.commandLine);
      const [pipeline] = parseCommandLine(expandVariables(c.commandLine, c.shell.environment));
      const argv = msvcrtArgs(pipeline!.commands[0]!.argText);
      return runWinrsEmulator(argv, {
        stdin: c.stdin,
        stdout: writerStream(c.stdout),
        stderr: writerStream(c.stderr),
        env: {},
        onSignal: (handler) => {
          // Signal ctrl_c / ctrl_break is a console Ctrl-C / Ctrl-Break event for winrs.exe ([MS-WSMV] 3.1.4.12),
          // which it forwards as a ctrl_c. Signal terminate ends winrs.exe itself (the WinRS host terminates the
          // process): winrs gets no say and sends its target nothing, so the emulator is not told either.
          const on = () => {
            if (c.signal.reason === 'ctrl_c' || c.signal.reason === 'ctrl_break') handler('SIGINT');
          };
          c.signal.addEventListener('abort', on, { once: true });
          return () => c.signal.removeEventListener('abort', on);
        },
      });
    },
  };
}

describe('WINRM_NATIVE via a jump host (WINRM_INTERNAL to a jump mock, winrs emulator there, NTLM to the target mock)', () => {
  let jump: MockServer;
  let target: MockServer;
  let conn: Connection;
  const seen: Observations = { signals: [], stdinSha256: [] };
  const winrsLines: string[] = [];
  const hostPath = (winPath: string) => {
    const m = /^([A-Za-z]):\\?(.*)$/.exec(winPath);
    if (!m) throw new Error(`not an absolute Windows path: ${winPath}`);
    return join(target.fileRoot, m[1]!.toUpperCase(), ...m[2]!.split('\\').filter(Boolean));
  };

  before(async () => {
    target = await startMockServer({
      users: [USER],
      auth: { negotiate: true },
      commandHost: scriptedHost(contractRules(seen), { fallback: builtinsHost({}) }),
    });
    jump = await startMockServer({
      users: [JUMP_USER],
      auth: { basic: true },
      allowUnencrypted: true,
      commandHost: scriptedHost([winrsRule(winrsLines)], { fallback: builtinsHost({}) }),
    });
    const options: ConnectionOptions = {
      connectionType: 'WINRM_NATIVE',
      endpoint: target.url,
      username: `${USER.domain}\\${USER.name}`,
      password: USER.password,
      winrsProxyProtocol: 'jump',
      winrsProxyConnectionOptions: {
        endpoint: jump.url,
        username: JUMP_USER.name,
        password: JUMP_USER.password,
        allowUnencrypted: true,
      },
    };
    conn = await connect(options);
  });
  after(async () => {
    await conn?.close();
    await jump?.close();
    await target?.close();
  });

  it('exit codes (above 255 too), stdout and stderr apart, byte-exact', async () => {
    const first = await conn.execute('exit 0');
    assert.equal(first.exitCode, 0, first.stderrText);
    assert.equal((await conn.execute('exit 300')).exitCode, 300);
    assert.deepEqual((await conn.execute('contract-binary')).stdout, ALL_BYTES);
    const both = await conn.execute(['cmd', '/c', 'echo out& echo err 1>&2']);
    assert.equal(both.stdoutText, 'out\r\n');
    assert.equal(both.stderrText, 'err \r\n');
    assert.ok(winrsLines.length >= 4, 'each command ran as winrs on the jump host');
  });

  it('stdin arrives byte-exact through the jump process and winrs', async () => {
    const data = randomBytes(300_000);
    const r = await conn.execute('contract-cat', { stdin: data });
    assert.equal(r.exitCode, 0);
    assert.equal(sha(r.stdout), sha(data));
  });

  it('argv arrays arrive unchanged (cmd.exe quoting on the jump host, then winrs and cmd.exe on the target)', async () => {
    const args = ['a b', '"q"', "it's", '50%', '&|<>^', ''];
    const r = await conn.execute(['mock-argv', ...args]);
    assert.deepEqual(r.stdoutText.split('\r\n').slice(0, -1), args);
  });

  it('kill() reaches the target command as ctrl_c (jump Signal ctrl_c -> winrs -> target Signal)', async () => {
    const from = seen.signals.length;
    const p = await conn.startProcess('contract-wait-for-signal');
    await new Promise<void>((ok) => p.stdout.once('data', () => ok()));
    p.stdout.resume();
    p.stderr.resume();
    const deadline = Date.now() + 20_000;
    await p.kill('ctrl_c');
    while (!seen.signals.slice(from).includes('ctrl_c') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(
      seen.signals.slice(from).includes('ctrl_c'),
      `signals seen: ${seen.signals.slice(from).join(' ')}`,
    );
    await p.exited.catch(() => undefined);
  });

  it('upload and download through the transfer protocol, hashes equal, no temporary file left', async () => {
    const data = randomBytes(200_000);
    const path = 'C:\\Users\\svc-native\\native-jump.bin';
    assert.equal((await conn.upload(data, path)).sha256, sha(data));
    assert.deepEqual(await readFile(hostPath(path)), data);
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(c);
        cb();
      },
    });
    assert.equal((await conn.download(path, sink)).sha256, sha(data));
    assert.deepEqual(Buffer.concat(chunks), data);
    const all = await readdir(target.fileRoot, { recursive: true });
    assert.deepEqual(
      all.map(String).filter((p) => /\.wrcp-[0-9a-f]{16}\.tmp$/.test(p)),
      [],
    );
  });
});

/** The transfer contract's environment through the jump runner (no shell pooling, no fault injection). */
async function jumpEnvironment(): Promise<MockEnvironment & { sequentialCommands: number }> {
  const seenAll: Observations = { signals: [], stdinSha256: [] };
  const t = await startMockServer({
    users: [USER],
    auth: { negotiate: true },
    commandHost: scriptedHost(contractRules(seenAll), { fallback: builtinsHost({}) }),
  });
  const j = await startMockServer({
    users: [JUMP_USER],
    auth: { basic: true },
    allowUnencrypted: true,
    commandHost: scriptedHost([winrsRule([])], { fallback: builtinsHost({}) }),
  });
  const hostPath = (winPath: string) => {
    const m = /^([A-Za-z]):\\?(.*)$/.exec(winPath);
    if (!m) throw new Error(`not an absolute Windows path: ${winPath}`);
    return join(t.fileRoot, m[1]!.toUpperCase(), ...m[2]!.split('\\').filter(Boolean));
  };
  const base: ConnectionOptions = {
    connectionType: 'WINRM_NATIVE',
    endpoint: t.url,
    username: `${USER.domain}\\${USER.name}`,
    password: USER.password,
    winrsProxyProtocol: 'jump',
    winrsProxyConnectionOptions: {
      endpoint: j.url,
      username: JUMP_USER.name,
      password: JUMP_USER.password,
      allowUnencrypted: true,
    },
  };
  return {
    seen: seenAll,
    // terminateSignal: false: the jump runner can only give winrs.exe a Ctrl-C (which it forwards as ctrl_c) or
    // end it (Signal terminate, which reaches no target): kill('terminate') stops the command with the ctrl_c.
    capabilities: {
      shellPooling: false,
      faultInjection: false,
      requestCounts: false,
      terminateSignal: false,
    },
    // One winrs per command, through two mocks in this process: 10 sequential commands, as native-local.
    sequentialCommands: 10,
    operationTimeout: CONTRACT_OPERATION_TIMEOUT,
    connect: (extra: Partial<ConnectionOptions> = {}) => connect({ ...base, ...extra } as ConnectionOptions),
    readRemote: (winPath) => readFile(hostPath(winPath)),
    remoteTempFiles: async () => {
      const all = await readdir(t.fileRoot, { recursive: true }).catch(() => [] as string[]);
      return all.map(String).filter((p) => /(^|[\\/])\.wrcp-[0-9a-f]{16}\.tmp$/.test(p));
    },
    close: async () => {
      await j.close();
      await t.close();
    },
  };
}

describeConnectionContract('WINRM_NATIVE via a jump host (emulator on the jump mock)', jumpEnvironment);
describeTransferContract('WINRM_NATIVE via a jump host (emulator on the jump mock)', jumpEnvironment);
