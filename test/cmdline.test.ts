import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  argvToCmdLine,
  CmdLine,
  decodeClixml,
  encodePowerShell,
  powerShellStdinCommand,
  quoteMsvcrt,
  resolveCommand,
} from '../src/cmdline.ts';
import { InvalidArgumentError } from '../src/errors.ts';

/** Reference parser: how the Microsoft C runtime splits a command line (after cmd.exe removed the carets). */
function msvcrtSplit(line: string): string[] {
  const args: string[] = [];
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    if (i >= line.length) break;
    let arg = '';
    let inQuotes = false;
    for (; i < line.length; i++) {
      const c = line[i]!;
      if (c === '\\') {
        let n = 0;
        while (line[i] === '\\') {
          n++;
          i++;
        }
        if (line[i] === '"') {
          arg += '\\'.repeat(Math.floor(n / 2));
          if (n % 2 === 1) arg += '"';
          else inQuotes = !inQuotes;
        } else {
          arg += '\\'.repeat(n);
          i--;
        }
      } else if (c === '"') inQuotes = !inQuotes;
      else if ((c === ' ' || c === '\t') && !inQuotes) break;
      else arg += c;
    }
    args.push(arg);
  }
  return args;
}

/**
 * Reference model of cmd.exe's phase 1 on a `cmd /c` command line (not a batch file), written from `set /?` and
 * the "How does the Windows Command Interpreter (CMD.EXE) parse scripts" analysis: `%NAME%` and
 * `%NAME:s=r%`, `%NAME:*s=r%`, `%NAME:~n,m%` expand when NAME is defined (case-insensitive); otherwise the
 * first `%` is kept and the scan goes on from the next character. Carets mean nothing in this phase.
 */
function phase1(line: string, env: Record<string, string>): string {
  const get = (n: string) => Object.entries(env).find(([k]) => k.toLowerCase() === n.toLowerCase())?.[1];
  let out = '';
  for (let i = 0; i < line.length; ) {
    const close = line[i] === '%' ? line.indexOf('%', i + 1) : -1;
    if (close < 0) {
      out += line[i++];
      continue;
    }
    const body = line.slice(i + 1, close);
    const [name, mod] = body.includes(':')
      ? [body.slice(0, body.indexOf(':')), body.slice(body.indexOf(':') + 1)]
      : [body, undefined];
    const v = get(name);
    let r: string | undefined;
    if (v !== undefined && mod === undefined) r = v;
    else if (v !== undefined && mod?.includes('=')) {
      const [s, rep] = [mod.slice(0, mod.indexOf('=')), mod.slice(mod.indexOf('=') + 1)];
      const re = new RegExp(
        s.startsWith('*') ? `^[\\s\\S]*?${esc(s.slice(1))}` : esc(s),
        s.startsWith('*') ? 'i' : 'gi',
      );
      if (s.replace(/^\*/, '') !== '') r = v.replace(re, () => rep);
    } else if (v !== undefined && mod !== undefined && /^~-?\d+(,-?\d+)?$/.test(mod)) {
      const [n, m] = mod.slice(1).split(',').map(Number) as [number, number | undefined];
      const start = n < 0 ? Math.max(0, v.length + n) : Math.min(n, v.length);
      const end = m === undefined ? v.length : m < 0 ? v.length + m : start + m;
      r = v.slice(start, Math.max(start, end));
    }
    if (r === undefined) out += line[i++];
    else {
      out += r;
      i = close + 1;
    }
  }
  return out;
}
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * What a program gets from `cmd /c LINE`: the /c quote rule (`cmd /?` rule 2: a leading quote and the last
 * quote go; rule 1 needs exactly two quotes and none of &<>()@^| between them, which no quoted argv line has),
 * phase 1, the caret pass (carets are literal inside quotes; an escaped quote does not open them), then the C
 * runtime's split, whose program name (argv[0]) rule differs: quotes toggle, backslashes are literal.
 */
function throughCmd(line: string, env: Record<string, string>): string[] {
  const stripped = line.startsWith('"')
    ? line.slice(1, line.lastIndexOf('"')) + line.slice(line.lastIndexOf('"') + 1)
    : line;
  const expanded = phase1(stripped, env);
  // The caret pass; cmd's command token (what it searches for) ends at the first blank that is neither
  // escaped nor inside unescaped quotes.
  let text = '';
  let quoted = false;
  let tokenEnd = -1;
  for (let i = 0; i < expanded.length; i++) {
    const c = expanded[i]!;
    if (c === '^' && !quoted && i + 1 < expanded.length) text += expanded[++i];
    else {
      if (c === '"') quoted = !quoted;
      if (tokenEnd < 0 && !quoted && (c === ' ' || c === '\t')) tokenEnd = text.length;
      text += c;
    }
  }
  if (tokenEnd < 0) tokenEnd = text.length;
  // cmd removes the quotes of the command token to find the file; the C runtime's argv[0] rule does the same.
  return [text.slice(0, tokenEnd).replace(/"/g, ''), ...msvcrtSplit(text.slice(tokenEnd))];
}

/** Variables a Windows host defines, plus names with a blank, to catch every way a `%` could pair. */
const HOST_ENV: Record<string, string> = {
  OS: 'Windows_NT',
  PATH: 'C:\\Windows',
  COMPUTERNAME: 'WIN',
  A: 'x',
  ' OS': 'blank-name',
  'b ': 'trailing-blank',
};

describe('cmd.exe quoting', () => {
  const cases: string[][] = [
    ['echo', 'hello'],
    ['echo', 'a b'],
    ['echo', ''],
    ['echo', 'a"b'],
    ['echo', 'C:\\Program Files\\'],
    ['echo', 'trailing\\'],
    ['echo', '\\\\server\\share\\"quoted"'],
    [
      'echo',
      'a & b',
      'c | d',
      '<in>',
      '(x)',
      '%PATH%',
      '!delayed!',
      '^caret',
      'semi;colon',
      'eq=ual',
      'com,ma',
    ],
    ['C:\\Program Files\\tool.exe', '--flag=1', 'tab\there'],
  ];
  for (const argv of cases) {
    it(`round-trips ${JSON.stringify(argv)}`, () => {
      const line = argvToCmdLine(argv);
      // After cmd.exe's /c rule, phase 1 and caret pass, the program sees exactly the original arguments.
      assert.deepEqual(throughCmd(line, HOST_ENV), argv);
      // In the arguments no metacharacter is left unescaped for cmd.exe; every % is followed by a caret.
      const args = argvToCmdLine(['prog', ...argv.slice(1)]);
      assert.doesNotMatch(args.replace(/\^./g, '').replace(/%/g, ''), /[&|<>()!^"]/);
      assert.doesNotMatch(args, /%(?!\^)/);
    });
  }
  const percentCases: string[][] = [
    ['prog', '%OS:W=w%'],
    ['prog', '%OS%', '%path%', '%OS:~0,3%', '%OS:*_=x%', '%OS:Windows=Linux%'],
    ['prog', '100%', 'OS%', '%A'],
    ['prog', '%%OS%%', '%', '%%', 'a % b', 'x%OS%y'],
    ['prog', 'b%', ' OS%'],
    ['prog', '"%OS%"', '%"OS"%', '%^OS%', '% OS%'],
    ['%OS%', '%COMPUTERNAME%'],
  ];
  for (const argv of percentCases) {
    it(`neutralises % through cmd's phase 1: ${JSON.stringify(argv)}`, () => {
      const line = argvToCmdLine(argv);
      // Phase 1 (variables) runs before the caret pass, so a caret cannot escape % itself.
      assert.deepEqual(throughCmd(line, HOST_ENV), argv);
    });
  }
  // A program path with a blank: cmd finds the command by its first token, and an escaped quote (^") does not
  // group, so the name must be in real quotes; the /c rule then needs the line wrapped in one more pair.
  const programCases: string[][] = [
    ['C:\\Program Files\\tool.exe'],
    ['C:\\Program Files\\tool.exe', 'a b', '"q"', '%OS%'],
    ['C:\\My (x86) & Co!\\t;o,o=l.exe', '&'],
    ['C:\\a b\\%OS%\\x%.exe', '%'],
  ];
  for (const argv of programCases) {
    it(`sends a program name with a blank so cmd and the C runtime see it whole: ${JSON.stringify(argv)}`, () => {
      const line = argvToCmdLine(argv);
      assert.deepEqual(throughCmd(line, HOST_ENV), argv);
    });
  }
  it('leaves simple arguments bare', () => assert.equal(quoteMsvcrt('simple'), 'simple'));
  it('refuses empty arrays, line breaks and NUL', () => {
    assert.throws(() => argvToCmdLine([]), InvalidArgumentError);
    assert.throws(() => argvToCmdLine(['echo', 'a\nb']), /line break/);
    assert.throws(() => resolveCommand('   '), InvalidArgumentError);
    assert.throws(() => resolveCommand('a\0b'), InvalidArgumentError);
  });
});

describe('CmdLine', () => {
  it('masks secrets in toString but sends them', () => {
    const c = CmdLine.of('net', 'use', 'Z:', '\\\\srv\\share').addPassword('S3cr&t!').addRaw('>nul');
    assert.match(c.toCommandLine(), /S3cr\^&t\^!/);
    assert.doesNotMatch(c.toString(), /S3cr/);
    assert.match(c.toString(), /\*{8} >nul$/);
    assert.deepEqual(resolveCommand(c).secrets, ['S3cr&t!']);
  });
  it('quotes a program name with a blank by the program rule, secrets still masked', () => {
    const c = CmdLine.of('C:\\Program Files\\x.exe', 'a b').addPassword('p %OS% w').addRaw('>nul');
    assert.deepEqual(throughCmd(c.toCommandLine().replace(/ >nul"$/, '"'), HOST_ENV), [
      'C:\\Program Files\\x.exe',
      'a b',
      'p %OS% w',
    ]);
    assert.equal(c.toString(), '""C:\\Program Files\\x.exe" ^"a b^" ******** >nul"');
  });
});

describe('PowerShell', () => {
  it('encodes UTF-16LE base64 and keeps the bootstrap short', () => {
    assert.equal(Buffer.from(encodePowerShell('é'), 'base64').toString('utf16le'), 'é');
    assert.ok(powerShellStdinCommand().length < 1000);
  });
  it('decodes CLIXML errors into plain text', () => {
    const clixml =
      '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">' +
      '<Obj S="progress" RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T></TN></Obj>' +
      '<S S="Error">Get-Item : Cannot find path &apos;C:\\nope&apos;_x000D__x000A_</S>' +
      '<S S="Error">    + CategoryInfo : ObjectNotFound_x000D__x000A_</S></Objs>';
    const text = decodeClixml(clixml);
    assert.equal(text, "Get-Item : Cannot find path 'C:\\nope'\r\n    + CategoryInfo : ObjectNotFound\r\n");
    assert.equal(decodeClixml('plain error'), 'plain error');
  });
});
