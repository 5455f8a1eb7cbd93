/**
 * winrs.exe's command-line syntax, as the emulator reads it: `winrs [-/SWITCH[:VALUE]] COMMAND`.
 * Documented (Microsoft's winrs page, `winrs /?`): switches start with `-` or `/`; each has a short and a long
 * form (`-r` / `-remote`); `-r:` defaults to localhost; `-u` needs `-p` and `-p` needs `-u`; `-env:NAME=VALUE`
 * repeats; the command is the rest of the line. Inferred (not documented): switch names are case-insensitive
 * like those of other Windows tools, only the two forms are accepted (no other abbreviations), the first
 * element that does not start with `-` or `/` starts the command, and the command words are joined with
 * blanks; a malformed switch is "Invalid use of command line".
 */
import { WINRS_SWITCHES, type WinrsSwitch } from '../argv.ts';

export interface WinrsInvocation {
  /** `-r:` as given; default 'localhost'. */
  remote: string;
  username?: string;
  password?: string;
  directory?: string;
  env: Record<string, string>;
  unencrypted: boolean;
  noEcho: boolean;
  noProfile: boolean;
  allowDelegate: boolean;
  compression: boolean;
  useSsl: boolean;
  codepage?: number;
  /** The remote command line (the command words joined with blanks). */
  command: string;
}

/** A command line winrs.exe refuses: the emulator prints `Winrs error:` and this message. */
export class WinrsUsageError extends Error {}

/** `winrs -?` / `winrs /?` asks for the help text. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.length > 0 && /^[-/]\?$/.test(argv[0]!);
}

function lookup(name: string): (typeof WINRS_SWITCHES)[number] | undefined {
  const n = name.toLowerCase();
  return WINRS_SWITCHES.find((s) => s.short === n || s.long === n);
}

/** Parse winrs.exe's argv (without the program name). */
export function parseWinrsArgs(argv: readonly string[]): WinrsInvocation {
  const inv: WinrsInvocation = {
    remote: 'localhost',
    env: {},
    unencrypted: false,
    noEcho: false,
    noProfile: false,
    allowDelegate: false,
    compression: false,
    useSsl: false,
    command: '',
  };
  const seen = new Set<WinrsSwitch>();
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!/^[-/]/.test(arg)) break;
    const m = /^[-/]([A-Za-z]+)(?::([\s\S]*))?$/.exec(arg);
    const sw = m ? lookup(m[1]!) : undefined;
    if (!m || !sw) throw new WinrsUsageError(`Invalid use of command line. Type "winrs -?" for help.`);
    const value = m[2];
    if (sw.value && (value === undefined || value === '')) {
      throw new WinrsUsageError(`Invalid use of command line. Type "winrs -?" for help.`);
    }
    if (!sw.value && value !== undefined) {
      throw new WinrsUsageError(`Invalid use of command line. Type "winrs -?" for help.`);
    }
    if (seen.has(sw.long) && sw.long !== 'environment') {
      throw new WinrsUsageError(`Invalid use of command line. Type "winrs -?" for help.`);
    }
    seen.add(sw.long);
    switch (sw.long) {
      case 'remote':
        inv.remote = value!;
        break;
      case 'username':
        inv.username = value!;
        break;
      case 'password':
        inv.password = value!;
        break;
      case 'directory':
        inv.directory = value!;
        break;
      case 'environment': {
        const eq = value!.indexOf('=');
        if (eq <= 0) throw new WinrsUsageError(`Invalid use of command line. Type "winrs -?" for help.`);
        inv.env[value!.slice(0, eq)] = value!.slice(eq + 1);
        break;
      }
      case 'codepage': {
        if (!/^\d{1,5}$/.test(value!)) {
          throw new WinrsUsageError(`Invalid use of command line. Type "winrs -?" for help.`);
        }
        inv.codepage = Number(value);
        break;
      }
      case 'timeout':
        break; // deprecated, accepted and ignored
      case 'unencrypted':
        inv.unencrypted = true;
        break;
      case 'noecho':
        inv.noEcho = true;
        break;
      case 'noprofile':
        inv.noProfile = true;
        break;
      case 'allowdelegate':
        inv.allowDelegate = true;
        break;
      case 'compression':
        inv.compression = true;
        break;
      case 'usessl':
        inv.useSsl = true;
        break;
    }
  }
  if (inv.username !== undefined && inv.password === undefined) {
    throw new WinrsUsageError(
      'The emulator does not prompt for a password: -username: needs -password: (winrs.exe would prompt).',
    );
  }
  if (inv.password !== undefined && inv.username === undefined) {
    throw new WinrsUsageError(`Invalid use of command line. Type "winrs -?" for help.`);
  }
  inv.command = argv.slice(i).join(' ');
  if (inv.command.trim() === '') {
    throw new WinrsUsageError(`Invalid use of command line. Type "winrs -?" for help.`);
  }
  return inv;
}

/** `-r:` as a URL: `[transport://]target[:port]`; https from the transport or `-usessl`; default ports 5985/5986. */
export function remoteUrl(remote: string, useSsl: boolean): URL {
  const withScheme = /^[a-z]+:\/\//i.test(remote) ? remote : `${useSsl ? 'https' : 'http'}://${remote}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new WinrsUsageError(`The remote endpoint "${remote}" is not valid.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new WinrsUsageError(`The remote endpoint "${remote}" has an unknown transport.`);
  }
  if (useSsl && url.protocol === 'http:' && /^http:/i.test(remote)) {
    throw new WinrsUsageError(`Invalid use of command line. Type "winrs -?" for help.`);
  }
  if (!url.port) url.port = url.protocol === 'https:' ? '5986' : '5985';
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/wsman';
  return url;
}

export const WINRS_HELP = `Usage: winrs [-/SWITCH[:VALUE]] COMMAND

  COMMAND - Any string that can be executed as a command in the cmd.exe shell.

SWITCHES (emulated; see docs/native.md):
  -r[emote]:ENDPOINT      [TRANSPORT://]TARGET[:PORT], default localhost
  -un[encrypted]          messages in the clear (the service must allow it)
  -u[sername]:USERNAME    USER, DOMAIN\\USER or USER@FULL.DOMAIN (needs -p)
  -p[assword]:PASSWORD    (needs -u)
  -t[imeout]:SECONDS      deprecated, ignored
  -d[irectory]:PATH       starting directory of the remote shell
  -env[ironment]:NAME=VALUE  one variable; repeat for more
  -noe[cho]               no echo
  -nop[rofile]            do not load the user profile
  -a[llow]d[elegate]      accepted; the emulator cannot delegate
  -comp[ression]          accepted; the emulator does not compress
  -[use]ssl               HTTPS
  -cp / -codepage:CP      console code page of the remote shell
`;
