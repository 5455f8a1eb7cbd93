/**
 * Options of the mock WinRM endpoint, their defaults (Windows Server 2012+ defaults unless noted) and the one
 * function that resolves and checks them.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAccount } from '../account.ts';
import { InvalidArgumentError } from '../errors.ts';
import { type KeytabEntry, loadKeytab } from './auth/kerberos/keytab.ts';
import type { AuthUser, MockUser } from './auth/types.ts';
import type { CommandHost } from './hosts/types.ts';
import type { MockResourceProvider } from './resources/types.ts';

/** An account the mock accepts: see {@link MockUser} in auth/types.ts. */
export type { MockUser } from './auth/types.ts';

/**
 * A configured user with its domain filled in: `CORP\alice` and `alice@corp.example` are split with the shared
 * account parser, so the mock's users carry a domain as Windows' do.
 * @throws InvalidArgumentError (argument `users`) for a name the parser refuses or a domain given twice.
 */
export function normalizeMockUser(u: MockUser, machineName: string): AuthUser {
  const user = normalizeName(u, machineName);
  if (u.kerberos === undefined) return user;
  if (!/^[^@]+@[^@]+$/.test(u.kerberos)) {
    throw new InvalidArgumentError(
      `Mock user "${u.name}": kerberos must be a principal NAME@REALM, got "${u.kerberos}"`,
      {
        argument: 'users',
      },
    );
  }
  return { ...user, kerberos: u.kerberos };
}

function normalizeName(u: MockUser, machineName: string): Required<Omit<MockUser, 'kerberos'>> {
  if (!u.name || u.name.includes(':')) {
    throw new InvalidArgumentError(`Mock user names must be non-empty without ":", got "${u.name}"`, {
      argument: 'users',
    });
  }
  if (!/[\\@]/.test(u.name)) {
    return { name: u.name, password: u.password, domain: u.domain ?? machineName };
  }
  let account: ReturnType<typeof parseAccount>;
  try {
    account = parseAccount(u.name);
  } catch (e) {
    throw new InvalidArgumentError(`Mock option users: ${(e as Error).message}`, {
      argument: 'users',
      remedy: 'write it as NAME, .\\NAME, DOMAIN\\NAME or NAME@FULL.DOMAIN',
    });
  }
  if (account.kind === 'local') {
    return { name: account.user, password: u.password, domain: u.domain ?? machineName };
  }
  if (u.domain !== undefined) {
    throw new InvalidArgumentError(
      `Mock user "${u.name}" names its domain twice (in name and in domain "${u.domain}")`,
      { argument: 'users', remedy: 'give the domain either in the name or in the domain field' },
    );
  }
  const domain =
    account.kind === 'upn' ? (account.domain ?? '').split('.')[0]!.toUpperCase() : (account.domain ?? '');
  return { name: account.user, password: u.password, domain };
}

/** Which authentication schemes the service offers (`winrm/config/service/Auth`). */
export interface MockAuthOptions {
  /** Basic over HTTPS, or over HTTP with allowUnencrypted. Default: false (as Windows). */
  basic?: boolean;
  /**
   * Negotiate with NTLM (connection-bound, with [MS-WSMV] message encryption, so it works with
   * allowUnencrypted false); Kerberos inside Negotiate too when `kerberos` is set, else Kerberos tokens are
   * refused. Default: false.
   */
  negotiate?: boolean;
  /**
   * Extended Protection for Negotiate over HTTPS (CbtHardeningLevel): 'strict' requires matching
   * tls-server-end-point channel bindings; 'none' ignores them. Default: 'none'.
   */
  channelBinding?: 'strict' | 'none';
  /**
   * Kerberos (`winrm/config/service/Auth/Kerberos`): with a keytab the mock offers the `Kerberos` scheme and,
   * when `negotiate` is on, accepts Kerberos inside `Negotiate` (raw or SPNEGO). The acceptor is the mock's own
   * (src/mock/auth/kerberos/, no GSSAPI). Default: undefined (no Kerberos; its tokens are refused).
   */
  kerberos?: MockKerberosOptions;
}

/** The mock's Kerberos acceptor. */
export interface MockKerberosOptions {
  /** Service keys: a keytab file path or its bytes (MIT format 0x502, e.g. from `kadmin ktadd`). Required. */
  keytab: string | Buffer;
  /** Allowed clock difference between a client's authenticator and the mock. Default: 300,000 ms (5 minutes). */
  maxClockSkewMs?: number;
}

/** `winrm/config/winrs` and service quotas. */
export interface MockQuotas {
  /** MaxShellsPerUser. Default: 30. */
  maxShellsPerUser?: number;
  /**
   * MaxConcurrentOperationsPerUser. Create and Command each take one; only Delete of the shell gives them back
   * (a Signal terminate does not, [MS-WSMV] note 118). Default: 1500.
   */
  maxConcurrentOperationsPerUser?: number;
  /** Commands running at once in one shell. Default: unlimited. */
  maxConcurrentCommandsPerShell?: number;
  /** MaxMemoryPerShellMB, enforced on what hosts report through `reportMemory`. Default: 1024. */
  maxMemoryPerShellMB?: number;
  /** Winrs IdleTimeout in ms; a shell without requests for this long is deleted. Default: 7200000. */
  idleTimeoutMs?: number;
  /** MaxTimeoutms: the cap on (and default of) a request's OperationTimeout. Default: 60000. */
  maxTimeoutMs?: number;
}

/**
 * Limits of the HTTP listener, so that no client can make the mock hold unbounded memory or sockets. Windows'
 * HTTP.sys values are named; the mock's defaults are shorter where a CI run is better served by failing fast.
 */
export interface MockHttpLimits {
  /** An idle keep-alive connection is closed after this long. Default: 120,000 ms (HTTP.sys IdleConnectionTimeout). */
  idleTimeoutMs?: number;
  /**
   * A request head (request line and headers) must be complete this long after the connection opened or the
   * previous request ended, else the connection is closed without an answer. Default: 30,000 ms (HTTP.sys
   * HeaderWaitTimeout: 120 s). Deadlines are checked every min(30 s, a quarter of this), so they fire late by up
   * to that much. Must not exceed requestTimeoutMs.
   */
  headersTimeoutMs?: number;
  /** A whole request, head and body, must arrive within this. Default: 120,000 ms (HTTP.sys EntityBody: 120 s). */
  requestTimeoutMs?: number;
  /**
   * Requests a client may pipeline ahead of the one being handled on one connection; beyond it the mock stops
   * reading that connection until it catches up. Default: 32.
   */
  maxPipelinedRequests?: number;
}

/** Where commands run: a built-in name or your own host (e.g. `scriptedHost(...)`). */
export type HostOption = 'builtins' | 'local' | CommandHost;

export interface MockServerOptions {
  /** TCP port; 0 picks a free one. Default: 0. */
  port?: number;
  /** Listen address. Default: '127.0.0.1'. */
  host?: string;
  /** URL path of the endpoint. Default: '/wsman'. */
  path?: string;
  /** Serve HTTPS. Default: false. */
  https?: boolean;
  /** PEM key and certificate for HTTPS. Default: a self-signed RSA certificate generated at start. */
  tls?: { key: string; cert: string };
  /** Accepted accounts. Default: `[{ name: 'vagrant', password: 'vagrant' }]` (the Vagrant box convention). */
  users?: MockUser[];
  /** Offered authentication schemes. Default: `{ basic: false }`, so enable Basic for Basic clients. */
  auth?: MockAuthOptions;
  /**
   * `winrm/config/service AllowUnencrypted`. When false, unencrypted messages over plain HTTP are refused with 401
   * as Windows refuses them: Basic over HTTP then needs this set. Default: false.
   */
  allowUnencrypted?: boolean;
  /** MaxEnvelopeSizekb x 1024: larger requests get HTTP 413. Default: 512000. */
  maxEnvelopeSize?: number;
  quotas?: MockQuotas;
  /** What runs commands. Default: 'builtins'. */
  commandHost?: HostOption;
  /** Machine name: `hostname`, `whoami`, COMPUTERNAME and the certificate CN. Default: 'WIN-MOCK'. */
  machineName?: string;
  /**
   * Extra WS-Management resource providers (src/mock/resources/types.ts), consulted in order before the built-in
   * CIM provider. Default: none.
   */
  resourceProviders?: readonly MockResourceProvider[];
  /** Idle lifetime of an Enumerate context, in ms: a Pull after it faults InvalidEnumerationContext. Default: 60000. */
  enumerationContextTimeoutMs?: number;
  /** Identify's ProductVersion OS part. Default: '10.0.17763' (Windows Server 2019). */
  productVersion?: string;
  /**
   * Directory standing for the Windows drives: `C:\x` is `<fileRoot>/C/x`. Used by the builtins host.
   * Default: a fresh temporary directory, removed on close.
   */
  fileRoot?: string;
  /** Output a command may queue before its host is paused (back-pressure). Default: 4 MiB. */
  outputBufferBytes?: number;
  /** HTTP listener limits (timeouts in ms, pipelining). Default: see {@link MockHttpLimits}. */
  http?: MockHttpLimits;
}

export interface ResolvedOptions {
  port: number;
  host: string;
  path: string;
  https: boolean;
  tls: { key: string; cert: string } | undefined;
  users: AuthUser[];
  auth: {
    basic: boolean;
    negotiate: boolean;
    channelBinding: 'strict' | 'none';
    /** The keytab read at start (its keys), with the skew. */
    kerberos: (Required<MockKerberosOptions> & { keys: KeytabEntry[] }) | undefined;
  };
  allowUnencrypted: boolean;
  maxEnvelopeSize: number;
  quotas: Required<Omit<MockQuotas, 'maxConcurrentCommandsPerShell'>> & {
    maxConcurrentCommandsPerShell: number | undefined;
  };
  commandHost: HostOption;
  machineName: string;
  productVersion: string;
  fileRoot: string | undefined;
  outputBufferBytes: number;
  http: Required<MockHttpLimits>;
}

/** Default option values, exported so tests and docs can refer to them. */
export const MOCK_DEFAULTS = {
  port: 0,
  host: '127.0.0.1',
  path: '/wsman',
  users: [{ name: 'vagrant', password: 'vagrant' }],
  maxEnvelopeSize: 512_000,
  maxShellsPerUser: 30,
  maxConcurrentOperationsPerUser: 1500,
  maxMemoryPerShellMB: 1024,
  idleTimeoutMs: 7_200_000,
  maxTimeoutMs: 60_000,
  machineName: 'WIN-MOCK',
  productVersion: '10.0.17763',
  outputBufferBytes: 4 * 1024 * 1024,
  httpIdleTimeoutMs: 120_000,
  httpHeadersTimeoutMs: 30_000,
  httpRequestTimeoutMs: 120_000,
  httpMaxPipelinedRequests: 32,
  kerberosMaxClockSkewMs: 300_000,
} as const;

function positiveInt(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(`Mock option ${name} must be an integer >= ${min}, got ${value}`, {
      argument: name,
    });
  }
  return value;
}

export function resolveOptions(o: MockServerOptions = {}): ResolvedOptions {
  const port = positiveInt('port', o.port, MOCK_DEFAULTS.port, 0);
  if (port > 65535)
    throw new InvalidArgumentError(`Mock option port must be <= 65535, got ${port}`, { argument: 'port' });
  const path = o.path ?? MOCK_DEFAULTS.path;
  if (!path.startsWith('/')) {
    throw new InvalidArgumentError(`Mock option path must start with "/", got "${path}"`, {
      argument: 'path',
    });
  }
  const machineName = o.machineName ?? MOCK_DEFAULTS.machineName;
  const users = (o.users ?? (MOCK_DEFAULTS.users as readonly MockUser[])).map((u) =>
    normalizeMockUser(u, machineName),
  );
  const channelBinding = o.auth?.channelBinding ?? 'none';
  if (channelBinding !== 'strict' && channelBinding !== 'none') {
    throw new InvalidArgumentError(`Mock option auth.channelBinding must be 'strict' or 'none'`, {
      argument: 'auth.channelBinding',
    });
  }
  if (o.tls && !o.https) {
    throw new InvalidArgumentError('Mock option tls needs https: true', { argument: 'tls' });
  }
  const host = o.commandHost ?? 'builtins';
  if (typeof host === 'string' && host !== 'builtins' && host !== 'local') {
    throw new InvalidArgumentError(
      `Mock option commandHost must be 'builtins', 'local' or a host, got "${host}"`,
      {
        argument: 'commandHost',
      },
    );
  }
  const q = o.quotas ?? {};
  const h = o.http ?? {};
  const http = {
    idleTimeoutMs: positiveInt('http.idleTimeoutMs', h.idleTimeoutMs, MOCK_DEFAULTS.httpIdleTimeoutMs),
    headersTimeoutMs: positiveInt(
      'http.headersTimeoutMs',
      h.headersTimeoutMs,
      MOCK_DEFAULTS.httpHeadersTimeoutMs,
    ),
    requestTimeoutMs: positiveInt(
      'http.requestTimeoutMs',
      h.requestTimeoutMs,
      MOCK_DEFAULTS.httpRequestTimeoutMs,
    ),
    maxPipelinedRequests: positiveInt(
      'http.maxPipelinedRequests',
      h.maxPipelinedRequests,
      MOCK_DEFAULTS.httpMaxPipelinedRequests,
    ),
  };
  if (http.headersTimeoutMs > http.requestTimeoutMs) {
    throw new InvalidArgumentError(
      `Mock option http.headersTimeoutMs (${http.headersTimeoutMs}) must not exceed http.requestTimeoutMs (${http.requestTimeoutMs})`,
      { argument: 'http.headersTimeoutMs' },
    );
  }
  return {
    port,
    host: o.host ?? MOCK_DEFAULTS.host,
    path,
    https: o.https ?? false,
    tls: o.tls,
    users,
    auth: {
      basic: o.auth?.basic ?? false,
      negotiate: o.auth?.negotiate ?? false,
      channelBinding,
      kerberos: resolveKerberos(o.auth?.kerberos),
    },
    allowUnencrypted: o.allowUnencrypted ?? false,
    maxEnvelopeSize: positiveInt('maxEnvelopeSize', o.maxEnvelopeSize, MOCK_DEFAULTS.maxEnvelopeSize, 8192),
    quotas: {
      maxShellsPerUser: positiveInt(
        'quotas.maxShellsPerUser',
        q.maxShellsPerUser,
        MOCK_DEFAULTS.maxShellsPerUser,
      ),
      maxConcurrentOperationsPerUser: positiveInt(
        'quotas.maxConcurrentOperationsPerUser',
        q.maxConcurrentOperationsPerUser,
        MOCK_DEFAULTS.maxConcurrentOperationsPerUser,
      ),
      maxConcurrentCommandsPerShell:
        q.maxConcurrentCommandsPerShell === undefined
          ? undefined
          : positiveInt('quotas.maxConcurrentCommandsPerShell', q.maxConcurrentCommandsPerShell, 1),
      maxMemoryPerShellMB: positiveInt(
        'quotas.maxMemoryPerShellMB',
        q.maxMemoryPerShellMB,
        MOCK_DEFAULTS.maxMemoryPerShellMB,
      ),
      idleTimeoutMs: positiveInt('quotas.idleTimeoutMs', q.idleTimeoutMs, MOCK_DEFAULTS.idleTimeoutMs),
      maxTimeoutMs: positiveInt('quotas.maxTimeoutMs', q.maxTimeoutMs, MOCK_DEFAULTS.maxTimeoutMs),
    },
    commandHost: host,
    machineName,
    productVersion: o.productVersion ?? MOCK_DEFAULTS.productVersion,
    fileRoot: o.fileRoot,
    outputBufferBytes: positiveInt('outputBufferBytes', o.outputBufferBytes, MOCK_DEFAULTS.outputBufferBytes),
    http,
  };
}

function resolveKerberos(
  k: MockKerberosOptions | undefined,
): (Required<MockKerberosOptions> & { keys: KeytabEntry[] }) | undefined {
  if (k === undefined) return undefined;
  if (typeof k.keytab !== 'string' && !Buffer.isBuffer(k.keytab)) {
    throw new InvalidArgumentError('Mock option auth.kerberos.keytab must be a keytab path or its bytes', {
      argument: 'auth.kerberos.keytab',
    });
  }
  const maxClockSkewMs = positiveInt(
    'auth.kerberos.maxClockSkewMs',
    k.maxClockSkewMs,
    MOCK_DEFAULTS.kerberosMaxClockSkewMs,
    0,
  );
  // Read now, so a wrong keytab fails before the mock creates anything.
  return { keytab: k.keytab, maxClockSkewMs, keys: loadKeytab(k.keytab) };
}

/** A fresh directory name for the default file area. */
export function defaultFileRootPrefix(): string {
  return join(tmpdir(), 'winrm-mock-');
}
