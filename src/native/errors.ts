/**
 * winrs.exe's own failures, one table: a `Winrs error:` line on its stderr (winrs writes its messages so,
 * followed by the WinRM client's text) becomes the typed error of the library with the remedy. The texts are
 * the WinRM client's messages (as `winrs` and `winrm` print them on Windows); the remedies are the
 * `winrm set ...` lines of XL Deploy's "Set up WinRM" page where it has one.
 * The emulator (./emulator/) writes the same lines, so the table is the same for both.
 */
import {
  AuthenticationError,
  ConnectionError,
  InvalidArgumentError,
  WinRmError,
  type WinRmErrorOptions,
} from '../errors.ts';

/** How winrs.exe prefixes its own messages on stderr. */
export const WINRS_ERROR_PREFIX = 'Winrs error:';

export type WinrsFailureKind =
  | 'usage'
  | 'unreachable'
  | 'access-denied'
  | 'auth-scheme'
  | 'trusted-hosts'
  | 'unencrypted-client'
  | 'unencrypted-service'
  | 'certificate'
  | 'other';

interface Rule {
  kind: WinrsFailureKind;
  /** Matched against the message after `Winrs error:`. */
  pattern: RegExp;
  remedy: string;
  make: (message: string, options: WinRmErrorOptions) => WinRmError;
}

const connection = (m: string, o: WinRmErrorOptions) => new ConnectionError(m, o);
const auth = (m: string, o: WinRmErrorOptions) => new AuthenticationError(m, o);

/** First match wins. */
export const WINRS_FAILURES: readonly Rule[] = [
  {
    kind: 'usage',
    pattern: /Invalid use of command line|is not a valid option|invalid option|Invalid parameter/i,
    remedy: 'a bug in the winrs command line this library built: report it, with `winrs -?` of the proxy',
    make: (m, o) => new InvalidArgumentError(m, { ...o, argument: 'command' }),
  },
  {
    kind: 'trusted-hosts',
    pattern: /TrustedHosts/i,
    remedy:
      'use HTTPS (https: true), a domain account with Kerberos, or add the target to the client\'s TrustedHosts where winrs runs: winrm set winrm/config/client @{TrustedHosts="HOST"}',
    make: auth,
  },
  {
    kind: 'unencrypted-client',
    pattern: /Unencrypted traffic is currently disabled in the client configuration/i,
    remedy:
      'drop winrsUnencrypted, or allow it in the client configuration where winrs runs: winrm set winrm/config/client @{AllowUnencrypted="true"}',
    make: connection,
  },
  {
    kind: 'auth-scheme',
    pattern:
      /authentication mechanism requested by the client is not supported by the server|unencrypted traffic is disabled in the service configuration/i,
    remedy:
      'enable the scheme on the target (winrm set winrm/config/service/Auth @{Basic="true"} for local accounts) or, with winrsUnencrypted, winrm set winrm/config/service @{AllowUnencrypted="true"}',
    make: auth,
  },
  {
    kind: 'access-denied',
    pattern: /Access is denied|logon failure|user name or password is incorrect/i,
    remedy:
      'check username (USER, DOMAIN\\USER or USER@FULL.DOMAIN) and password; the account must be an administrator of the target or a member of its Remote Management Users group',
    make: auth,
  },
  {
    kind: 'certificate',
    pattern: /certificate|\bCA\b|SSL/i,
    remedy:
      'the machine running winrs must trust the certificate of the HTTPS listener (import its CA), and the certificate must name the host',
    make: connection,
  },
  {
    kind: 'unreachable',
    pattern:
      /cannot complete the operation|cannot connect|could not connect|not reachable|computer name is valid|firewall/i,
    remedy:
      'check host and port, that the WinRM service runs on the target (winrm quickconfig) and that its firewall lets the port through',
    make: connection,
  },
];

const OTHER: Rule = {
  kind: 'other',
  pattern: /.*/,
  remedy: 'see the message; `winrm get winrm/config` on the target shows its WinRM settings',
  make: (m, o) => new WinRmError(m, o),
};

/** The `Winrs error:` messages in winrs's stderr text (a message may continue on the following lines). */
export function winrsErrorMessages(stderr: string): string[] {
  const out: string[] = [];
  const lines = stderr.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const at = lines[i]!.indexOf(WINRS_ERROR_PREFIX);
    if (at !== 0) continue;
    let text = lines[i]!.slice(WINRS_ERROR_PREFIX.length).trim();
    // Continuation lines until a blank line or the next message.
    while (
      i + 1 < lines.length &&
      lines[i + 1]!.trim() !== '' &&
      !lines[i + 1]!.startsWith(WINRS_ERROR_PREFIX)
    ) {
      text += ` ${lines[++i]!.trim()}`;
    }
    out.push(text);
  }
  return out;
}

/** The rule for one message. */
export function classifyWinrsMessage(message: string): Rule {
  return WINRS_FAILURES.find((r) => r.pattern.test(message)) ?? OTHER;
}

/**
 * winrs.exe failed itself (not the remote command): the first `Winrs error:` message of its stderr as the typed
 * error, or undefined when there is none. `exitCode` is the winrs process's exit code, for the message.
 */
export function winrsFailure(stderr: string, exitCode: number | null): WinRmError | undefined {
  const [first] = winrsErrorMessages(stderr);
  if (first === undefined) return undefined;
  const rule = classifyWinrsMessage(first);
  const code = exitCode === null ? '' : ` (exit code ${exitCode})`;
  const err = rule.make(`winrs failed${code}: ${first}`, { remedy: rule.remedy });
  Object.defineProperty(err, 'winrsKind', { value: rule.kind, enumerable: true });
  return err;
}

/** The kind a {@link winrsFailure} error was classified as. */
export function winrsFailureKind(err: unknown): WinrsFailureKind | undefined {
  return (err as { winrsKind?: WinrsFailureKind } | null)?.winrsKind;
}
