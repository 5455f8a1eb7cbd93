/**
 * Connection options, one group per concern, each resolved by its own function into a narrow config:
 * common.ts (every strategy), winrm.ts (the WinRM-internal strategy), auth.ts (the mechanism). Cross-field rules
 * live with the group they concern; the few that span groups (account syntax for strategy and mechanism, Basic
 * over plain HTTP) are checked where the groups meet, below. Every duration is in milliseconds.
 */

import { inspect } from 'node:util';
import { type AccountAuth, forBasic, validateForStrategy } from '../account.ts';
import { defaultPrincipal } from '../auth/kerberos/ccache.ts';
import { REDACTED, Secret } from '../debug.ts';
import { type AuthConfig, type AuthOptions, resolveAuth } from './auth.ts';
import { bad } from './check.ts';
import { type CommonConfig, type CommonOptions, resolveCommon } from './common.ts';
import type { NativeOptions } from './native.ts';
import { resolveWinRm, type WinRmConfig, type WinRmOptions } from './winrm.ts';

export type { AuthConfig, AuthMechanism, AuthOptions } from './auth.ts';
export { bad } from './check.ts';
export type { CommonConfig, CommonOptions } from './common.ts';
export { resolveCommon } from './common.ts';
export type { NativeConfig, NativeOptions, WinrsProxyProtocol } from './native.ts';
export type {
  TlsConfig,
  TlsOptions,
  WinRmConfig,
  WinRmHttpConfig,
  WinRmOptions,
  WsmanConfig,
} from './winrm.ts';
export { parseFingerprint, resolveWinRm } from './winrm.ts';

/**
 * Everything `connect()` takes: the common options, the WinRM options, the authentication options and the
 * winrs-native options (read by WINRM_NATIVE only).
 */
export interface ConnectionOptions extends CommonOptions, WinRmOptions, AuthOptions, NativeOptions {}

/**
 * The WinRM-internal strategy's resolved configuration: the three narrow configs, flattened, because the HTTP
 * and auth layers read these fields by name (url, host, port, https, tls, readTimeoutMs, connectTimeoutMs,
 * maxResponseBytes, maxConcurrentRequests, account, password, encrypt, auth, ...). `auth` is the mechanism.
 */
export interface ResolvedOptions
  extends Omit<CommonConfig, 'host' | 'password'>,
    WinRmConfig,
    Omit<AuthConfig, 'mechanism'> {
  auth: AuthConfig['mechanism'];
}

/**
 * Kerberos without a username is single sign-on: the account is the ticket cache's default principal (what
 * `klist` shows). Without a readable cache the error says to run kinit or give the username.
 */
function withKerberosUsername(o: ConnectionOptions): ConnectionOptions {
  if (o === null || typeof o !== 'object' || o.auth !== 'kerberos') return o;
  if (o.username !== undefined && o.username !== '') return o;
  const principal = defaultPrincipal();
  if (principal === undefined) {
    bad(
      'username',
      'Option username is required: auth kerberos without a username uses the ticket cache, and there is no ' +
        `readable ticket cache (${process.env.KRB5CCNAME ? `KRB5CCNAME=${process.env.KRB5CCNAME}` : 'the default cache'})`,
      'run kinit USER@FULL.DOMAIN first, or give username (and password)',
    );
  }
  return { ...o, username: principal };
}

/** Resolve and check options for the WinRM-internal strategy. Throws InvalidArgumentError naming the option. */
export function resolveWinRmInternal(o: ConnectionOptions): ResolvedOptions {
  const common = resolveCommon(withKerberosUsername(o));
  if (common.connectionType !== 'WINRM_INTERNAL') {
    bad('connectionType', `resolveWinRmInternal() got connectionType ${common.connectionType}`);
  }
  const winrm = resolveWinRm(o, common.host);
  const auth = resolveAuth(o, { https: winrm.https, where: winrm.url.host, password: common.password });
  validateForStrategy(common.account, common.connectionType, auth.mechanism as AccountAuth);
  const { host: _host, password: _password, ...rest } = common;
  const { mechanism, ...authRest } = auth;
  // Masked along with the password wherever the connection redacts: for Basic, base64(user:password) is sent;
  // the proxy's credentials travel base64-encoded in Proxy-Authorization.
  const plain = auth.password.reveal();
  const related: string[] = [];
  if (mechanism === 'basic') related.push(`${forBasic(common.account)}:${plain}`);
  if (winrm.proxy?.password) {
    const proxyPassword = decodeURIComponent(winrm.proxy.password);
    related.push(proxyPassword, `${decodeURIComponent(winrm.proxy.username)}:${proxyPassword}`);
  }
  const password = related.length > 0 ? new Secret(plain, { related }) : auth.password;
  const proxy = winrm.proxy && withoutCredentialsShown(winrm.proxy);
  return { ...rest, ...winrm, ...authRest, proxy, password, auth: mechanism };
}

/**
 * The same URL, printed by `util.inspect`, `console.log` and `JSON.stringify` without its user name and
 * password (`http://[redacted]@proxy:3128/`); its properties still give them to the code that sends them.
 */
function withoutCredentialsShown(url: URL): URL {
  const shown = (): string => {
    if (!url.username && !url.password) return url.href;
    const copy = new URL(url.href);
    copy.username = '';
    copy.password = '';
    return copy.href.replace('//', `//${REDACTED}@`);
  };
  Object.defineProperties(url, {
    [inspect.custom]: { value: () => `URL ${shown()}` },
    toJSON: { value: shown },
  });
  return url;
}

/** @deprecated name kept for the HTTP and auth tests; use {@link resolveWinRmInternal}. */
export const resolveOptions = resolveWinRmInternal;
