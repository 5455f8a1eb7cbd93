/**
 * Connection options, their documented defaults, and the one function that resolves and checks them.
 * Cross-field rules live here only: HTTP read timeout above OperationTimeout, Basic over plain HTTP only with an
 * explicit opt-in, account syntax valid for the strategy and authentication.
 */
import { type Account, type AccountAuth, parseAccount, validateForStrategy } from './account.ts';
import { checkCodepage } from './codepage.ts';
import type { ConnectionType } from './connection.ts';
import type { Logger } from './debug.ts';
import { InvalidArgumentError } from './errors.ts';
import { DEFAULTS } from './wsman/constants.ts';

export type AuthMechanism = 'basic' | 'ntlm' | 'kerberos';

/** TLS trust settings (Overthere: winrmHttpsCertificateTrustStrategy / winrmHttpsHostnameVerificationStrategy). */
export interface TlsOptions {
  /** Extra CA certificates (PEM) to trust besides Node's bundle (Overthere STRICT with a trust store). Default: none. */
  ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /**
   * Pin the server certificate by thumbprint: SHA-1 (40 hex digits, as `winrm` and certmgr show it) or SHA-256
   * (64 hex digits); colons and spaces are ignored. A pinned certificate is accepted even when self-signed
   * (Overthere SELFSIGNED, but stricter: only that certificate). Default: none.
   */
  fingerprint?: string;
  /** Check the certificate's name against the host (Overthere hostname STRICT). Default: true. */
  verifyHostname?: boolean;
  /** INSECURE: accept any certificate, unverified (Overthere ALLOW_ALL). Default: false. */
  insecureAcceptAnyCertificate?: boolean;
}

export interface ConnectionOptions {
  /** Strategy. Default: 'WINRM_INTERNAL'. ('WINRM_NATIVE' arrives in a later release.) */
  connectionType?: ConnectionType;
  /** Host name or address. Required unless `endpoint` is given. */
  host?: string;
  /** Full endpoint URL, e.g. `https://srv:5986/wsman`; overrides host, port, https and path. Default: none. */
  endpoint?: string;
  /** Default: 5986 with https, else 5985. */
  port?: number;
  /** Use HTTPS. Default: false. */
  https?: boolean;
  /** Default: '/wsman'. */
  path?: string;
  /** Account: `USER`, `.\USER`, `DOMAIN\USER` or `USER@FULL.DOMAIN`. Required. */
  username: string;
  /** Required. Never logged. */
  password: string;
  /**
   * Authentication. 'basic' (local accounts; HTTPS or allowUnencrypted), 'ntlm' (local and domain accounts,
   * encrypts messages over HTTP so servers at their secure defaults accept it). Default: 'basic'.
   * ('kerberos' arrives in a later release.)
   */
  auth?: AuthMechanism;
  /**
   * Message encryption with NTLM/Kerberos ([MS-WSMV] 2.2.9.1): 'auto' encrypts over HTTP and not inside HTTPS,
   * 'always' encrypts over both, 'never' sends SOAP in the clear (over HTTP only with allowUnencrypted).
   * Basic cannot encrypt. Default: 'auto'.
   */
  encryption?: 'auto' | 'always' | 'never';
  /**
   * Allow credentials and messages in the clear over plain HTTP (Basic over HTTP). The server must allow it
   * too: `winrm set winrm/config/service @{AllowUnencrypted="true"}`. Default: false.
   */
  allowUnencrypted?: boolean;
  /** TLS trust for HTTPS. Default: Node's CA bundle, hostname verified. */
  tls?: TlsOptions;
  /**
   * HTTP proxy as a URL, e.g. `http://proxy:3128` or `http://user:pass@proxy:3128` (Basic proxy credentials,
   * never logged). Every channel opens its own CONNECT tunnel through it (so NTLM stays bound to one
   * connection); TLS to an HTTPS endpoint runs inside the tunnel with the same trust checks. HTTP_PROXY and
   * HTTPS_PROXY in the environment are ignored. Default: none (connect directly).
   */
  proxy?: string;
  /** WS-Management OperationTimeout in seconds: how long one Receive may wait for output. Default: 20. */
  operationTimeout?: number;
  /** HTTP read timeout in seconds; must exceed operationTimeout. Default: operationTimeout + 10. */
  readTimeout?: number;
  /** Connect timeout in seconds. Default: 15. */
  connectTimeout?: number;
  /** MaxEnvelopeSize in bytes, for requests and responses. Default: 512000 (Windows 2012+; 2008 R2 needs 153600). */
  maxEnvelopeSize?: number;
  /** Refuse responses larger than this many bytes. Default: 4 x maxEnvelopeSize. */
  maxResponseBytes?: number;
  /** w:Locale and p:DataLocale. Default: 'en-US'. */
  locale?: string;
  /** Default console code page for commands (WINRS_CODEPAGE). Default: 65001. */
  codepage?: number;
  /** Default WINRS_NOPROFILE for shells. Default: false. */
  noProfile?: boolean;
  /** Most HTTP requests in flight at once (one socket each). Default: 8. */
  maxConcurrentRequests?: number;
  /** Reopen a shell after this many commands (Windows 2008 R2 allows only 15 operations). Default: 1000. */
  maxCommandsPerShell?: number;
  /**
   * Most shells this connection keeps open at once; more concurrent commands wait for a shell. Windows allows
   * 30 per user by default (winrm/config/winrs MaxShellsPerUser), shared with the user's other sessions.
   * Default: 8, or maxConcurrentRequests when that is higher (every running command long-polls on a socket).
   */
  maxShells?: number;
  /** Debug sink; secrets are redacted before it sees anything. Default: stderr when DEBUG=winrm-connection:*. */
  logger?: Logger;
}

export interface ResolvedOptions {
  connectionType: ConnectionType;
  url: URL;
  host: string;
  port: number;
  https: boolean;
  account: Account;
  username: string;
  password: string;
  auth: AuthMechanism;
  allowUnencrypted: boolean;
  /** Whether SOAP bodies are sealed by the authentication mechanism. */
  encrypt: boolean;
  tls: Required<Pick<TlsOptions, 'verifyHostname' | 'insecureAcceptAnyCertificate'>> &
    Pick<TlsOptions, 'ca'> & { fingerprint: { algorithm: 'sha1' | 'sha256'; hex: string } | undefined };
  /** HTTP proxy for CONNECT tunnels; undefined: direct. */
  proxy: URL | undefined;
  operationTimeout: number;
  readTimeoutMs: number;
  connectTimeoutMs: number;
  maxEnvelopeSize: number;
  maxResponseBytes: number;
  locale: string;
  codepage: number;
  noProfile: boolean;
  maxConcurrentRequests: number;
  maxCommandsPerShell: number;
  maxShells: number;
  logger: Logger | undefined;
}

function bad(argument: string, message: string, remedy?: string): never {
  throw new InvalidArgumentError(message, { argument, ...(remedy ? { remedy } : {}) });
}

function positive(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= min) {
    bad(name, `Option ${name} must be a number greater than ${min}, got ${String(value)}`);
  }
  return value;
}

export function parseFingerprint(text: string): { algorithm: 'sha1' | 'sha256'; hex: string } {
  const hex = text.replace(/[\s:]/g, '').toUpperCase();
  if (/^[0-9A-F]{40}$/.test(hex)) return { algorithm: 'sha1', hex };
  if (/^[0-9A-F]{64}$/.test(hex)) return { algorithm: 'sha256', hex };
  return bad(
    'tls.fingerprint',
    'The certificate fingerprint must be 40 (SHA-1) or 64 (SHA-256) hex digits',
    'copy the Thumbprint shown by `winrm e winrm/config/listener` or `Get-ChildItem cert:\\LocalMachine\\My`',
  );
}

function resolveProxy(text: string | undefined): URL | undefined {
  if (text === undefined) return undefined;
  const hint = 'write it as http://HOST:PORT or http://USER:PASSWORD@HOST:PORT';
  let url: URL | undefined;
  try {
    url = typeof text === 'string' ? new URL(text) : undefined;
  } catch {
    url = undefined;
  }
  // The message never repeats the value: it may hold the proxy's password.
  if (!url?.hostname) return bad('proxy', 'Option proxy is not a URL', hint);
  if (url.protocol !== 'http:') {
    return bad('proxy', `Option proxy must be an http: URL (CONNECT proxy), got ${url.protocol}`, hint);
  }
  return url;
}

export function resolveOptions(o: ConnectionOptions): ResolvedOptions {
  if (o === null || typeof o !== 'object') bad('options', 'connect() needs an options object');
  const connectionType = o.connectionType ?? 'WINRM_INTERNAL';
  if (connectionType !== 'WINRM_INTERNAL' && connectionType !== 'WINRM_NATIVE') {
    bad('connectionType', `Unknown connectionType "${String(connectionType)}"`, "use 'WINRM_INTERNAL'");
  }
  if (connectionType === 'WINRM_NATIVE') {
    bad(
      'connectionType',
      'WINRM_NATIVE (winrs.exe) is not available in this release',
      "use 'WINRM_INTERNAL'",
    );
  }
  const auth = o.auth ?? 'basic';
  if (auth !== 'basic' && auth !== 'ntlm' && auth !== 'kerberos') {
    bad('auth', `Unknown auth "${String(auth)}"`, "use 'basic'");
  }
  if (auth === 'kerberos') {
    bad('auth', "auth 'kerberos' is not available in this release", "use auth 'ntlm' for domain accounts");
  }
  const encryption = o.encryption ?? 'auto';
  if (encryption !== 'auto' && encryption !== 'always' && encryption !== 'never') {
    bad('encryption', `Unknown encryption "${String(encryption)}"`, "use 'auto', 'always' or 'never'");
  }
  let url: URL;
  if (o.endpoint !== undefined) {
    try {
      url = new URL(o.endpoint);
    } catch {
      return bad('endpoint', `"${o.endpoint}" is not a URL`, 'write it as http://HOST:5985/wsman');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      bad('endpoint', `The endpoint must be http: or https:, got ${url.protocol}`);
    }
    if (url.username || url.password) bad('endpoint', 'Put credentials in username/password, not in the URL');
  } else {
    if (!o.host || typeof o.host !== 'string') bad('host', 'Option host is required (or give endpoint)');
    const https = o.https ?? false;
    const port = o.port ?? (https ? DEFAULTS.httpsPort : DEFAULTS.httpPort);
    if (!Number.isInteger(port) || port < 1 || port > 65535) bad('port', `Port ${port} is not in 1-65535`);
    const host = o.host.includes(':') && !o.host.startsWith('[') ? `[${o.host}]` : o.host;
    url = new URL(`${https ? 'https' : 'http'}://${host}:${port}${o.path ?? DEFAULTS.path}`);
  }
  const https = url.protocol === 'https:';
  const port = url.port ? Number(url.port) : https ? 443 : 80;
  if (typeof o.username !== 'string' || o.username === '') bad('username', 'Option username is required');
  if (typeof o.password !== 'string') bad('password', 'Option password is required (a string)');
  const account = parseAccount(o.username);
  validateForStrategy(account, connectionType, auth as AccountAuth);
  const allowUnencrypted = o.allowUnencrypted ?? false;
  if (auth === 'basic' && encryption === 'always') {
    bad(
      'encryption',
      "Basic authentication cannot encrypt messages (encryption: 'always')",
      "use auth 'ntlm', or HTTPS",
    );
  }
  const encrypt = auth !== 'basic' && (encryption === 'always' || (encryption === 'auto' && !https));
  if (!https && auth !== 'basic' && !encrypt && !allowUnencrypted) {
    bad(
      'allowUnencrypted',
      `encryption 'never' over plain HTTP (${url.host}) would send every message in the clear`,
      "keep encryption 'auto', or opt in with allowUnencrypted: true and allow it on the server: " +
        'winrm set winrm/config/service @{AllowUnencrypted="true"}',
    );
  }
  if (!https && auth === 'basic' && !allowUnencrypted) {
    bad(
      'allowUnencrypted',
      `Basic authentication over plain HTTP (${url.host}) would send the password and all traffic unencrypted`,
      'use HTTPS (https: true, port 5986), or opt in with allowUnencrypted: true and allow it on the server: ' +
        'winrm set winrm/config/service @{AllowUnencrypted="true"}',
    );
  }
  const tlsIn = o.tls ?? {};
  const fingerprint = tlsIn.fingerprint !== undefined ? parseFingerprint(tlsIn.fingerprint) : undefined;
  if (fingerprint && tlsIn.insecureAcceptAnyCertificate) {
    bad(
      'tls',
      'tls.fingerprint and tls.insecureAcceptAnyCertificate contradict each other',
      'keep the fingerprint',
    );
  }
  const operationTimeout = positive('operationTimeout', o.operationTimeout, DEFAULTS.operationTimeoutSeconds);
  const readTimeout = positive('readTimeout', o.readTimeout, operationTimeout + 10);
  if (readTimeout <= operationTimeout) {
    bad(
      'readTimeout',
      `readTimeout (${readTimeout} s) must be greater than operationTimeout (${operationTimeout} s)`,
      'raise readTimeout or leave it unset (default operationTimeout + 10)',
    );
  }
  const maxEnvelopeSize = Math.floor(
    positive('maxEnvelopeSize', o.maxEnvelopeSize, DEFAULTS.maxEnvelopeSize, 8191),
  );
  const maxConcurrentRequests = Math.floor(positive('maxConcurrentRequests', o.maxConcurrentRequests, 8));
  return {
    connectionType,
    url,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port,
    https,
    account,
    username: o.username,
    password: o.password,
    auth,
    allowUnencrypted,
    encrypt,
    tls: {
      ca: tlsIn.ca,
      fingerprint,
      verifyHostname: tlsIn.verifyHostname ?? true,
      insecureAcceptAnyCertificate: tlsIn.insecureAcceptAnyCertificate ?? false,
    },
    proxy: resolveProxy(o.proxy),
    operationTimeout,
    readTimeoutMs: readTimeout * 1000,
    connectTimeoutMs: positive('connectTimeout', o.connectTimeout, 15) * 1000,
    maxEnvelopeSize,
    maxResponseBytes: Math.floor(positive('maxResponseBytes', o.maxResponseBytes, 4 * maxEnvelopeSize)),
    locale: o.locale ?? DEFAULTS.locale,
    codepage: checkCodepage(o.codepage ?? 65001),
    noProfile: o.noProfile ?? false,
    maxConcurrentRequests,
    maxCommandsPerShell: Math.floor(positive('maxCommandsPerShell', o.maxCommandsPerShell, 1000)),
    maxShells: Math.floor(positive('maxShells', o.maxShells, Math.max(8, maxConcurrentRequests))),
    logger: o.logger,
  };
}
