/**
 * Command-line building and quoting for cmd.exe (what WinRS runs commands through) and PowerShell.
 *
 * Rules for an argv array (each element reaches the program as exactly that argument, through cmd /c):
 * 1. Each argument is quoted the way the Microsoft C runtime parses a command line: wrapped in double quotes
 *    when it is empty or contains whitespace or `"`, or ends in `%` (see 3); inside, `"` becomes `\"` and
 *    backslashes that precede a quote (or the closing quote) are doubled.
 * 2. Then every cmd.exe metacharacter, the quotes included, is escaped with `^`, so cmd.exe treats none of
 *    `( ) ! ^ " < > & | ; , = * ?` specially. cmd removes the carets before starting the program. Because every
 *    quote is escaped, cmd never enters its quoted state, where carets would be literal.
 * 3. `%`: cmd expands `%NAME%`, `%NAME:a=b%` and `%NAME:~n,m%` in its first phase, before the caret pass, so a
 *    caret cannot escape `%` (`^%OS:W=w^%` still expands). Instead a caret is put right after every `%`: the
 *    text cmd could take for a variable name then starts with `^`, names no variable, and cmd leaves it as typed
 *    (on a command line, unlike in a batch file, an undefined variable is not removed); the caret pass then
 *    removes the caret. An argument ending in `%` is quoted, so that even its last `%` is followed by `^"`.
 *    Limit: a variable whose name starts with `^` (possible, e.g. `set "^OS=x"`) would still expand.
 * The program name (first element) follows the same rules unless it contains a blank: then it goes in real quotes
 * and the line in one more pair, see {@link quoteProgramForCmd} and {@link joinLine}.
 * A plain string is passed to cmd.exe unchanged: that is how you use redirection, pipes and variables.
 * Sources: `cmd /?`, `set /?`, and the "How does the Windows Command Interpreter (CMD.EXE) parse scripts"
 * analysis (phase 1 percent expansion in command-line mode, phase 2 caret and quote handling).
 */
import { InvalidArgumentError } from './errors.ts';

const CMD_META = /([()!^"<>&|;,=*?])/g;

function wrapMsvcrt(arg: string): string {
  let out = '"';
  let backslashes = 0;
  for (const ch of arg) {
    if (ch === '\\') {
      backslashes++;
    } else if (ch === '"') {
      out += `${'\\'.repeat(backslashes * 2 + 1)}"`;
      backslashes = 0;
    } else {
      out += '\\'.repeat(backslashes) + ch;
      backslashes = 0;
    }
  }
  return `${out}${'\\'.repeat(backslashes * 2)}"`;
}

/** Quote one argument for the Microsoft C runtime's command-line parser. */
export function quoteMsvcrt(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  return wrapMsvcrt(arg);
}

/**
 * Escape cmd.exe metacharacters with a caret, and put a caret after every `%` that something follows, so that
 * no `%NAME%` pair can form (see the module comment). A `%` at the very end of `text` cannot be broken this way:
 * it is safe only where no `%` follows it on the line (argument quoting avoids the case by quoting arguments
 * that end in `%`).
 */
export function escapeCmdMeta(text: string): string {
  return text.replace(CMD_META, '^$1').replace(/%(?=[^^])/g, '%^');
}

/** One argument as it goes on a cmd.exe line: MSVCRT-quoted (always when it ends in `%`), then escaped. */
function quoteForCmd(arg: string): string {
  return escapeCmdMeta(arg.endsWith('%') ? wrapMsvcrt(arg) : quoteMsvcrt(arg));
}

/**
 * The program name (first element). cmd finds the program by its first token, which ends at a blank outside
 * quotes, and an escaped quote (`^"`) does not group: a name with a blank goes in real quotes instead. Inside
 * them cmd's metacharacters and carets are literal, so nothing is escaped (a file name cannot contain `"`),
 * except `%`, which phase 1 expands inside quotes too: each `%` is followed by `""` (close and reopen), so the
 * text after it starts with a quote and names no variable. Backslashes stay as typed (the C runtime's rule for
 * argv[0] has no escapes). Names without a blank, or with a `"`, follow the argument rules.
 */
function quoteProgramForCmd(name: string): { text: string; quoted: boolean } {
  if (!/[ \t]/.test(name) || name.includes('"')) return { text: quoteForCmd(name), quoted: false };
  return { text: `"${name.replace(/%/g, '%""')}"`, quoted: true };
}

/**
 * Join the parts of a line whose first part may be a quoted program name. `cmd /c` removes a leading quote and
 * the last quote of the line unless exactly two quotes surround an existing executable (`cmd /?`), so a line
 * that starts with a quote is wrapped in one more pair, which that rule then removes whatever the host has.
 */
function joinLine(program: { text: string; quoted: boolean }, rest: string[]): string {
  const line = [program.text, ...rest].join(' ');
  return program.quoted ? `"${line}"` : line;
}

function checkArg(arg: unknown, index: number): string {
  if (typeof arg !== 'string') {
    throw new InvalidArgumentError(`Command argument ${index} is ${typeof arg}, expected a string`, {
      argument: 'command',
    });
  }
  if (/[\r\n\0]/.test(arg)) {
    throw new InvalidArgumentError(
      `Command argument ${index} contains a line break or NUL, which cmd.exe cannot pass to a program`,
      { argument: 'command', remedy: 'send multi-line data over stdin instead' },
    );
  }
  return arg;
}

/** Join an argv array into a cmd.exe command line where each element arrives as one argument. */
export function argvToCmdLine(argv: readonly string[]): string {
  if (argv.length === 0) {
    throw new InvalidArgumentError('The command is an empty array', {
      argument: 'command',
      remedy: 'pass at least the program name, e.g. ["ipconfig", "/all"]',
    });
  }
  const [program, ...args] = argv.map((a, i) => checkArg(a, i));
  return joinLine(quoteProgramForCmd(program!), args.map(quoteForCmd));
}

interface Part {
  value: string;
  kind: 'arg' | 'secret' | 'raw';
}

/**
 * A command line assembled from arguments, secret arguments (masked in logs and errors, like Overthere's
 * CmdLine.addPassword) and raw fragments (passed unquoted, e.g. `>out.txt`).
 */
export class CmdLine {
  private readonly parts: Part[] = [];

  static of(...args: string[]): CmdLine {
    const c = new CmdLine();
    for (const a of args) c.addArgument(a);
    return c;
  }

  addArgument(value: string): this {
    this.parts.push({ value: checkArg(value, this.parts.length), kind: 'arg' });
    return this;
  }

  /** An argument whose value never appears in logs, errors or `toString()`. */
  addPassword(value: string): this {
    this.parts.push({ value: checkArg(value, this.parts.length), kind: 'secret' });
    return this;
  }

  /** A fragment passed to cmd.exe as is (redirections, pipes). */
  addRaw(value: string): this {
    this.parts.push({ value, kind: 'raw' });
    return this;
  }

  /** Values that must be redacted wherever this command line could be logged. */
  secrets(): string[] {
    return this.parts.filter((p) => p.kind === 'secret').map((p) => p.value);
  }

  /** The real command line sent to the host. */
  toCommandLine(): string {
    if (this.parts.length === 0)
      throw new InvalidArgumentError('The CmdLine is empty', { argument: 'command' });
    return this.render(false);
  }

  /** The command line with secrets masked: safe to log. */
  toString(): string {
    return this.render(true);
  }

  /** A first part that is an argument is the program name (quoted by the program rules). */
  private render(maskSecrets: boolean): string {
    const [first, ...rest] = this.parts;
    const text = (p: Part) =>
      p.kind === 'raw' ? p.value : p.kind === 'secret' && maskSecrets ? '********' : quoteForCmd(p.value);
    if (first?.kind !== 'arg') return this.parts.map(text).join(' ');
    return joinLine(quoteProgramForCmd(first.value), rest.map(text));
  }

  /** `console.log` / `util.inspect` show the masked line, never a secret argument. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `CmdLine { ${this.toString()} }`;
  }

  /** `JSON.stringify` gives the masked line. */
  toJSON(): string {
    return this.toString();
  }
}

/** Normalize any accepted command form into the text sent and the secrets to redact. */
export function resolveCommand(input: string | readonly string[] | CmdLine): {
  line: string;
  secrets: string[];
} {
  if (typeof input === 'string') {
    if (input.trim() === '') {
      throw new InvalidArgumentError('The command is empty', {
        argument: 'command',
        remedy: 'pass a command line',
      });
    }
    if (input.includes('\0'))
      throw new InvalidArgumentError('The command contains NUL', { argument: 'command' });
    return { line: input, secrets: [] };
  }
  if (input instanceof CmdLine) return { line: input.toCommandLine(), secrets: input.secrets() };
  if (Array.isArray(input)) return { line: argvToCmdLine(input), secrets: [] };
  throw new InvalidArgumentError('The command must be a string, an array of strings or a CmdLine', {
    argument: 'command',
  });
}

/** UTF-16LE base64, the form `powershell.exe -EncodedCommand` takes. */
export function encodePowerShell(script: string): string {
  return Buffer.from(script, 'utf16le').toString('base64');
}

/**
 * The short bootstrap that reads a script of any length from stdin and runs it, so no script is limited by
 * cmd.exe's 8,191-character command line. Errors are written as CLIXML to stderr by PowerShell itself.
 */
export const POWERSHELL_STDIN_BOOTSTRAP =
  '$ErrorActionPreference="Stop";$ProgressPreference="SilentlyContinue";' +
  '[Console]::InputEncoding=New-Object Text.UTF8Encoding $false;' +
  '$s=[Console]::In.ReadToEnd();& ([scriptblock]::Create($s))';

/** The command line that starts PowerShell with {@link POWERSHELL_STDIN_BOOTSTRAP}. */
export function powerShellStdinCommand(): string {
  return `powershell.exe -NoLogo -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ${encodePowerShell(
    POWERSHELL_STDIN_BOOTSTRAP,
  )}`;
}

/**
 * Turn PowerShell's CLIXML error stream (`#< CLIXML` followed by <Objs>) into plain text: error records and
 * warnings become their message lines, progress records are dropped. Text that is not CLIXML is returned as is.
 */
export function decodeClixml(text: string): string {
  const start = text.indexOf('#< CLIXML');
  if (start < 0) return text;
  const before = text.slice(0, start);
  const xml = text.slice(start + '#< CLIXML'.length);
  const out: string[] = [];
  const re = /<S S="(Error|Warning|Verbose|Debug|Information)">([\s\S]*?)<\/S>/g;
  for (let m = re.exec(xml); m; m = re.exec(xml)) {
    const decoded = m[2]!
      .replace(/_x([0-9A-Fa-f]{4})_/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&apos;/g, "'")
      .replace(/&amp;/g, '&');
    out.push(m[1] === 'Error' ? decoded : `${m[1]!.toUpperCase()}: ${decoded}`);
  }
  return before + out.join('').replace(/\r?\n$/, '') + (out.length > 0 ? '\r\n' : '');
}

/**
 * Quote one argument for a POSIX shell (`sh -c LINE`, what OpenSSH's sshd runs an exec request through on Linux
 * and macOS): wrapped in single quotes, inside which the shell treats every character literally (POSIX.1-2017
 * XCU 2.2.2), and each `'` written as `'\''` (close, an escaped quote, reopen). Line breaks survive; NUL cannot be
 * passed to a program and is refused.
 */
export function quotePosix(arg: string): string {
  if (arg.includes('\0')) {
    throw new InvalidArgumentError('A command argument contains NUL, which no program can receive', {
      argument: 'command',
    });
  }
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Join an argv array into a POSIX shell command line where each element arrives as one argument. */
export function argvToPosixLine(argv: readonly string[]): string {
  if (argv.length === 0) {
    throw new InvalidArgumentError('The command is an empty array', { argument: 'command' });
  }
  return argv.map(quotePosix).join(' ');
}

/**
 * Join an argv array into a PowerShell command line that runs the native program `argv[0]` with the rest as its
 * arguments: `& 'program' 'arg' ...`, each element a single-quoted string (`'` doubled, the only escape there;
 * about_Quoting_Rules). Windows PowerShell 5.1 then builds the program's command line itself, adding double
 * quotes around an argument that holds whitespace but not escaping embedded `"` (fixed only in PowerShell 7.3,
 * `$PSNativeCommandArgumentPassing`), so an element holding `"`, or holding whitespace and ending in `\`, cannot
 * arrive unchanged: both are refused, naming `remoteShell: 'cmd'` as the alternative.
 */
export function argvToPowerShellLine(argv: readonly string[]): string {
  if (argv.length === 0) {
    throw new InvalidArgumentError('The command is an empty array', { argument: 'command' });
  }
  const quoted = argv.map((a, i) => {
    checkArg(a, i);
    if (a.includes('"') || (/\s/.test(a) && a.endsWith('\\'))) {
      throw new InvalidArgumentError(
        `Command argument ${i} holds a double quote (or whitespace and a trailing backslash), which Windows PowerShell 5.1 does not pass to a native program unchanged`,
        { argument: 'command', remedy: "use remoteShell: 'cmd' (the Windows OpenSSH default shell)" },
      );
    }
    // PowerShell also ends a single-quoted string at the typographic quotes U+2018..U+201B; each is doubled.
    return `'${a.replace(/['\u2018\u2019\u201a\u201b]/g, '$&$&')}'`;
  });
  return `& ${quoted.join(' ')}`;
}
