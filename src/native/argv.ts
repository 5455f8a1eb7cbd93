/**
 * The winrs.exe argument vector: one policy for how a command reaches the far side through winrs.
 *
 * Layers, outermost first:
 * 1. The runner carries each element of the vector to winrs.exe as exactly that argv element (a direct spawn
 *    needs nothing; Node on Windows and the jump runner quote for the Microsoft C runtime, whose splitting
 *    (CommandLineToArgvW rules) gives the element back; the SSH runner quotes for the proxy's shell).
 * 2. winrs.exe reads its switches (`-name` or `-name:value`, see {@link WINRS_SWITCHES}) up to the first
 *    element that is not one, and joins that element and the rest, separated by blanks, into the remote command
 *    line. The command goes as ONE element, so the join gives it back unchanged.
 * 3. The WinRS service runs that line with `cmd /c` on the far side: the line comes from src/cmdline.ts
 *    (argv arrays, CmdLine, or plain cmd.exe text), the one cmd.exe quoting policy of the library.
 * Passwords holding `'` or `"` are refused (winrs.exe cannot pass them: XL Deploy's "Password limitations");
 * every other character reaches winrs.exe unchanged as part of its `-password:` element.
 */
import { type Account, checkWinrsPassword, forWinrs } from '../account.ts';
import type { Secret } from '../debug.ts';
import { InvalidArgumentError } from '../errors.ts';

/**
 * winrs.exe's switches as `winrs /?` lists them: the short form, the long form, whether a value follows a colon.
 * `-codepage:` (short `-cp:`) is not on Microsoft's winrs page; it is the form this library writes for the
 * console code page (WINRS_CODEPAGE), see docs/native.md.
 */
export const WINRS_SWITCHES = [
  { short: 'r', long: 'remote', value: true },
  { short: 'un', long: 'unencrypted', value: false },
  { short: 'u', long: 'username', value: true },
  { short: 'p', long: 'password', value: true },
  { short: 't', long: 'timeout', value: true },
  { short: 'd', long: 'directory', value: true },
  { short: 'env', long: 'environment', value: true },
  { short: 'noe', long: 'noecho', value: false },
  { short: 'nop', long: 'noprofile', value: false },
  { short: 'ad', long: 'allowdelegate', value: false },
  { short: 'comp', long: 'compression', value: false },
  { short: 'ssl', long: 'usessl', value: false },
  { short: 'cp', long: 'codepage', value: true },
] as const;

export type WinrsSwitch = (typeof WINRS_SWITCHES)[number]['long'];

/** Everything one winrs invocation needs besides the command. */
export interface WinrsArgvSettings {
  /** Host name or address (IPv6 without brackets). */
  host: string;
  port: number;
  /** `-remote:https://host:port` and `-usessl`. */
  https: boolean;
  /** The account; absent: single sign-on as the user running winrs (no `-username:`/`-password:`). */
  account?: Account;
  /** Its password; required with `account`. */
  password?: Secret;
  /** `-directory:`. */
  cwd?: string;
  /** `-env:NAME=value`, one per variable, in key order. */
  env?: Readonly<Record<string, string>>;
  noEcho: boolean;
  noProfile: boolean;
  allowDelegate: boolean;
  compression: boolean;
  unencrypted: boolean;
  /** `-codepage:`; absent: winrs uses the console's. */
  codepage?: number;
}

function refuse(argument: string, message: string, remedy?: string): never {
  throw new InvalidArgumentError(message, { argument, ...(remedy ? { remedy } : {}) });
}

/** No argv element can hold NUL, and winrs reads one line: CR/LF would end it. */
function checkText(argument: string, what: string, value: string): string {
  if (typeof value !== 'string') refuse(argument, `${what} must be a string, got ${typeof value}`);
  if (/[\0\r\n]/.test(value)) {
    refuse(argument, `${what} contains a line break or NUL, which winrs.exe cannot pass`);
  }
  return value;
}

/** `host:port`, IPv6 in brackets; with https the URL form. */
export function winrsRemote(host: string, port: number, https: boolean): string {
  const name = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return https ? `https://${name}:${port}` : `${name}:${port}`;
}

/**
 * The remote command as its argv element. A line that starts with `-` or `/` would be read by winrs.exe as
 * one more switch, so it is refused; blanks before it are dropped (cmd.exe skips them anyway).
 */
function commandElement(line: string): string {
  const text = checkText('command', 'The command', line).replace(/^[ \t]+/, '');
  if (text === '') refuse('command', 'The command is empty', 'pass a command line');
  if (text.startsWith('-') || text.startsWith('/')) {
    refuse(
      'command',
      `The command starts with "${text[0]}", which winrs.exe would read as one of its own switches`,
      'run it through cmd, e.g. ["cmd", "/c", ...]',
    );
  }
  return text;
}

/**
 * The winrs.exe arguments for `line` (a cmd.exe command line from src/cmdline.ts). Switch order: remote,
 * account, directory, environment, flags, code page, then the command.
 * @throws InvalidArgumentError for a password with a quotation mark (before anything runs), an environment
 * name with `=`, text with a line break, or a command winrs would take for a switch.
 */
export function buildWinrsArgv(s: WinrsArgvSettings, line: string): string[] {
  const args = [`-remote:${winrsRemote(s.host, s.port, s.https)}`];
  if (s.account) {
    if (!s.password) refuse('password', 'winrs.exe needs a password with -username:');
    const password = s.password.reveal();
    checkWinrsPassword(password);
    checkText('password', 'The password', password);
    args.push(`-username:${forWinrs(s.account)}`, `-password:${password}`);
  }
  if (s.cwd !== undefined) {
    if (checkText('cwd', 'The working directory', s.cwd) === '') refuse('cwd', 'cwd is empty');
    args.push(`-directory:${s.cwd}`);
  }
  for (const [name, value] of Object.entries(s.env ?? {})) {
    if (name === '' || name.includes('=')) {
      refuse('env', `Environment variable name ${JSON.stringify(name)} is empty or contains "="`);
    }
    checkText('env', `Environment variable ${name}`, name);
    checkText('env', `The value of environment variable ${name}`, value);
    args.push(`-env:${name}=${value}`);
  }
  if (s.noEcho) args.push('-noecho');
  if (s.noProfile) args.push('-noprofile');
  if (s.allowDelegate) args.push('-allowdelegate');
  if (s.compression) args.push('-compression');
  if (s.unencrypted) args.push('-unencrypted');
  if (s.https) args.push('-usessl');
  if (s.codepage !== undefined) args.push(`-codepage:${s.codepage}`);
  args.push(commandElement(line));
  return args;
}

/** The same arguments with the password element masked: what logs and errors may show. */
export function maskWinrsArgv(args: readonly string[]): string[] {
  return args.map((a) => (/^[-/]p(assword)?:/i.test(a) ? `${a.slice(0, a.indexOf(':') + 1)}********` : a));
}
