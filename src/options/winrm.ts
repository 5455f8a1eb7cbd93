/** Options of the WinRM-internal strategy: where the WS-Management endpoint is, TLS trust, envelopes, pools. */
import { budgetOf, type ResourceBudget, type ResourceBudgetLimits } from '../fanout/budget.ts';
import { DEFAULTS } from '../wsman/constants.ts';
import { bad, count, durationMs, flag, MAX_TIMER_MS } from './check.ts';

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

export interface WinRmOptions {
  /** Full endpoint URL, e.g. `https://srv:5986/wsman`; overrides host, port, https and path. Default: none. */
  endpoint?: string;
  /** Default: 5986 with https, else 5985. */
  port?: number;
  /** Use HTTPS. Default: false. */
  https?: boolean;
  /** Default: '/wsman'. */
  path?: string;
  /** TLS trust for HTTPS. Default: Node's CA bundle, hostname verified. */
  tls?: TlsOptions;
  /**
   * WS-Management OperationTimeout in milliseconds: how long the server may hold one Receive waiting for output
   * (then it answers w:TimedOut and the client polls again). At least 100. Default: 20000.
   */
  operationTimeout?: number;
  /** HTTP read timeout in milliseconds; must exceed operationTimeout. Default: operationTimeout + 10000. */
  readTimeout?: number;
  /**
   * Most milliseconds one cleanup request may take: a Signal that kills a command after a deadline or abort,
   * waiting for the answer of a Command the abort overtook (to terminate it), and each Delete of a shell (a
   * failed Delete is retried on a fresh socket). A shell whose command could not be confirmed terminated is
   * deleted instead of reused. Default: 10000.
   */
  cleanupTimeout?: number;
  /**
   * Whole-exchange deadline of one HTTP request in milliseconds: from sending it to the last byte of the answer
   * (readTimeout only bounds the silence between two bytes, so a server trickling bytes or sending endless
   * `1xx` heads is stopped by this one). Every authentication leg is a request of its own. At least readTimeout.
   * Default: readTimeout + 20000 (operationTimeout + 30000 with the default readTimeout).
   */
  responseTimeout?: number;
  /** MaxEnvelopeSize in bytes, for requests and responses; at least 8192. Default: 512000 (Windows 2012+; 2008 R2 needs 153600). */
  maxEnvelopeSize?: number;
  /** Refuse responses larger than this many bytes. Default: 4 x maxEnvelopeSize. */
  maxResponseBytes?: number;
  /** w:Locale and p:DataLocale. Default: 'en-US'. */
  locale?: string;
  /**
   * Most HTTP requests in flight at once (one socket each, opened when needed); at least 1. Default: 16, so the
   * default 8 transfer streams (two requests each) or 16 concurrent commands fit. fanOut()'s shared budget
   * bounds the sockets of many connections together.
   */
  maxConcurrentRequests?: number;
  /** Reopen a shell after this many commands (Windows 2008 R2 allows only 15 operations); at least 1. Default: 1000. */
  maxCommandsPerShell?: number;
  /**
   * Most shells this connection keeps open at once; more concurrent commands wait for a shell. Windows allows
   * 30 per user by default (winrm/config/winrs MaxShellsPerUser), shared with the user's other sessions.
   * At least 1. Default: maxConcurrentRequests (16 by default) when that is higher than 8, else 8: every running
   * command long-polls on a socket.
   */
  maxShells?: number;
  /**
   * HTTP proxy as a URL, e.g. `http://proxy:3128` or `http://user:pass@proxy:3128` (Basic proxy credentials,
   * never logged). Every channel opens its own CONNECT tunnel through it (so NTLM stays bound to one
   * connection); TLS to an HTTPS endpoint runs inside the tunnel with the same trust checks. HTTP_PROXY and
   * HTTPS_PROXY in the environment are ignored. Default: none (connect directly).
   */
  proxy?: string;
  /**
   * Check reachability and credentials before connect() resolves: one authenticated WS-Man Identify (the seed's
   * "Test WS-Man access" step, `winrm id -r:host`). connect() then rejects with the typed error of the failure
   * (ConnectionError, AuthenticationError, HttpError, ...) naming the fix, and nothing stays open.
   * Without it connect() sends nothing and the first command finds out. The Identify is bounded by
   * responseTimeout. Default: false.
   */
  verify?: boolean;
  /**
   * Sockets and shells shared with other connections: a {@link ResourceBudget}, or `{ sockets, shells }` (the same
   * object passed to several connect() calls is one shared budget). Each channel holds one socket of it and each
   * shell one shell, on top of this connection's maxConcurrentRequests and maxShells; fanOut() passes one to
   * every host's connection. Default: none (each connection bounded only by its own limits).
   */
  budget?: ResourceBudget | ResourceBudgetLimits;
}

export type Fingerprint = { algorithm: 'sha1' | 'sha256'; hex: string };

export interface TlsConfig {
  ca: TlsOptions['ca'];
  fingerprint: Fingerprint | undefined;
  verifyHostname: boolean;
  insecureAcceptAnyCertificate: boolean;
}

/** Where and how to speak WS-Management over HTTP(S). */
export interface WinRmHttpConfig {
  url: URL;
  /** Host name or address, without IPv6 brackets. */
  host: string;
  port: number;
  https: boolean;
  tls: TlsConfig;
  /** HTTP proxy for CONNECT tunnels; undefined: direct. */
  proxy: URL | undefined;
  readTimeoutMs: number;
  /** Whole-exchange deadline of one HTTP request (send to last body byte), ms. */
  responseTimeoutMs: number;
  maxResponseBytes: number;
  maxConcurrentRequests: number;
}

/** WS-Management header values and shell-pool limits. */
export interface WsmanConfig {
  operationTimeoutMs: number;
  maxEnvelopeSize: number;
  locale: string;
  maxCommandsPerShell: number;
  maxShells: number;
  cleanupTimeoutMs: number;
  /** Identify (authenticated) before connect() resolves. */
  verify: boolean;
  /** Sockets and shells shared with other connections; undefined: none. */
  budget: ResourceBudget | undefined;
}

export type WinRmConfig = WinRmHttpConfig & WsmanConfig;

export const WINRM_DEFAULTS = {
  operationTimeoutMs: DEFAULTS.operationTimeoutSeconds * 1000,
  /** readTimeout = operationTimeout + this. */
  readTimeoutMarginMs: 10_000,
  /**
   * responseTimeout = readTimeout + this: room for a body that arrives slowly but steadily after the server
   * held the request for up to OperationTimeout.
   */
  responseTimeoutMarginMs: 20_000,
  maxConcurrentRequests: 16,
  maxCommandsPerShell: 1000,
  maxShells: 8,
  cleanupTimeoutMs: 10_000,
  /** Smallest OperationTimeout accepted: below it every Receive would come back TimedOut. */
  minOperationTimeoutMs: 100,
} as const;

export function parseFingerprint(text: string): Fingerprint {
  const hex = String(text).replace(/[\s:]/g, '').toUpperCase();
  if (/^[0-9A-F]{40}$/.test(hex)) return { algorithm: 'sha1', hex };
  if (/^[0-9A-F]{64}$/.test(hex)) return { algorithm: 'sha256', hex };
  return bad(
    'tls.fingerprint',
    'The certificate fingerprint must be 40 (SHA-1) or 64 (SHA-256) hex digits',
    'copy the Thumbprint shown by `winrm e winrm/config/listener` or `Get-ChildItem cert:\\LocalMachine\\My`',
  );
}

/**
 * The endpoint URL from `endpoint`, or from host, port, https and path: the one parser of where WinRM listens,
 * for both strategies.
 */
export function endpointUrl(o: WinRmOptions, host: string | undefined): URL {
  if (o.endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(o.endpoint);
    } catch {
      return bad('endpoint', `"${o.endpoint}" is not a URL`, 'write it as http://HOST:5985/wsman');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      bad('endpoint', `The endpoint must be http: or https:, got ${url.protocol}`);
    }
    if (url.username || url.password) bad('endpoint', 'Put credentials in username/password, not in the URL');
    return url;
  }
  if (!host) bad('host', 'Option host is required (or give endpoint)');
  const https = o.https ?? false;
  const port = o.port ?? (https ? DEFAULTS.httpsPort : DEFAULTS.httpPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) bad('port', `Port ${port} is not in 1-65535`);
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return new URL(`${https ? 'https' : 'http'}://${bracketed}:${port}${o.path ?? DEFAULTS.path}`);
}

function resolveTls(t: TlsOptions | undefined): TlsConfig {
  const tlsIn = t ?? {};
  const fingerprint = tlsIn.fingerprint !== undefined ? parseFingerprint(tlsIn.fingerprint) : undefined;
  if (fingerprint && tlsIn.insecureAcceptAnyCertificate) {
    bad(
      'tls',
      'tls.fingerprint and tls.insecureAcceptAnyCertificate contradict each other',
      'keep the fingerprint',
    );
  }
  return {
    ca: tlsIn.ca,
    fingerprint,
    verifyHostname: tlsIn.verifyHostname ?? true,
    insecureAcceptAnyCertificate: tlsIn.insecureAcceptAnyCertificate ?? false,
  };
}

function resolveProxy(text: unknown): URL | undefined {
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

/** Resolve the WinRM options; `host` is the common option (the endpoint overrides it). */
export function resolveWinRm(o: WinRmOptions, host: string | undefined): WinRmConfig {
  const url = endpointUrl(o, host);
  const https = url.protocol === 'https:';
  const operationTimeoutMs = durationMs(
    'operationTimeout',
    o.operationTimeout,
    WINRM_DEFAULTS.operationTimeoutMs,
    WINRM_DEFAULTS.minOperationTimeoutMs,
  );
  const readTimeoutMs = durationMs(
    'readTimeout',
    o.readTimeout,
    operationTimeoutMs + WINRM_DEFAULTS.readTimeoutMarginMs,
  );
  if (readTimeoutMs <= operationTimeoutMs) {
    bad(
      'readTimeout',
      `readTimeout (${readTimeoutMs} ms) must be greater than operationTimeout (${operationTimeoutMs} ms)`,
      'raise readTimeout or leave it unset (default operationTimeout + 10000)',
    );
  }
  const responseTimeoutMs = durationMs(
    'responseTimeout',
    o.responseTimeout,
    Math.min(readTimeoutMs + WINRM_DEFAULTS.responseTimeoutMarginMs, MAX_TIMER_MS),
  );
  if (responseTimeoutMs < readTimeoutMs) {
    bad(
      'responseTimeout',
      `responseTimeout (${responseTimeoutMs} ms) must not be less than readTimeout (${readTimeoutMs} ms)`,
      'raise responseTimeout or leave it unset (default readTimeout + 20000)',
    );
  }
  const maxEnvelopeSize = count('maxEnvelopeSize', o.maxEnvelopeSize, DEFAULTS.maxEnvelopeSize, 8192);
  const maxConcurrentRequests = count(
    'maxConcurrentRequests',
    o.maxConcurrentRequests,
    WINRM_DEFAULTS.maxConcurrentRequests,
  );
  const locale = o.locale ?? DEFAULTS.locale;
  if (typeof locale !== 'string' || !/^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(locale)) {
    bad('locale', `Option locale must be a language tag such as 'en-US', got ${JSON.stringify(locale)}`);
  }
  return {
    url,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : https ? 443 : 80,
    https,
    tls: resolveTls(o.tls),
    proxy: resolveProxy(o.proxy),
    readTimeoutMs,
    responseTimeoutMs,
    maxResponseBytes: count('maxResponseBytes', o.maxResponseBytes, 4 * maxEnvelopeSize),
    maxConcurrentRequests,
    operationTimeoutMs,
    maxEnvelopeSize,
    locale,
    maxCommandsPerShell: count(
      'maxCommandsPerShell',
      o.maxCommandsPerShell,
      WINRM_DEFAULTS.maxCommandsPerShell,
    ),
    maxShells: count('maxShells', o.maxShells, Math.max(WINRM_DEFAULTS.maxShells, maxConcurrentRequests)),
    cleanupTimeoutMs: durationMs('cleanupTimeout', o.cleanupTimeout, WINRM_DEFAULTS.cleanupTimeoutMs),
    verify: flag('verify', o.verify, false),
    budget: budgetOf(o.budget),
  };
}
