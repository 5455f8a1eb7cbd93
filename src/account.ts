/**
 * Account-name syntax, shared by the WINRM_INTERNAL strategy (WS-Management over HTTP) and the
 * WINRM_NATIVE strategy (winrs.exe). One parser turns what the user typed into an {@link Account};
 * small formatters turn that into what each authentication mechanism or tool expects.
 * Case is kept as written: Windows compares account and domain names case-insensitively anyway.
 */
import { InvalidArgumentError } from './errors.ts';

/** `local`: `USER` or `.\USER`; `upn`: `USER@FULL.DOMAIN`; `downlevel`: `DOMAIN\USER`. */
export type AccountKind = 'local' | 'upn' | 'downlevel';

/** A parsed account name. Build one with {@link parseAccount}. */
export interface Account {
  readonly kind: AccountKind;
  /** The user name, without any domain. */
  readonly user: string;
  /** NetBIOS (or DNS) domain for `downlevel`, DNS domain (UPN suffix) for `upn`; absent for `local`. */
  readonly domain?: string;
  /** The input exactly as given. */
  readonly original: string;
}

/** Connection strategy: WS-Management spoken by this library, or winrs.exe spawned on a Windows client. */
export type AccountStrategy = 'WINRM_INTERNAL' | 'WINRM_NATIVE';

/** Authentication mechanism the account will be used with. */
export type AccountAuth = 'basic' | 'ntlm' | 'kerberos' | 'negotiate';

/** User and domain fields of an NTLM AUTHENTICATE message. */
export interface NtlmIdentity {
  readonly user: string;
  readonly domain: string;
}

/** The account syntaxes {@link parseAccount} accepts, as quoted in its error messages. */
export const ACCEPTED_ACCOUNT_FORMS =
  'write it as USER or .\\USER (local account), DOMAIN\\USER or USER@FULL.DOMAIN (domain account)';

/** Longest user name accepted. */
const MAX_USER = 104;
/** Longest domain accepted. */
const MAX_DOMAIN = 255;
/** Characters Windows forbids in account names (and that would break DOMAIN\USER parsing). */
const FORBIDDEN = /["/\\[\]:;|=,+*?<>]/;
/** Control, format (zero-width, bidi) and line/paragraph separators, plus any whitespace except U+0020. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|[^\S ]/u;
const INVISIBLE_GLOBAL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|[^\S ]/gu;
/** One DNS label (RFC 1123): letters, digits, hyphens; no hyphen at either end; at most 63 characters. */
const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Quotes a value for an error message: JSON-escaped, invisible characters as \u escapes, clipped. */
function show(value: string): string {
  const clipped = value.length > 80 ? `${value.slice(0, 80)}...` : value;
  return JSON.stringify(clipped).replace(INVISIBLE_GLOBAL, (c) => {
    const cp = c.codePointAt(0)!;
    return cp > 0xffff ? `\\u{${cp.toString(16)}}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  });
}

function invalid(input: string, reason: string): InvalidArgumentError {
  return new InvalidArgumentError(`Invalid account name ${show(input)}: ${reason}`, {
    argument: 'username',
    remedy: ACCEPTED_ACCOUNT_FORMS,
  });
}

/** True for a DNS name: dot-separated RFC 1123 labels, no empty label, at most 255 characters. */
function isDnsName(name: string): boolean {
  return name.length <= MAX_DOMAIN && name.split('.').every((label) => DNS_LABEL.test(label));
}

function checkPart(input: string, part: string, what: 'user name' | 'domain', max: number): void {
  if (part === '') throw invalid(input, `the ${what} is empty`);
  if (part.trim() !== part) throw invalid(input, `the ${what} begins or ends with whitespace`);
  if (part.length > max) throw invalid(input, `the ${what} is longer than ${max} characters`);
  const bad = FORBIDDEN.exec(part);
  if (bad)
    throw invalid(input, `the ${what} contains ${show(bad[0])}, which Windows forbids in account names`);
  if (/^\.+$/.test(part)) throw invalid(input, `the ${what} consists only of periods`);
}

/**
 * Parses `USER`, `.\USER`, `DOMAIN\USER` or `USER@FULL.DOMAIN`.
 *
 * A downlevel domain may be longer than the 15 characters of a NetBIOS name and may contain dots:
 * `corp.example.com\alice` is common and Windows' own clients accept it, so only the 255-character
 * domain limit applies. A UPN suffix must be a DNS name (ASCII labels of letters, digits and hyphens).
 *
 * @throws InvalidArgumentError (argument `username`) naming the problem and the accepted forms.
 */
export function parseAccount(input: string): Account {
  if (typeof input !== 'string') {
    throw new InvalidArgumentError(`An account name must be a string, got ${typeof input}`, {
      argument: 'username',
      remedy: ACCEPTED_ACCOUNT_FORMS,
    });
  }
  if (input === '') throw invalid(input, 'it is empty');
  const hidden = INVISIBLE.exec(input);
  if (hidden) {
    throw invalid(input, `it contains the control or whitespace character ${show(hidden[0])}`);
  }
  if (input.trim() !== input) throw invalid(input, 'it begins or ends with whitespace');
  const separators = input.replace(/[^\\@]/g, '');
  if (separators.length > 1) {
    throw invalid(input, `it contains ${separators.length} separators ("\\" or "@"); at most one is allowed`);
  }
  const original = input;
  if (separators === '') {
    checkPart(input, input, 'user name', MAX_USER);
    return Object.freeze({ kind: 'local', user: input, original });
  }
  const at = input.indexOf(separators);
  if (separators === '\\') {
    const domain = input.slice(0, at);
    const user = input.slice(at + 1);
    checkPart(input, user, 'user name', MAX_USER);
    if (domain === '.') return Object.freeze({ kind: 'local', user, original });
    checkPart(input, domain, 'domain', MAX_DOMAIN);
    return Object.freeze({ kind: 'downlevel', user, domain, original });
  }
  const user = input.slice(0, at);
  const domain = input.slice(at + 1);
  checkPart(input, user, 'user name', MAX_USER);
  checkPart(input, domain, 'domain', MAX_DOMAIN);
  if (!isDnsName(domain)) {
    throw invalid(
      input,
      'the domain after "@" is not a DNS name (letters, digits and hyphens, dot-separated)',
    );
  }
  return Object.freeze({ kind: 'upn', user, domain, original });
}

/**
 * User name for HTTP Basic. The WinRM service maps Basic credentials to local accounts only.
 * @throws InvalidArgumentError for a domain account.
 */
export function forBasic(account: Account): string {
  if (account.kind !== 'local') {
    throw new InvalidArgumentError(
      `Basic authentication cannot log on the domain account ${show(account.original)}: ` +
        'the WinRM service accepts only local accounts over Basic',
      {
        argument: 'username',
        remedy:
          "use auth: 'ntlm' or auth: 'kerberos' for a domain account, or a local account with Basic " +
          '(winrm set winrm/config/service/Auth @{Basic="true"} enables Basic for local accounts only)',
      },
    );
  }
  return account.user;
}

/**
 * User and domain for NTLM. A UPN goes whole into the user field with an empty domain, as Windows'
 * own client does: the UPN suffix need not be the domain's name (alternate
 * suffixes), and the domain controller resolves the UPN itself. Local accounts get an empty domain.
 */
export function forNtlm(account: Account): NtlmIdentity {
  switch (account.kind) {
    case 'local':
      return { user: account.user, domain: '' };
    case 'upn':
      return { user: `${account.user}@${account.domain}`, domain: '' };
    case 'downlevel':
      return { user: account.user, domain: account.domain ?? '' };
  }
}

/** The domain of a DOMAIN\USER if it already looks like a DNS name, else a placeholder naming it. */
function dnsHint(account: Account): string {
  const domain = account.domain ?? '';
  return domain.includes('.') && isDnsName(domain) ? domain : `<DNS name of ${domain}>`;
}

function noKerberos(account: Account, remedy: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `Kerberos cannot use the local account ${show(account.original)}: Kerberos needs a domain account`,
    { argument: 'username', remedy },
  );
}

/**
 * Kerberos principal `user@REALM`, the realm being the UPN suffix (or `defaultRealm` for a plain
 * `USER`) in upper case. An explicit `.\USER` is never given a realm: it names an account of the target host.
 * @throws InvalidArgumentError for `DOMAIN\USER` (a NetBIOS name is not a realm), for a local
 * account without `defaultRealm`, or for a `defaultRealm` that is not a DNS name.
 */
export function forKerberos(account: Account, defaultRealm?: string): string {
  if (account.kind === 'upn') return `${account.user}@${account.domain!.toUpperCase()}`;
  if (account.kind === 'downlevel') {
    throw new InvalidArgumentError(
      `Kerberos cannot use ${show(account.original)}: a DOMAIN\\USER name does not tell the Kerberos realm`,
      {
        argument: 'username',
        remedy: `write it as USER@FULL.DOMAIN, e.g. ${account.user}@${dnsHint(account)}`,
      },
    );
  }
  if (defaultRealm === undefined || account.original.startsWith('.\\')) {
    throw noKerberos(
      account,
      "write a domain account as USER@FULL.DOMAIN, or use auth: 'ntlm' for a local account",
    );
  }
  if (!isDnsName(defaultRealm)) {
    throw new InvalidArgumentError(`Invalid Kerberos realm ${show(defaultRealm)}`, {
      argument: 'defaultRealm',
      remedy: 'give the DNS name of the domain, e.g. CORP.EXAMPLE.COM',
    });
  }
  return `${account.user}@${defaultRealm.toUpperCase()}`;
}

/** Value for winrs `-username:`: both domain syntaxes as written, a local account as plain `USER`. */
export function forWinrs(account: Account): string {
  switch (account.kind) {
    case 'local':
      return account.user;
    case 'upn':
      return `${account.user}@${account.domain}`;
    case 'downlevel':
      return `${account.domain}\\${account.user}`;
  }
}

/**
 * Checks that an account can be used with a strategy and authentication mechanism.
 * Basic takes local accounts only. NTLM and Negotiate take every form. Kerberos takes `USER@FULL.DOMAIN`;
 * WINRM_NATIVE also takes `DOMAIN\USER` (Windows resolves the realm); WINRM_INTERNAL takes a plain
 * `USER` when `defaultRealm` is given. Overthere refused `DOMAIN\USER` for WINRM_INTERNAL only because it
 * had no NTLM; here it works with NTLM and Negotiate.
 * @throws InvalidArgumentError naming the combination and the fix.
 */
export function validateForStrategy(
  account: Account,
  strategy: AccountStrategy,
  auth: AccountAuth,
  defaultRealm?: string,
): void {
  if (auth === 'basic') {
    forBasic(account);
    return;
  }
  if (auth !== 'kerberos' || account.kind === 'upn') return;
  if (strategy === 'WINRM_NATIVE') {
    if (account.kind === 'downlevel') return;
    throw noKerberos(account, "use auth: 'negotiate' or 'ntlm', or a domain account");
  }
  forKerberos(account, defaultRealm);
}

/**
 * Checks a password for winrs.exe, which cannot pass one containing `'` or `"`; NUL is refused too,
 * since no process argument can hold it. The password never appears in the error.
 * @throws InvalidArgumentError (argument `password`) suggesting WINRM_INTERNAL.
 */
export function checkWinrsPassword(password: string): void {
  if (typeof password !== 'string') {
    throw new InvalidArgumentError(`A password must be a string, got ${typeof password}`, {
      argument: 'password',
    });
  }
  if (/['"]/.test(password)) {
    throw new InvalidArgumentError(
      'The password contains a quotation mark (\' or "), which winrs.exe cannot pass (WINRM_NATIVE limitation)',
      {
        argument: 'password',
        remedy: "use strategy 'WINRM_INTERNAL', or a password without quotation marks",
      },
    );
  }
  if (password.includes('\0')) {
    throw new InvalidArgumentError('The password contains a NUL character, which no command line can carry', {
      argument: 'password',
      remedy: 'remove the NUL character from the password',
    });
  }
}
