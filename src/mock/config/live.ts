/**
 * The mock's live configuration: the settings `winrm/config` shows and Put changes. The server's parts read
 * them from the one mutable {@link ResolvedOptions} object at request time (the auth gate, the HTTP layer, the
 * dispatcher, the shell store), so a Put takes effect on the next request, as on Windows.
 */
import type { ResolvedOptions } from '../options.ts';

/** One listener as `winrm e winrm/config/listener` shows it. */
export interface ConfigListener {
  /** 'HTTP' or 'HTTPS'. */
  transport: 'HTTP' | 'HTTPS';
  /** Listen address as WinRM writes it (`*` for every address). */
  address: string;
  port: number;
  /** Hostname (HTTPS listeners carry the certificate's name; empty for HTTP). */
  hostname: string;
  /** URL path without slashes, e.g. `wsman`. */
  urlPrefix: string;
  /** SHA-1 thumbprint, upper-case hex (HTTPS only; empty for HTTP). */
  certificateThumbprint: string;
  /** Addresses the listener listens on. */
  listeningOn: string[];
}

/** What the config provider reads and changes. */
export interface LiveConfig {
  /** The mutable settings object the server's parts read live. */
  readonly settings: ResolvedOptions;
  /** The listeners the mock serves (computed when asked, the port is known after listen). */
  listeners(): ConfigListener[];
}

/**
 * Windows' factory defaults that `winrm invoke Restore winrm/Config @{}` brings back (Windows Server 2012+:
 * Basic false, Negotiate/Kerberos true, AllowUnencrypted false, MaxEnvelopeSizekb 500, MaxTimeoutms 60000,
 * MaxShellsPerUser 30, MaxMemoryPerShellMB 1024, MaxConcurrentOperationsPerUser 1500, IdleTimeout 7200000; the
 * same figures as the WSManDsc resource's default table and `winrm get winrm/config` on a fresh install).
 */
export const WINDOWS_CONFIG_DEFAULTS = {
  allowUnencrypted: false,
  basic: false,
  negotiate: true,
  maxEnvelopeSizekb: 500,
  maxTimeoutMs: 60_000,
  maxShellsPerUser: 30,
  maxMemoryPerShellMB: 1024,
  maxConcurrentOperationsPerUser: 1500,
  idleTimeoutMs: 7_200_000,
} as const;

/** Restore Windows' defaults in place (listeners are kept: the mock has one socket and keeps serving it). */
export function restoreDefaults(s: ResolvedOptions): void {
  const d = WINDOWS_CONFIG_DEFAULTS;
  s.allowUnencrypted = d.allowUnencrypted;
  s.auth.basic = d.basic;
  s.auth.negotiate = d.negotiate;
  s.maxEnvelopeSize = d.maxEnvelopeSizekb * 1024;
  s.quotas.maxTimeoutMs = d.maxTimeoutMs;
  s.quotas.maxShellsPerUser = d.maxShellsPerUser;
  s.quotas.maxMemoryPerShellMB = d.maxMemoryPerShellMB;
  s.quotas.maxConcurrentOperationsPerUser = d.maxConcurrentOperationsPerUser;
  s.quotas.idleTimeoutMs = d.idleTimeoutMs;
}
