/** Connection flags shared by every CLI command, parsed into ConnectionOptions. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { AuthMechanism, ConnectionOptions } from '../options/index.ts';

export class UsageError extends Error {}

export const CONNECTION_FLAGS = {
  endpoint: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'string' },
  https: { type: 'boolean' },
  username: { type: 'string', short: 'u' },
  password: { type: 'string', short: 'p' },
  auth: { type: 'string' },
  'allow-unencrypted': { type: 'boolean' },
  ca: { type: 'string' },
  fingerprint: { type: 'string' },
  insecure: { type: 'boolean' },
  type: { type: 'string' },
  winrs: { type: 'string' },
  'operation-timeout': { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * The one table from library option syntax to CLI flags. Library errors name API options in their remedies
 * (`allowUnencrypted: true`, `tls.ca`); {@link cliMessage} rewrites them to the flag a CLI user types.
 * `bare`: the name alone is rewritten too (only for names that cannot be ordinary words in a sentence);
 * otherwise only `name: value` / `name 'value'` forms are.
 */
export const OPTION_FLAGS: ReadonlyArray<{ option: string; flag: string; value?: string; bare?: boolean }> = [
  { option: 'tls.insecureAcceptAnyCertificate', flag: '--insecure', bare: true },
  { option: 'insecureAcceptAnyCertificate', flag: '--insecure', bare: true },
  { option: 'tls.fingerprint', flag: '--fingerprint', value: 'HEX', bare: true },
  { option: 'tls.ca', flag: '--ca', value: 'FILE', bare: true },
  { option: 'allowUnencrypted', flag: '--allow-unencrypted', bare: true },
  { option: 'operationTimeout', flag: '--operation-timeout', value: 'MS', bare: true },
  { option: 'connectionType', flag: '--type', bare: true },
  { option: 'winrsPath', flag: '--winrs', value: 'PATH', bare: true },
  { option: 'https', flag: '--https' },
  { option: 'auth', flag: '--auth' },
  { option: 'port', flag: '--port' },
  { option: 'host', flag: '--host' },
  { option: 'endpoint', flag: '--endpoint' },
  { option: 'username', flag: '--username' },
  { option: 'password', flag: '--password' },
  { option: 'timeout', flag: '--timeout' },
  { option: 'chunkSize', flag: '--chunk-size', value: 'N', bare: true },
];

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A library message with its API option syntax replaced by CLI flags, using {@link OPTION_FLAGS}:
 * `allowUnencrypted: true` -> `--allow-unencrypted`, `auth 'ntlm'` -> `--auth ntlm`, `https: true` -> `--https`,
 * `tls.ca` -> `--ca FILE`. `WinRM`'s own `@{AllowUnencrypted="true"}` server syntax is left as it is.
 */
export function cliMessage(message: string): string {
  let out = message;
  for (const { option, flag, value, bare } of OPTION_FLAGS) {
    const name = `(?<![\\w.{@-])${escapeRe(option)}(?![\\w])`;
    out = out.replace(new RegExp(`${name}:? (true)\\b`, 'g'), flag);
    out = out.replace(new RegExp(`${name}:? '([^']*)'`, 'g'), `${flag} $1`);
    out = out.replace(new RegExp(`${name}:? (\\d+)\\b`, 'g'), `${flag} $1`);
    if (bare) out = out.replace(new RegExp(name, 'g'), value ? `${flag} ${value}` : flag);
  }
  return out;
}

export const CONNECTION_USAGE = `Connection flags:
  --endpoint URL            full endpoint, e.g. https://host:5986/wsman
  --host H [--port N] [--https]
  -u, --username USER       USER, .\\USER, DOMAIN\\USER or USER@FULL.DOMAIN
  -p, --password PW         or set WINRM_PASSWORD (preferred: not visible in the process list)
  --auth basic|ntlm|kerberos  (default basic; kerberos without a password uses the ticket cache, after kinit)
  --type internal|native    WS-Management from this process, or winrs (default internal)
  --winrs PATH              the winrs program for --type native (winrs.exe on Windows; winrs-emulator elsewhere)
  --allow-unencrypted       allow Basic over plain HTTP
  --ca FILE                 trust this CA bundle (PEM)
  --fingerprint HEX         pin the server certificate (SHA-1 or SHA-256 thumbprint)
  --insecure                accept any certificate (INSECURE)
  --operation-timeout MS    WS-Management OperationTimeout in milliseconds (default 20000)
  --timeout MS              overall deadline for the command, in milliseconds (default none)`;

type Values = {
  [K in keyof typeof CONNECTION_FLAGS]?: (typeof CONNECTION_FLAGS)[K]['type'] extends 'boolean'
    ? boolean
    : string;
};

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} needs a positive number, got "${v}"`);
  return n;
}

export function parseCli<T extends Record<string, { type: 'string' | 'boolean'; short?: string }>>(
  argv: string[],
  extra: T,
): { values: Values & Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...CONNECTION_FLAGS, ...extra },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values & Record<string, string | boolean | undefined>, positionals };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function toConnectionOptions(
  v: Values,
  env: NodeJS.ProcessEnv,
): ConnectionOptions & { timeoutMs?: number } {
  if (!v.endpoint && !v.host) throw new UsageError('give --endpoint URL or --host HOST');
  if (!v.username && v.auth !== 'kerberos')
    throw new UsageError('give -u/--username (or --auth kerberos after kinit)');
  const password = v.password ?? env.WINRM_PASSWORD;
  const type = v.type ?? 'internal';
  if (type !== 'internal' && type !== 'native')
    throw new UsageError(`--type must be internal or native, got "${type}"`);
  const auth = v.auth ?? 'basic';
  if (!['basic', 'ntlm', 'kerberos'].includes(auth))
    throw new UsageError(`--auth must be basic, ntlm or kerberos`);
  // Kerberos without a password is single sign-on from the ticket cache; winrs without one uses the logged-on user.
  if (password === undefined && auth !== 'kerberos' && type !== 'native')
    throw new UsageError('give -p/--password or set WINRM_PASSWORD (or --auth kerberos after kinit)');
  if (v.winrs !== undefined && type !== 'native') throw new UsageError('--winrs needs --type native');
  let ca: string | undefined;
  if (v.ca) {
    try {
      ca = readFileSync(v.ca, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read --ca ${v.ca}: ${(err as Error).message}`);
    }
  }
  return {
    connectionType: type === 'native' ? 'WINRM_NATIVE' : 'WINRM_INTERNAL',
    endpoint: v.endpoint,
    host: v.host,
    port: num('port', v.port),
    https: v.https,
    username: v.username,
    password,
    auth: auth as AuthMechanism,
    allowUnencrypted: v['allow-unencrypted'],
    tls: { ca, fingerprint: v.fingerprint, insecureAcceptAnyCertificate: v.insecure },
    operationTimeout: num('operation-timeout', v['operation-timeout']),
    timeoutMs: num('timeout', v.timeout),
    ...(v.winrs === undefined ? {} : { winrsPath: v.winrs }),
  };
}
