/** Options every strategy shares: who connects where, console defaults, the connect timeout, the logger. */
import { type Account, parseAccount } from '../account.ts';
import { checkCodepage } from '../codepage.ts';
import type { ConnectionType } from '../connection.ts';
import type { Logger } from '../debug.ts';
import { bad, durationMs, oneOf } from './check.ts';

export const CONNECTION_TYPES = [
  'WINRM_INTERNAL',
  'WINRM_NATIVE',
] as const satisfies readonly ConnectionType[];

export interface CommonOptions {
  /**
   * Strategy: 'WINRM_INTERNAL' (WS-Management spoken by this library) or 'WINRM_NATIVE' (winrs.exe, locally or
   * on a winrs proxy; see docs/native.md). Default: 'WINRM_INTERNAL'.
   */
  connectionType?: ConnectionType;
  /** Host name or address. Required unless the strategy takes a full endpoint (WinRM: `endpoint`). */
  host?: string;
  /**
   * Account: `USER`, `.\USER`, `DOMAIN\USER` or `USER@FULL.DOMAIN`. Required, except with `auth: 'kerberos'`,
   * where it defaults to the ticket cache's default principal (after `kinit`: single sign-on).
   */
  username?: string;
  /**
   * Password. Never logged. Required by the mechanisms that use one (Basic, NTLM); default: none, for those
   * that do not (a Kerberos ticket cache, SSH keys, in later releases).
   */
  password?: string;
  /** Default console code page for commands (WINRS_CODEPAGE). Default: 65001 (UTF-8). */
  codepage?: number;
  /** Default WINRS_NOPROFILE for commands: do not load the user profile. Default: false. */
  noProfile?: boolean;
  /** Connect timeout in milliseconds (TCP and TLS set-up). Default: 15000. */
  connectTimeout?: number;
  /**
   * Most milliseconds close() takes: it terminates running commands and deletes the shells; when the bound
   * passes, it drops every socket (as destroy() does) and rejects with a ShellCleanupError naming the shells it
   * could not delete. Default: 30000.
   */
  closeTimeout?: number;
  /** Debug sink; secrets are redacted before it sees anything. Default: stderr when DEBUG=winrm-connection:*. */
  logger?: Logger;
}

export interface CommonConfig {
  connectionType: ConnectionType;
  /** As given; the WinRM resolver derives it from `endpoint` when absent. */
  host: string | undefined;
  account: Account;
  username: string;
  password: string | undefined;
  codepage: number;
  noProfile: boolean;
  connectTimeoutMs: number;
  closeTimeoutMs: number;
  logger: Logger | undefined;
}

export const COMMON_DEFAULTS = {
  codepage: 65001,
  noProfile: false,
  connectTimeoutMs: 15_000,
  closeTimeoutMs: 30_000,
} as const;

export function resolveCommon(o: CommonOptions): CommonConfig {
  if (o === null || typeof o !== 'object') bad('options', 'connect() needs an options object');
  const connectionType = oneOf('connectionType', o.connectionType, CONNECTION_TYPES, 'WINRM_INTERNAL');
  if (o.host !== undefined && (typeof o.host !== 'string' || o.host === '')) {
    bad('host', `Option host must be a host name or address, got ${JSON.stringify(o.host)}`);
  }
  if (typeof o.username !== 'string' || o.username === '') bad('username', 'Option username is required');
  if (o.password !== undefined && typeof o.password !== 'string') {
    bad('password', 'Option password must be a string');
  }
  if (o.logger !== undefined && typeof o.logger !== 'function') {
    bad('logger', 'Option logger must be a function (namespace, message) => void');
  }
  return {
    connectionType,
    host: o.host,
    account: parseAccount(o.username),
    username: o.username,
    password: o.password,
    codepage: checkCodepage(o.codepage ?? COMMON_DEFAULTS.codepage),
    noProfile: o.noProfile ?? COMMON_DEFAULTS.noProfile,
    connectTimeoutMs: durationMs('connectTimeout', o.connectTimeout, COMMON_DEFAULTS.connectTimeoutMs),
    closeTimeoutMs: durationMs('closeTimeout', o.closeTimeout, COMMON_DEFAULTS.closeTimeoutMs),
    logger: o.logger,
  };
}
