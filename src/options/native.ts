/**
 * Options of the winrs-native strategy (Overthere's WINRM_NATIVE): where winrs.exe runs (the runner), its path,
 * and the winrs switches. The target is named by the common `host` and the WinRM `port` / `https` (or
 * `endpoint`), as for WINRM_INTERNAL; winrs's own settings keep Overthere's names (winrsAllowDelegate, ...).
 */
import { checkWinrsPassword, validateForStrategy } from '../account.ts';
import { Secret } from '../debug.ts';
import { InvalidArgumentError } from '../errors.ts';
import type { WinrsRunner } from '../native/runner.ts';
import { DEFAULTS } from '../wsman/constants.ts';
import { bad, flag, oneOf } from './check.ts';
import { type CommonConfig, type CommonOptions, resolveCommon } from './common.ts';
import { endpointUrl, type WinRmOptions } from './winrm.ts';

export const WINRS_PROXY_PROTOCOLS = ['local', 'ssh', 'jump'] as const;
/** Where winrs runs: this machine, a Windows host reached over SSH, a Windows jump host reached over WinRM. */
export type WinrsProxyProtocol = (typeof WINRS_PROXY_PROTOCOLS)[number];

export interface NativeOptions {
  /**
   * Where winrs.exe runs: 'local' (spawned on this machine, which must be Windows or have `winrsPath`),
   * 'ssh' (a Windows "winrs proxy" reached over SSH), 'jump' (a Windows jump host reached through a
   * WINRM_INTERNAL connection). Default: 'local'.
   */
  winrsProxyProtocol?: WinrsProxyProtocol;
  /**
   * The proxy's connection options, given to its runner: for 'ssh' the SSH host, port, user and key or password
   * and the host-key fingerprint; for 'jump' the ConnectionOptions of the WINRM_INTERNAL jump connection.
   * Required for 'ssh' and 'jump'. Default: none.
   */
  winrsProxyConnectionOptions?: Readonly<Record<string, unknown>>;
  /**
   * The winrs program where it runs: a path or a name looked up on PATH (for 'local', on this machine). Default:
   * 'winrs.exe' when winrs runs on Windows (a proxy, or this machine on Windows); on another local system
   * there is no default and connect() fails naming this option (the bundled `winrs-emulator` can be given).
   */
  winrsPath?: string;
  /** winrs `-allowdelegate`: the remote command may use your credentials for other hosts. Default: false. */
  winrsAllowDelegate?: boolean;
  /** winrs `-compression`. Default: false. */
  winrsCompression?: boolean;
  /** winrs `-noecho`. Default: false. */
  winrsNoecho?: boolean;
  /**
   * winrs `-unencrypted`: SOAP messages in the clear over HTTP (the target needs
   * `winrm set winrm/config/service @{AllowUnencrypted="true"}`). Ignored by winrs over HTTPS. Default: false.
   */
  winrsUnencrypted?: boolean;
  /** winrs `-noprofile` (Overthere's name for the common `noProfile`). Default: the common noProfile (false). */
  winrsNoprofile?: boolean;
  /** A runner of your own (the seam in src/native/runner.ts); overrides winrsProxyProtocol. Default: none. */
  winrsRunner?: WinrsRunner;
}

export interface NativeConfig extends Omit<CommonConfig, 'password'> {
  host: string;
  port: number;
  https: boolean;
  /** Absent: single sign-on (no `-username:`/`-password:`): winrs logs on as the user it runs as. */
  password: Secret | undefined;
  noEcho: boolean;
  allowDelegate: boolean;
  compression: boolean;
  unencrypted: boolean;
  proxyProtocol: WinrsProxyProtocol;
  proxyOptions: Readonly<Record<string, unknown>> | undefined;
  /** Undefined only for a local runner on a system without winrs (connect() then fails). */
  winrsPath: string | undefined;
  runner: WinrsRunner | undefined;
}

function target(o: WinRmOptions, host: string | undefined): { host: string; port: number; https: boolean } {
  if (o.endpoint === undefined) flag('https', o.https, false);
  const url = endpointUrl(o, host);
  if (url.pathname !== DEFAULTS.path && !(o.endpoint !== undefined && url.pathname === '/')) {
    bad(
      o.endpoint !== undefined ? 'endpoint' : 'path',
      `winrs.exe always uses ${DEFAULTS.path}, got the path ${url.pathname}`,
      'use WINRM_INTERNAL',
    );
  }
  const https = url.protocol === 'https:';
  const port = url.port ? Number(url.port) : https ? DEFAULTS.httpsPort : DEFAULTS.httpPort;
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port, https };
}

/** The default winrs program, or undefined where there is none. */
function defaultWinrsPath(protocol: WinrsProxyProtocol, platform: NodeJS.Platform): string | undefined {
  if (protocol !== 'local' || platform === 'win32') return 'winrs.exe';
  return undefined;
}

/**
 * winrs.exe takes the password on its command line and cannot pass one with a quotation mark (XL Deploy,
 * "Password limitations"): refused here, before anything runs, without the password in the message.
 */
function checkPassword(password: string): void {
  try {
    checkWinrsPassword(password);
  } catch (err) {
    if (!(err instanceof InvalidArgumentError) || !/quotation mark/.test(err.message)) throw err;
    bad(
      'password',
      'The password contains a quotation mark (\' or "): because of a limitation of the winrs command, ' +
        'passwords with a single or double quotation mark cannot be used with WINRM_NATIVE',
      "use connectionType 'WINRM_INTERNAL' (the password travels inside the HTTP authentication, never on a " +
        'command line), or change the password',
    );
  }
}

/** Resolve and check the WINRM_NATIVE options. Throws InvalidArgumentError naming the option. */
export function resolveNative(
  o: CommonOptions & WinRmOptions & NativeOptions,
  platform: NodeJS.Platform = process.platform,
): NativeConfig {
  const common = resolveCommon(o);
  if (common.connectionType !== 'WINRM_NATIVE') {
    bad('connectionType', `resolveNative() got connectionType ${common.connectionType}`);
  }
  const where = target(o, common.host);
  // winrs picks Negotiate (Kerberos or NTLM) for an explicit account: every account syntax is accepted.
  validateForStrategy(common.account, 'WINRM_NATIVE', 'negotiate');
  const proxyProtocol = oneOf('winrsProxyProtocol', o.winrsProxyProtocol, WINRS_PROXY_PROTOCOLS, 'local');
  const proxyOptions = o.winrsProxyConnectionOptions;
  if (proxyOptions !== undefined && (proxyOptions === null || typeof proxyOptions !== 'object')) {
    bad('winrsProxyConnectionOptions', 'Option winrsProxyConnectionOptions must be an object');
  }
  if (proxyProtocol !== 'local' && proxyOptions === undefined && o.winrsRunner === undefined) {
    bad(
      'winrsProxyConnectionOptions',
      `winrsProxyProtocol '${proxyProtocol}' needs winrsProxyConnectionOptions (how to reach the winrs proxy)`,
    );
  }
  if (o.winrsPath !== undefined && (typeof o.winrsPath !== 'string' || o.winrsPath === '')) {
    bad('winrsPath', 'Option winrsPath must be a non-empty string');
  }
  if (o.winrsRunner !== undefined && typeof o.winrsRunner?.spawn !== 'function') {
    bad('winrsRunner', 'Option winrsRunner must implement WinrsRunner (src/native/runner.ts)');
  }
  const { password: plain, host: _host, ...rest } = common;
  if (plain !== undefined) checkPassword(plain);
  return {
    ...rest,
    ...where,
    noProfile: flag('winrsNoprofile', o.winrsNoprofile, common.noProfile),
    password: plain === undefined ? undefined : new Secret(plain),
    noEcho: flag('winrsNoecho', o.winrsNoecho, false),
    allowDelegate: flag('winrsAllowDelegate', o.winrsAllowDelegate, false),
    compression: flag('winrsCompression', o.winrsCompression, false),
    unencrypted: flag('winrsUnencrypted', o.winrsUnencrypted, false),
    proxyProtocol,
    proxyOptions,
    winrsPath: o.winrsPath ?? defaultWinrsPath(proxyProtocol, platform),
    runner: o.winrsRunner,
  };
}
