/** Command hosts run directly: the cmd.exe builtins, scripted rules, and the local /bin/sh host. */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { argvToCmdLine } from '../../src/cmdline.ts';
import { expandVariables, parseCommandLine } from '../../src/mock/hosts/cmd-parse.ts';
import {
  builtinsHost,
  type CommandContext,
  type CommandHost,
  decodeText,
  EXIT_CTRL_C,
  encodeText,
  localHost,
  scriptedHost,
} from '../../src/mock/index.ts';

interface Run {
  stdout: Buffer;
  stderr: Buffer;
  exitCode: number;
}

let root: string;

function context(line: string, opts: { stdin?: string; codepage?: number; signal?: AbortSignal } = {}) {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const cp = opts.codepage ?? 65001;
  const stdin = new PassThrough();
  stdin.end(opts.stdin ?? '');
  const w = (sink: Buffer[]) => ({
    write: async (d: Buffer | string) => void sink.push(typeof d === 'string' ? encodeText(d, cp) : d),
  });
  const ctx: CommandContext = {
    command: line,
    args: [],
    commandLine: line,
    stdin,
    signal: opts.signal ?? new AbortController().signal,
    stdout: w(out),
    stderr: w(err),
    codepage: cp,
    consoleModeStdin: true,
    skipCmdShell: false,
    shell: {
      shellId: 'S',
      user: 'vagrant',
      domain: 'WIN-MOCK',
      machine: 'WIN-MOCK',
      workingDirectory: 'C:\\Users\\vagrant',
      environment: {
        TEMP: 'C:\\Users\\vagrant\\AppData\\Local\\Temp',
        COMPUTERNAME: 'WIN-MOCK',
        Path: 'C:\\Windows',
      },
      fileRoot: root,
    },
    reportMemory: () => {},
  };
  return { ctx, out, err };
}

async function run(host: CommandHost, line: string, opts: Parameters<typeof context>[1] = {}): Promise<Run> {
  const { ctx, out, err } = context(line, opts);
  const exitCode = await host.run(ctx);
  return { stdout: Buffer.concat(out), stderr: Buffer.concat(err), exitCode };
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'mock-hosts-'));
  await mkdir(join(root, 'C', 'Users', 'vagrant', 'AppData', 'Local', 'Temp'), { recursive: true });
  await writeFile(join(root, 'C', 'data.txt'), Buffer.from([0x68, 0x69, 0x0d, 0x0a, 0xff]));
});
after(() => rm(root, { recursive: true, force: true }));

describe('cmd line parsing', () => {
  it('splits &, &&, ||, | and extracts redirections, honouring quotes and ^', () => {
    const p = parseCommandLine('echo a & echo "b & c" && type x.txt 2>&1 >> out.txt || echo ^& done | more');
    assert.deepEqual(
      p.map((x) => [x.op, x.commands.map((c) => [c.name, c.argText])]),
      [
        [undefined, [['echo', 'a ']]],
        ['&', [['echo', '"b & c" ']]],
        ['&&', [['type', 'x.txt   ']]],
        [
          '||',
          [
            ['echo', '& done '],
            ['more', ''],
          ],
        ],
      ],
    );
    assert.deepEqual(p[2]!.commands[0]!.redirections, [
      { fd: 2, append: false, target: '&1' },
      { fd: 1, append: true, target: 'out.txt' },
    ]);
  });

  it('expands %VAR% case-insensitively and leaves unknown ones', () => {
    assert.equal(expandVariables('%temp%\\x %NOPE% %%', { TEMP: 'C:\\T' }), 'C:\\T\\x %NOPE% %%');
  });

  it('expands %VAR:a=b%, %VAR:*a=b% and %VAR:~n,m% as cmd /c does (set /?)', () => {
    const env = { OS: 'Windows_NT', P: 'C:\\Windows\\System32' };
    assert.equal(expandVariables('%OS:W=w%', env), 'windows_NT', 'substitution matches case-insensitively');
    assert.equal(expandVariables('%os:windows=Linux%', env), 'Linux_NT');
    assert.equal(expandVariables('%P:\\=/%', env), 'C:/Windows/System32', 'every occurrence is replaced');
    assert.equal(expandVariables('%OS:_NT=%', env), 'Windows', 'an empty replacement deletes');
    assert.equal(expandVariables('%P:*\\=%', env), 'Windows\\System32', '*str: up to the first match only');
    assert.equal(expandVariables('%OS:*zz=y%', env), 'Windows_NT', '*str not found: the value as is');
    assert.equal(expandVariables('%OS:~0,3%', env), 'Win');
    assert.equal(expandVariables('%OS:~-2%', env), 'NT');
    assert.equal(expandVariables('%OS:~0,-3%', env), 'Windows');
    assert.equal(expandVariables('%OS:~3%', env), 'dows_NT');
    assert.equal(expandVariables('%OS:~20%', env), '');
  });

  it('on a command line an undefined name keeps its first % and the scan goes on from there', () => {
    // The pairing examples of the CMD.EXE parsing analysis: with b=a, `%a %b% c%` gives `%a a c%`;
    // with a variable named "a " (trailing blank) defined as b, it gives `bb% c%`.
    assert.equal(expandVariables('echo %a %b% c%', { b: 'a' }), 'echo %a a c%');
    assert.equal(expandVariables('echo %a %b% c%', { 'a ': 'b' }), 'echo bb% c%');
    assert.equal(expandVariables('%%OS%%', { OS: 'Windows_NT' }), '%Windows_NT%');
    assert.equal(
      expandVariables('%NOPE:a=b% %^OS% %^OS:W=w%', { OS: 'Windows_NT' }),
      '%NOPE:a=b% %^OS% %^OS:W=w%',
    );
    // Carets mean nothing in this phase.
    assert.equal(expandVariables('^%OS^%', { OS: 'Windows_NT' }), '^%OS^%');
    assert.equal(expandVariables('^%OS%', { OS: 'Windows_NT' }), '^Windows_NT');
  });
});

describe('builtins host (cmd.exe emulation)', () => {
  const host = builtinsHost();

  it('echo, echo., echo alone, the blank before & kept', async () => {
    assert.equal((await run(host, 'echo hello world')).stdout.toString(), 'hello world\r\n');
    assert.equal((await run(host, 'echo.')).stdout.toString(), '\r\n');
    assert.equal((await run(host, 'echo')).stdout.toString(), 'ECHO is on.\r\n');
    assert.equal((await run(host, 'echo a & echo b')).stdout.toString(), 'a \r\nb\r\n');
    assert.equal((await run(host, 'echo %COMPUTERNAME%')).stdout.toString(), 'WIN-MOCK\r\n');
  });

  it('hostname, whoami, ver', async () => {
    assert.equal((await run(host, 'hostname')).stdout.toString(), 'WIN-MOCK\r\n');
    assert.equal((await run(host, 'whoami')).stdout.toString(), 'win-mock\\vagrant\r\n');
    assert.equal(
      (await run(host, 'ver')).stdout.toString(),
      '\r\nMicrosoft Windows [Version 10.0.17763.1]\r\n',
    );
  });

  it('exit /b N and exit N end the line with that code', async () => {
    assert.equal((await run(host, 'exit /b 7')).exitCode, 7);
    const r = await run(host, 'echo before & exit 3 & echo after');
    assert.equal(r.exitCode, 3);
    assert.equal(r.stdout.toString(), 'before \r\n');
  });

  it('unknown commands answer like cmd.exe, exit code 1; && and || follow the code', async () => {
    const r = await run(host, 'foo bar');
    assert.equal(
      r.stderr.toString(),
      "'foo' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n",
    );
    assert.equal(r.exitCode, 1);
    assert.equal((await run(host, 'foo 2>nul || echo fallback')).stdout.toString(), 'fallback\r\n');
    assert.equal((await run(host, 'foo 2>nul && echo never')).stdout.toString(), '');
  });

  it('type reads the file area as raw bytes; a missing file is cmd’s error', async () => {
    assert.deepEqual(
      (await run(host, 'type C:\\data.txt')).stdout,
      Buffer.from([0x68, 0x69, 0x0d, 0x0a, 0xff]),
    );
    assert.deepEqual((await run(host, 'type ..\\..\\data.txt')).stdout.length, 5);
    const missing = await run(host, 'type C:\\nope.txt');
    assert.equal(missing.stderr.toString(), 'The system cannot find the file specified.\r\n');
    assert.equal(missing.exitCode, 1);
    // .. never leaves the file area.
    assert.equal((await run(host, 'type C:\\..\\..\\..\\etc\\passwd')).exitCode, 1);
  });

  it('redirection > and >> write the file area (with cmd’s trailing blank), 2>&1 merges', async () => {
    await run(host, 'echo one> %TEMP%\\r.txt & echo two >> %TEMP%\\r.txt');
    const file = join(root, 'C', 'Users', 'vagrant', 'AppData', 'Local', 'Temp', 'r.txt');
    // As in cmd.exe, the blanks before `&` and before `>>` stay in the echoed text.
    assert.equal(await readFile(file, 'utf8'), 'one \r\ntwo \r\n');
    await run(host, 'echo three>%TEMP%\\r.txt');
    assert.equal(await readFile(file, 'utf8'), 'three\r\n');
    const merged = await run(host, 'foo 2>&1');
    assert.match(merged.stdout.toString(), /is not recognized/);
    assert.equal(merged.stderr.length, 0);
    const noDir = await run(host, 'echo x > C:\\no\\such\\dir\\f.txt');
    assert.equal(noDir.stderr.toString(), 'The system cannot find the path specified.\r\n');
  });

  it('cmd /c runs a nested line; quotes around it are stripped', async () => {
    assert.equal((await run(host, 'cmd /c "echo nested & exit /b 4"')).exitCode, 4);
    assert.equal((await run(host, 'cmd.exe /C echo hi')).stdout.toString(), 'hi\r\n');
  });

  it('the line runs as `cmd /c LINE`: rule 2 of cmd /? strips the first quote and the last one', async () => {
    // The Ruby WinRM gem sends every command quoted, e.g. "echo hello".
    assert.equal((await run(host, '"echo hello"')).stdout.toString(), 'hello\r\n');
    assert.equal((await run(host, '"hostname"')).stdout.toString(), 'WIN-MOCK\r\n');
    // Text after the last quote is kept; only one pair goes.
    assert.equal((await run(host, '"echo" hello')).stdout.toString(), 'hello\r\n');
    assert.equal((await run(host, '"echo a" b')).stdout.toString(), 'a b\r\n');
    assert.equal((await run(host, '"echo "x""')).stdout.toString(), '"x"\r\n');
    assert.equal((await run(host, '"echo x')).stdout.toString(), 'x\r\n', 'a lone leading quote goes too');
    assert.equal(
      (await run(host, 'echo "x"')).stdout.toString(),
      '"x"\r\n',
      'no leading quote: nothing stripped',
    );
    assert.equal((await run(host, 'cmd /d /s /c  "echo a & echo b"')).stdout.toString(), 'a \r\nb\r\n');
    assert.equal(
      (await run(host, 'cmd /c "echo "a b""')).stdout.toString(),
      '"a b"\r\n',
      'more than two quotes',
    );
  });

  it('rule 1 of cmd /?: two quotes around an executable file name with a blank are kept', async () => {
    await mkdir(join(root, 'C', 'Tools'), { recursive: true });
    await writeFile(join(root, 'C', 'Tools', 'my tool.exe'), 'MZ');
    const notRecognized = (name: string) =>
      `'${name}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n`;
    // Kept: the whole quoted name is the command (the mock cannot run .exe files, so cmd's answer names it).
    assert.equal(
      (await run(host, '"C:\\Tools\\my tool.exe"')).stderr.toString(),
      notRecognized('C:\\Tools\\my tool.exe'),
    );
    assert.equal(
      (await run(host, '"C:\\Tools\\my tool"')).stderr.toString(),
      notRecognized('C:\\Tools\\my tool'),
      'PATHEXT applies',
    );
    assert.equal(
      (await run(host, 'cmd /c "C:\\Tools\\my tool.exe"')).stderr.toString(),
      notRecognized('C:\\Tools\\my tool.exe'),
    );
    // Any condition unmet: rule 2 strips the quotes, and the name ends at the blank.
    assert.equal(
      (await run(host, '"C:\\Tools\\my tool.exe" "x"')).stderr.toString(),
      notRecognized('C:\\Tools\\my'),
      'four quotes',
    );
    assert.equal(
      (await run(host, '"C:\\Tools\\no such.exe"')).stderr.toString(),
      notRecognized('C:\\Tools\\no'),
      'no such file',
    );
    assert.equal(
      (await run(host, 'cmd /s /c "C:\\Tools\\my tool.exe"')).stderr.toString(),
      notRecognized('C:\\Tools\\my'),
      '/S',
    );
    await writeFile(join(root, 'C', 'Tools', 'a&b c.exe'), 'MZ');
    // A special character between the quotes: stripped, and the & becomes an operator.
    assert.match(
      (await run(host, '"C:\\Tools\\a&b c.exe"')).stderr.toString(),
      /^'C:\\Tools\\a' is not recognized/,
    );
  });

  it('%VAR:a=b% and friends expand on the line; argv quoting survives them (round trip)', async () => {
    assert.equal(
      (await run(host, 'echo %COMPUTERNAME:MOCK=box% %computername:~0,3%')).stdout.toString(),
      'WIN-box WIN\r\n',
    );
    const argv = ['%COMPUTERNAME:MOCK=box%', '%TEMP%', '100%', 'a "b" %OS%', '%%', '&|<>^!', 'C:\\dir\\'];
    const r = await run(host, argvToCmdLine(['mock-argv', ...argv]));
    assert.equal(r.stderr.toString(), '');
    assert.equal(r.stdout.toString(), argv.map((a) => `${a}\r\n`).join(''));
    // echo prints its raw text: an argument ending in % is sent quoted (docs/commands.md, rule 3).
    assert.equal(
      (await run(host, argvToCmdLine(['echo', '%COMPUTERNAME:MOCK=box%', '%OS%x']))).stdout.toString(),
      '"%COMPUTERNAME:MOCK=box%" %OS%x\r\n',
    );
  });

  it('%CD% and %ERRORLEVEL% are dynamic; a nested cmd starts with ERRORLEVEL 0', async () => {
    // Expanded once for the whole line, before `cd` runs.
    assert.equal((await run(host, 'cd C:\\ & echo %CD%')).stdout.toString(), 'C:\\Users\\vagrant\r\n');
    assert.equal((await run(host, 'echo %errorlevel%')).stdout.toString(), '0\r\n');
    // Neither form is expanded by the outer line (which expands before `exit 3` runs); the new cmd.exe process
    // has its own ERRORLEVEL, 0. The blank before & reaches the nested line and echo prints it.
    const nested = await run(host, 'cmd /c exit 3 & cmd /c echo %^ERRORLEVEL% & cmd /c echo ^%ERRORLEVEL^%');
    assert.equal(nested.stdout.toString(), '0 \r\n0\r\n');
  });

  it('set, cd, md, del work on the line and the file area', async () => {
    const r = await run(host, 'set X=42 & cd C:\\ & md made & cd');
    assert.equal(r.stdout.toString(), 'C:\\\r\n');
    assert.equal(
      (await run(host, 'set TE')).stdout.toString(),
      'TEMP=C:\\Users\\vagrant\\AppData\\Local\\Temp\r\n',
    );
    await run(host, 'echo x > C:\\made\\f.txt');
    assert.equal((await run(host, 'type C:\\made\\f.txt')).stdout.toString(), 'x \r\n');
    await run(host, 'del C:\\made\\f.txt');
    assert.equal((await run(host, 'type C:\\made\\f.txt')).exitCode, 1);
  });

  it('codepage 437 vs 65001 for non-ASCII text', async () => {
    assert.deepEqual((await run(host, 'echo ü', { codepage: 437 })).stdout, Buffer.from([0x81, 13, 10]));
    assert.deepEqual((await run(host, 'echo ü', { codepage: 65001 })).stdout, Buffer.from('ü\r\n'));
    assert.equal(decodeText(Buffer.from([0x81, 0xb0, 0xff]), 437), 'ü░\u00a0');
  });

  it('mock-output N writes exactly N pattern bytes; mock-cat copies stdin', async () => {
    const r = await run(host, 'mock-output 100000');
    assert.equal(r.stdout.length, 100000);
    assert.equal(r.stdout.toString('latin1', 0, 40), 'abcdefghijklmnopqrstuvwxyz0123456789abcd');
    assert.equal((await run(host, 'mock-output 10 stderr')).stderr.toString(), 'abcdefghij');
    assert.equal((await run(host, 'mock-cat', { stdin: 'piped' })).stdout.toString(), 'piped');
    assert.equal((await run(host, 'echo through| mock-cat')).stdout.toString(), 'through\r\n');
  });

  it('mock-sleep ends early when the signal aborts', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort('ctrl_c'), 50);
    const t0 = Date.now();
    await assert.rejects(run(host, 'mock-sleep 10000', { signal: ac.signal }));
    assert.ok(Date.now() - t0 < 2000);
  });
});

describe('scripted host', () => {
  it('matches exact text, regex and predicate; first match wins; canned replies', async () => {
    const host = scriptedHost([
      { match: 'deploy', reply: { stdout: 'deployed\r\n', exitCode: 0 } },
      {
        match: /^restart (\w+)$/,
        reply: async (c) => {
          await c.stdout.write(`restarting ${c.match![1]}\r\n`);
          return 5;
        },
      },
      {
        match: (line) => line.startsWith('err'),
        reply: { stderr: Buffer.from('bad\r\n'), exitCode: 2, delayMs: 20 },
      },
      { match: /.*/, reply: { stdout: 'never' } },
    ]);
    assert.equal((await run(host, 'deploy')).stdout.toString(), 'deployed\r\n');
    const r = await run(host, 'restart web');
    assert.equal(r.stdout.toString(), 'restarting web\r\n');
    assert.equal(r.exitCode, 5);
    const e = await run(host, 'error now');
    assert.equal(e.stderr.toString(), 'bad\r\n');
    assert.equal(e.exitCode, 2);
    assert.equal((await run(host, 'deploy ')).stdout.toString(), 'never', 'exact text is exact');
  });

  it('unmatched commands answer as cmd.exe, or go to the fallback host', async () => {
    const bare = scriptedHost({ x: { stdout: 'x' } });
    const r = await run(bare, 'y z');
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr.toString(), /^'y' is not recognized/);
    const withBuiltins = scriptedHost({ x: { stdout: 'x' } }, { fallback: builtinsHost() });
    assert.equal((await run(withBuiltins, 'echo via fallback')).stdout.toString(), 'via fallback\r\n');
  });

  it('handlers read stdin and see the abort signal', async () => {
    const host = scriptedHost({
      cat: async (c) => {
        await c.stdout.write((await c.readStdin()).toString().toUpperCase());
        return 0;
      },
    });
    assert.equal((await run(host, 'cat', { stdin: 'abc' })).stdout.toString(), 'ABC');
  });
});

describe('local host (/bin/sh -c)', { skip: process.platform === 'win32' ? 'POSIX only' : false }, () => {
  const host = localHost();

  it('runs the line through /bin/sh with stdout, stderr, exit code and stdin', async () => {
    const r = await run(host, 'echo out; echo err >&2; exit 3');
    assert.equal(r.stdout.toString(), 'out\n');
    assert.equal(r.stderr.toString(), 'err\n');
    assert.equal(r.exitCode, 3);
    assert.equal((await run(host, 'tr a-z A-Z', { stdin: 'shout' })).stdout.toString(), 'SHOUT');
  });

  it('ctrl_c sends SIGINT to the process group; terminate kills it', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort('ctrl_c'), 100);
    const r = await run(host, 'sleep 10', { signal: ac.signal });
    assert.equal(r.exitCode, EXIT_CTRL_C);
    const kill = new AbortController();
    setTimeout(() => kill.abort('terminate'), 100);
    const t0 = Date.now();
    await run(host, 'sh -c "sleep 10"; sleep 10', { signal: kill.signal });
    assert.ok(Date.now() - t0 < 3000);
  });
});
