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
  /** The listener table as `winrm e winrm/config/listener` shows it (the served port is read when asked). */
  listeners(): ConfigListener[];
  /** The listener table itself (create, delete and Restore change it); absent: a fixed table. */
  readonly listenerTable?: ListenerTable;
}

/** What the mock knows about the socket it serves, read when the table is shown. */
export interface ServedSocket {
  https: boolean;
  /** Bound address (`0.0.0.0` / `::` for every address). */
  host: string;
  /** The listening port (known after listen). */
  port: number;
  /** URL path, e.g. `/wsman`. */
  path: string;
  machineName: string;
  /** SHA-1 thumbprint of the served certificate (upper-case hex); undefined without TLS. */
  sha1Thumbprint: string | undefined;
}

interface ListenerRecord extends Omit<ConfigListener, 'port' | 'listeningOn'> {
  /** undefined: the served socket's port (this is the listener the mock serves). */
  port: number | undefined;
}

/**
 * The listener table. At start it holds what Windows has after `winrm quickconfig` plus
 * `winrm create winrm/config/Listener?Address=*+Transport=HTTPS @{Hostname="<name>";CertificateThumbprint="<sha1>"}`:
 * an HTTP and an HTTPS listener, Address `*`, URLPrefix `wsman`. The one of the mock's scheme shows the served
 * port; the other one shows Windows' default port (5985 / 5986) and is not served (the mock has one socket).
 * The HTTPS listener carries the served certificate's thumbprint when the mock has TLS (empty otherwise).
 * Created listeners are listed but not served either; deleting the served one leaves the socket open.
 */
export class ListenerTable {
  // Built on first use: the server knows its certificate and port only after it starts listening.
  private table: ListenerRecord[] | undefined;
  constructor(private readonly served: () => ServedSocket) {}

  private get records(): ListenerRecord[] {
    this.table ??= this.initial();
    return this.table;
  }

  private initial(): ListenerRecord[] {
    const s = this.served();
    const prefix = s.path.replace(/^\/+|\/+$/g, '');
    return (['HTTP', 'HTTPS'] as const).map((transport) => ({
      address: '*',
      transport,
      port: (transport === 'HTTPS') === s.https ? undefined : transport === 'HTTPS' ? 5986 : 5985,
      hostname: transport === 'HTTPS' ? s.machineName : '',
      urlPrefix: prefix,
      certificateThumbprint: transport === 'HTTPS' ? (s.sha1Thumbprint ?? '') : '',
    }));
  }

  list(): ConfigListener[] {
    const s = this.served();
    const any = s.host === '0.0.0.0' || s.host === '::';
    const listeningOn = [any ? '127.0.0.1' : s.host];
    return this.records.map((r) => ({ ...r, port: r.port ?? s.port, listeningOn }));
  }

  /** The SHA-1 thumbprint of the certificate the mock has (upper-case hex), undefined without TLS. */
  certificateThumbprint(): string | undefined {
    return this.served().sha1Thumbprint;
  }

  /** Index of the listener with this Address and Transport (Address compared case-insensitively), or -1. */
  indexOf(address: string, transport: string): number {
    return this.records.findIndex(
      (r) => r.address.toLowerCase() === address.toLowerCase() && r.transport === transport.toUpperCase(),
    );
  }

  add(l: Omit<ConfigListener, 'listeningOn'>): void {
    this.records.push({ ...l });
  }

  /** Change the listener at `index` in place (a Put); the served listener keeps the served port unless changed. */
  replace(index: number, l: Omit<ConfigListener, 'listeningOn'>): void {
    const old = this.records[index]!;
    const port = old.port === undefined && l.port === this.served().port ? undefined : l.port;
    this.records[index] = { ...l, port };
  }

  remove(index: number): void {
    this.records.splice(index, 1);
  }

  /**
   * Windows' default: no listener ("By default, no WinRM listener is configured", Microsoft Learn, "Installation
   * and configuration for Windows Remote Management"), the state `winrm invoke Restore winrm/Config @{}` returns
   * to; `winrm quickconfig` / `winrm create` make them again. The mock's socket keeps serving.
   */
  clear(): void {
    this.table = [];
  }
}

/** A live config over `settings` whose listener table describes `served`. */
export function createLiveConfig(settings: ResolvedOptions, served: () => ServedSocket): LiveConfig {
  const table = new ListenerTable(served);
  return { settings, listeners: () => table.list(), listenerTable: table };
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

/** Restore Windows' defaults of the settings in place (the listener table: {@link ListenerTable.clear}). */
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
