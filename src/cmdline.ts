/**
 * Command-line building and quoting for cmd.exe (what WinRS runs commands through) and PowerShell.
 *
 * Rules for an argv array (each element reaches the program as exactly that argument, through cmd /c):
 * 1. Each argument is quoted the way the Microsoft C runtime parses a command line: wrapped in double quotes
 *    when it is empty or contains whitespace or `"`; inside, `"` becomes `\"` and backslashes that precede a
 *    quote (or the closing quote) are doubled.
 * 2. Then every cmd.exe metacharacter, the quotes included, is escaped with `^`, so cmd.exe treats none of
 *    `( ) % ! ^ " < > & | ; , = *?` specially and expands no `%VAR%`. cmd removes the carets before starting the
 *    program. The program name (first element) gets rule 1 only when needed and rule 2 always.
 * A plain string is passed to cmd.exe unchanged: that is how you use redirection, pipes and variables.
 */
import { InvalidArgumentError } from './errors.ts';

const CMD_META = /([()%!^"<>&|;,=*?])/g;

/** Quote one argument for the Microsoft C runtime's command-line parser. */
export function quoteMsvcrt(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
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

/** Escape cmd.exe metacharacters with a caret. */
export function escapeCmdMeta(text: string): string {
  return text.replace(CMD_META, '^$1');
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
  return argv.map((a, i) => escapeCmdMeta(quoteMsvcrt(checkArg(a, i)))).join(' ');
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
    return this.parts
      .map((p) => (p.kind === 'raw' ? p.value : escapeCmdMeta(quoteMsvcrt(p.value))))
      .join(' ');
  }

  /** The command line with secrets masked: safe to log. */
  toString(): string {
    return this.parts
      .map((p) =>
        p.kind === 'raw' ? p.value : p.kind === 'secret' ? '********' : escapeCmdMeta(quoteMsvcrt(p.value)),
      )
      .join(' ');
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
