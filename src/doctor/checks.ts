/**
 * `doctor`: the second seed's WinRM troubleshooting checklist, run in order against one endpoint. Each step says
 * what it found and, when it fails, the seed's remedy command. A step that a failed earlier step makes pointless
 * is reported as 'skip' (the seed: "If you cannot get the 'Test WS-Man…' step to work, none of the steps
 * following will work either"). See docs/doctor.md.
 */
import { lookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, connect as netConnect } from 'node:net';
import { type ConnectionOptions as TlsConnectOptions, connect as tlsConnect } from 'node:tls';
import { connect } from '../connect.ts';
import { AuthenticationError, WinRmError, WsmanFaultError } from '../errors.ts';
import { startTls } from '../http/tls.ts';
import { type ConnectionOptions, resolveWinRmInternal } from '../options/index.ts';
import type { WinRmInternalConnection } from '../winrm/connection.ts';
import type { ResourceInstance } from '../wsman/actions/transfer.ts';

export type DoctorStatus = 'pass' | 'warn' | 'fail' | 'skip';

export type DoctorStepId =
  | 'dns'
  | 'tcp'
  | 'tls'
  | 'identify'
  | 'schemes'
  | 'authenticate'
  | 'config'
  | 'listeners'
  | 'service'
  | 'command';

export interface DoctorStep {
  id: DoctorStepId;
  title: string;
  status: DoctorStatus;
  detail: string;
  /** What to run or change on the Windows host (or in our options) when the step did not pass. */
  remedy?: string;
}

export interface DoctorReport {
  /** The endpoint checked (no credentials). */
  endpoint: string;
  steps: DoctorStep[];
  /** The worst status among the steps ('skip' counts as 'pass'). */
  worst: 'pass' | 'warn' | 'fail';
}

export interface DoctorOptions extends ConnectionOptions {
  /** Deadline of each network step (DNS, TCP, TLS), in ms. Default: 10000. */
  stepTimeoutMs?: number;
  /** Cancels the checks. Default: none. */
  signal?: AbortSignal;
}

/** Defaults of {@link DoctorOptions} and the "sane value" floors of the winrm/config check. */
export const DOCTOR_DEFAULTS = {
  stepTimeoutMs: 10_000,
  /** winrm/config/winrs MaxMemoryPerShellMB below this warns (Windows' default is 1024 since WinRM 3.0). */
  minMaxMemoryPerShellMB: 150,
  /** winrm/config MaxEnvelopeSizekb below this warns (Windows' default is 500; 150 was WinRM 2.0's). */
  minMaxEnvelopeSizekb: 150,
  /** winrm/config/winrs MaxShellsPerUser below this warns (Windows' default is 30). */
  minMaxShellsPerUser: 5,
} as const;

const TITLES: Record<DoctorStepId, string> = {
  dns: 'Name resolution',
  tcp: 'TCP connect',
  tls: 'TLS certificate',
  identify: 'Unauthenticated Identify',
  schemes: 'Authentication schemes offered (WWW-Authenticate)',
  authenticate: 'Authenticated Identify (winrm id)',
  config: 'winrm/config settings',
  listeners: 'Listeners (winrm e winrm/config/listener)',
  service: 'WinRM service (winrm get wmicimv2/Win32_Service?Name=WinRM)',
  command: 'Test command',
};

const QUICKCONFIG = 'on the host, from an elevated prompt: winrm quickconfig';

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

function tcpProbe(host: string, port: number, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer from ${host}:${port} within ${ms} ms (filtered by a firewall?)`));
    }, ms);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve();
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

interface PeerFacts {
  sha1: string;
  sha256: string;
  subject: string;
  validTo: string;
  authorized: boolean;
  authorizationError: string | undefined;
}

function tlsProbe(host: string, port: number, ca: TlsConnectOptions['ca'], ms: number): Promise<PeerFacts> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({
      host,
      port,
      // SNI carries names only (RFC 6066 3), never an address.
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ca: ca as TlsConnectOptions['ca'],
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no TLS handshake with ${host}:${port} within ${ms} ms`));
    }, ms);
    s.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = s.getPeerCertificate();
      const facts: PeerFacts = {
        // Windows (certlm, `winrm e winrm/config/listener`) shows the SHA-1 thumbprint as upper-case hex.
        sha1: String(cert.fingerprint ?? '')
          .replace(/:/g, '')
          .toUpperCase(),
        sha256: String(cert.fingerprint256 ?? '')
          .replace(/:/g, '')
          .toUpperCase(),
        subject: cert.subject?.CN ? `CN=${cert.subject.CN}` : 'no CN',
        validTo: cert.valid_to ?? '',
        authorized: s.authorized,
        authorizationError: s.authorizationError ? String(s.authorizationError) : undefined,
      };
      s.destroy();
      resolve(facts);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/**
 * The schemes an unauthenticated POST is challenged with: each WWW-Authenticate header's first token, in the
 * server's order (Windows: `Negotiate`, `Kerberos`, `Basic realm="WSMAN"`, ... as winrm/config/service/auth enables
 * them). No credentials are sent; over HTTPS the certificate was judged by the TLS step, so it is not re-checked.
 */
function challengeProbe(url: URL, ms: number): Promise<{ status: number; schemes: string[] }> {
  return new Promise((resolve, reject) => {
    const body = Buffer.from('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"/>');
    const options = {
      method: 'POST',
      headers: { 'Content-Type': 'application/soap+xml;charset=UTF-8', 'Content-Length': body.length },
      agent: false as const,
      timeout: ms,
    };
    const done = (res: import('node:http').IncomingMessage) => {
      const schemes: string[] = [];
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
        if (res.rawHeaders[i]!.toLowerCase() !== 'www-authenticate') continue;
        for (const part of res.rawHeaders[i + 1]!.split(/,\s*(?=[A-Za-z][\w-]*(?:\s|$))/)) {
          const scheme = part.trim().split(/\s+/)[0];
          if (scheme) schemes.push(scheme);
        }
      }
      res.resume();
      resolve({ status: res.statusCode ?? 0, schemes });
    };
    const req =
      url.protocol === 'https:'
        ? httpsRequest(
            url,
            { ...options, rejectUnauthorized: false, checkServerIdentity: () => undefined },
            done,
          )
        : httpRequest(url, options, done);
    req.once('timeout', () => req.destroy(new Error(`no answer within ${ms} ms`)));
    req.once('error', reject);
    req.end(body);
  });
}

/** The WWW-Authenticate schemes that carry our mechanism, and the winrm/config/service/auth name to enable. */
function schemesFor(auth: string): { accepted: string[]; setting: string } {
  if (auth === 'basic') return { accepted: ['basic'], setting: 'Basic' };
  if (auth === 'kerberos') return { accepted: ['negotiate', 'kerberos'], setting: 'Kerberos' };
  // NTLM travels under Negotiate on WinRM ([MS-WSMV] 2.2.9.1); an `NTLM` challenge works as well.
  return { accepted: ['negotiate', 'ntlm'], setting: 'Negotiate' };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function sub(inst: ResourceInstance | undefined, name: string): ResourceInstance['properties'] | undefined {
  const v = inst?.properties[name];
  return v && typeof v === 'object' && !Array.isArray(v) ? v.properties : undefined;
}

/** Run the checklist. Never throws for a failed check (only for invalid options); read the report. */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const { stepTimeoutMs = DOCTOR_DEFAULTS.stepTimeoutMs, signal, ...connOptions } = options;
  const cfg = resolveWinRmInternal(connOptions);
  const endpoint = cfg.url.href;
  const steps: DoctorStep[] = [];
  const add = (id: DoctorStepId, status: DoctorStatus, detail: string, remedy?: string): void => {
    steps.push({ id, title: TITLES[id], status, detail, ...(remedy ? { remedy } : {}) });
  };
  const stop = (after: DoctorStepId): void => {
    const order = Object.keys(TITLES) as DoctorStepId[];
    for (const id of order.slice(order.indexOf(after) + 1)) {
      add(id, 'skip', `not run: the "${TITLES[after]}" step failed`);
    }
  };
  const finish = (): DoctorReport => {
    const worst = steps.some((s) => s.status === 'fail')
      ? 'fail'
      : steps.some((s) => s.status === 'warn')
        ? 'warn'
        : 'pass';
    return { endpoint, steps, worst };
  };

  // 1. Name resolution.
  try {
    const addrs = await withDeadline(lookup(cfg.host, { all: true }), stepTimeoutMs, 'DNS lookup');
    add('dns', 'pass', `${cfg.host} -> ${addrs.map((a) => a.address).join(', ')}`);
  } catch (err) {
    add(
      'dns',
      'fail',
      `${cfg.host} does not resolve: ${message(err)}`,
      'check the host name (NetBIOS name, FQDN or IP address) and the DNS suffix; try the IP address',
    );
    stop('dns');
    return finish();
  }
  signal?.throwIfAborted();

  // 2. TCP to the port.
  try {
    await tcpProbe(cfg.host, cfg.port, stepTimeoutMs);
    add('tcp', 'pass', `${cfg.host}:${cfg.port} accepts connections`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    add(
      'tcp',
      'fail',
      `cannot connect to ${cfg.host}:${cfg.port}${code ? ` (${code})` : ''}: ${message(err)}`,
      `${QUICKCONFIG} (starts WinRM, creates the listener and opens the firewall); or: sc config "WinRM" ` +
        `start= auto, net start WinRM, winrm create winrm/config/Listener?Address=*+Transport=${cfg.https ? 'HTTPS' : 'HTTP'}, ` +
        `and open TCP ${cfg.port} in the firewall`,
    );
    stop('tcp');
    return finish();
  }
  signal?.throwIfAborted();

  // 3. TLS (HTTPS only).
  if (!cfg.https) {
    add('tls', 'skip', 'plain HTTP endpoint: no certificate to check');
  } else {
    try {
      const peer = await tlsProbe(cfg.host, cfg.port, cfg.tls.ca as TlsConnectOptions['ca'], stepTimeoutMs);
      const shown = `certificate ${peer.subject}, SHA-1 thumbprint ${peer.sha1}, valid to ${peer.validTo}`;
      const pin = cfg.tls.fingerprint;
      // The verdict is the client's own check (src/http/tls.ts): CA or pin, the hostname unless
      // verifyHostname is false, the insecure opt-in; the probe above only collects what to show.
      let refusal: Error | undefined;
      try {
        const t = startTls(cfg.host, cfg.port, cfg.tls);
        try {
          await withDeadline(t.ready, stepTimeoutMs, 'TLS handshake');
        } finally {
          t.socket.destroy();
        }
      } catch (err) {
        refusal = err instanceof Error ? err : new Error(String(err));
      }
      const nameNote = cfg.tls.verifyHostname ? '' : '; hostname not checked (verifyHostname: false)';
      if (pin && refusal && (pin.algorithm === 'sha1' ? peer.sha1 : peer.sha256) !== pin.hex) {
        const actual = pin.algorithm === 'sha1' ? peer.sha1 : peer.sha256;
        add(
          'tls',
          'fail',
          `${shown}; the pinned ${pin.algorithm.toUpperCase()} thumbprint ${pin.hex} differs (served: ${actual})`,
          `pin the served certificate (--fingerprint ${peer.sha1}) if it is the host's, or point the listener ` +
            `at the right one: winrm set winrm/config/Listener?Address=*+Transport=HTTPS ` +
            `@{CertificateThumbprint="${pin.hex}"}`,
        );
        stop('tls');
        return finish();
      }
      if (
        refusal &&
        /ALTNAME|hostname|IP: .* is not in the cert/i.test(
          `${(refusal as NodeJS.ErrnoException).code} ${refusal.message}`,
        )
      ) {
        add(
          'tls',
          'fail',
          `${shown}; it is not issued to ${cfg.host}: ${refusal.message}`,
          `connect by a name the certificate carries, or make the listener use a certificate for ${cfg.host}: ` +
            `winrm set winrm/config/Listener?Address=*+Transport=HTTPS @{Hostname="${cfg.host}"; ` +
            `CertificateThumbprint="..."}; or, knowingly, tls.verifyHostname: false`,
        );
        stop('tls');
        return finish();
      }
      if (!refusal && pin) {
        add('tls', 'pass', `${shown}; matches the pinned thumbprint${nameNote}`);
      } else if (!refusal && cfg.tls.insecureAcceptAnyCertificate && !peer.authorized) {
        add(
          'tls',
          'warn',
          `${shown}; not trusted (${peer.authorizationError}), accepted only because of --insecure`,
          `pin it instead: --fingerprint ${peer.sha1}`,
        );
      } else if (!refusal) {
        add('tls', 'pass', `${shown}; trusted${nameNote}`);
      } else {
        add(
          'tls',
          'fail',
          `${shown}; not trusted: ${refusal.message}`,
          `trust its CA with --ca FILE or pin it with --fingerprint ${peer.sha1}; on the host the listener is made ` +
            `with winrm create winrm/config/Listener?Address=*+Transport=HTTPS @{Hostname="${cfg.host}"; ` +
            `CertificateThumbprint="${peer.sha1}"}`,
        );
        stop('tls');
        return finish();
      }
    } catch (err) {
      add(
        'tls',
        'fail',
        `TLS handshake with ${cfg.host}:${cfg.port} failed: ${message(err)}`,
        `the port may not be an HTTPS listener: winrm create winrm/config/Listener?Address=*+Transport=HTTPS ` +
          `@{Hostname="${cfg.host}"; CertificateThumbprint="..."}`,
      );
      stop('tls');
      return finish();
    }
  }
  signal?.throwIfAborted();

  const conn = (await connect({ ...connOptions, verify: false })) as WinRmInternalConnection;
  const call = { signal };
  try {
    // 4. Unauthenticated Identify.
    try {
      const id = await conn.identify({ ...call, authenticate: false });
      add('identify', 'pass', `${id.productVendor}, ${id.productVersion}`);
    } catch (err) {
      add(
        'identify',
        'fail',
        `the endpoint does not answer WS-Management Identify: ${message(err)}`,
        `check the URL path (/wsman) and that this port is a WinRM listener: winrm e winrm/config/listener; ${QUICKCONFIG}`,
      );
      stop('identify');
      return finish();
    }

    // 5. The schemes the server offers against the one chosen (the 401 an unauthenticated request gets).
    {
      const { accepted, setting } = schemesFor(cfg.auth);
      let probe: { status: number; schemes: string[] } | undefined;
      try {
        probe = await challengeProbe(cfg.url, stepTimeoutMs);
      } catch (err) {
        add('schemes', 'warn', `could not read the server's challenge: ${message(err)}`);
      }
      if (probe && probe.status !== 401) {
        add('schemes', 'warn', `an unauthenticated request got HTTP ${probe.status}, not a 401 challenge`);
      } else if (probe) {
        const offered = probe.schemes.join(', ') || 'no scheme';
        if (probe.schemes.some((x) => accepted.includes(x.toLowerCase()))) {
          add(
            'schemes',
            'pass',
            `the server offers ${offered}; ${cfg.auth} uses ${setting === 'Basic' ? 'Basic' : 'Negotiate'}`,
          );
        } else {
          add(
            'schemes',
            'fail',
            `${cfg.auth} needs ${accepted.map((a) => (a === 'ntlm' ? 'NTLM' : a[0]!.toUpperCase() + a.slice(1))).join(' or ')}, ` +
              `the server offers ${offered}`,
            `enable it on the host: winrm set winrm/config/service/auth @{${setting}="true"}` +
              // Over HTTP Windows offers Basic only when winrm/config/service AllowUnencrypted is true.
              (setting === 'Basic' && !cfg.https
                ? '; over HTTP also winrm set winrm/config/service @{AllowUnencrypted="true"} (or use --https)'
                : '') +
              (probe.schemes.length > 0 ? '; or choose a scheme the server offers (--auth)' : ''),
          );
          stop('schemes');
          return finish();
        }
      }
    }

    // 6. Authenticated Identify: the seed's "Test WS-Man access" step.
    try {
      await conn.identify({ ...call, authenticate: true });
      add('authenticate', 'pass', `authenticated as ${cfg.account.user} with ${cfg.auth}`);
    } catch (err) {
      let remedy: string;
      let detail = message(err);
      if (err instanceof AuthenticationError) {
        const offered = err.offeredSchemes;
        detail = `${cfg.auth} was refused; the server offers ${offered.length > 0 ? offered.join(', ') : 'no scheme'}`;
        const wanted = cfg.auth === 'basic' ? 'Basic' : cfg.auth === 'ntlm' ? 'Negotiate' : 'Kerberos';
        const offers = offered.some((s) => s.toLowerCase() === wanted.toLowerCase());
        remedy = offers
          ? 'check the user name and password (the seed: "you are probably not using the right credentials"); ' +
            'the user must be in Administrators or Remote Management Users on the host'
          : `enable the scheme on the host: winrm set winrm/config/service/auth @{${wanted}="true"}` +
            // Windows refuses Basic's unencrypted bodies on an HTTP listener unless winrm/config/service
            // AllowUnencrypted is true (the "Installation and configuration for WinRM" page), so over HTTP
            // either setting can be the cause.
            (wanted === 'Basic' && !cfg.https
              ? '; over HTTP also winrm set winrm/config/service @{AllowUnencrypted="true"} (or use --https)'
              : '') +
            (offered.length > 0 ? `; or use a scheme the server offers (--auth)` : '');
      } else if (err instanceof WinRmError && err.remedy) {
        remedy = err.remedy;
      } else {
        remedy = 'check the credentials and winrm get winrm/config/service/auth on the host';
      }
      add('authenticate', 'fail', detail, remedy);
      stop('authenticate');
      return finish();
    }

    // 7. winrm/config.
    try {
      const root = await conn.get('winrm/config', call);
      const service = sub(root, 'Service') ?? (await conn.get('winrm/config/service', call)).properties;
      const winrs = sub(root, 'Winrs') ?? (await conn.get('winrm/config/winrs', call)).properties;
      const authProps =
        (service.Auth && typeof service.Auth === 'object' && !Array.isArray(service.Auth)
          ? service.Auth.properties
          : undefined) ?? (await conn.get('winrm/config/service/auth', call)).properties;
      const problems: { fail: boolean; text: string; remedy: string }[] = [];
      const allowUnencrypted = str(service.AllowUnencrypted) === 'true';
      if (!cfg.https && !cfg.encrypt && !allowUnencrypted) {
        problems.push({
          fail: true,
          text: 'AllowUnencrypted is false but this connection sends unencrypted bodies over HTTP',
          remedy: 'winrm set winrm/config/service @{AllowUnencrypted="true"} (or use HTTPS)',
        });
      }
      if (cfg.auth === 'basic' && str(authProps.Basic) !== 'true') {
        problems.push({
          fail: true,
          text: 'Basic authentication is disabled',
          remedy: 'winrm set winrm/config/service/auth @{Basic="true"}',
        });
      }
      const floor = (name: string, value: unknown, min: number, path: string): void => {
        const n = Number(str(value));
        if (str(value) !== undefined && Number.isFinite(n) && n < min) {
          problems.push({
            fail: false,
            text: `${name} is ${n} (below ${min})`,
            remedy: `winrm set ${path} @{${name}="${min}"}`,
          });
        }
      };
      floor(
        'MaxMemoryPerShellMB',
        winrs.MaxMemoryPerShellMB,
        DOCTOR_DEFAULTS.minMaxMemoryPerShellMB,
        'winrm/config/winrs',
      );
      floor(
        'MaxEnvelopeSizekb',
        root.properties.MaxEnvelopeSizekb,
        DOCTOR_DEFAULTS.minMaxEnvelopeSizekb,
        'winrm/config',
      );
      floor(
        'MaxShellsPerUser',
        winrs.MaxShellsPerUser,
        DOCTOR_DEFAULTS.minMaxShellsPerUser,
        'winrm/config/winrs',
      );
      const facts =
        `AllowUnencrypted=${str(service.AllowUnencrypted)}, Basic=${str(authProps.Basic)}, ` +
        `MaxEnvelopeSizekb=${str(root.properties.MaxEnvelopeSizekb)}, MaxMemoryPerShellMB=${str(winrs.MaxMemoryPerShellMB)}, ` +
        `MaxShellsPerUser=${str(winrs.MaxShellsPerUser)}`;
      if (problems.length === 0) add('config', 'pass', facts);
      else {
        add(
          'config',
          problems.some((p) => p.fail) ? 'fail' : 'warn',
          `${problems.map((p) => p.text).join('; ')} (${facts})`,
          problems.map((p) => p.remedy).join('; '),
        );
      }
    } catch (err) {
      add(
        'config',
        'warn',
        `cannot read winrm/config: ${message(err)}`,
        'run winrm get winrm/config on the host (reading it needs an administrator)',
      );
    }

    // 8. Listeners.
    try {
      const listeners: string[] = [];
      for await (const l of conn.enumerate('winrm/config/listener', call)) {
        const p = l.properties;
        listeners.push(`${str(p.Transport)} ${str(p.Address)}:${str(p.Port)} enabled=${str(p.Enabled)}`);
      }
      if (listeners.length === 0) add('listeners', 'fail', 'no listener is configured', QUICKCONFIG);
      else add('listeners', 'pass', listeners.join('; '));
    } catch (err) {
      add(
        'listeners',
        'warn',
        `cannot enumerate winrm/config/listener: ${message(err)}`,
        'run winrm e winrm/config/listener on the host',
      );
    }

    // 8. Service state.
    try {
      const svc = (await conn.get('wmicimv2/Win32_Service?Name=WinRM', call)).properties;
      const state = str(svc.State);
      const mode = str(svc.StartMode);
      if (state !== 'Running') {
        add('service', 'fail', `WinRM is ${state}`, 'sc config "WinRM" start= auto, then net start WinRM');
      } else if (mode !== 'Auto') {
        add(
          'service',
          'warn',
          `WinRM is Running, StartMode=${mode}: it will not start after a reboot`,
          'sc config "WinRM" start= auto',
        );
      } else add('service', 'pass', `State=${state}, StartMode=${mode}`);
    } catch (err) {
      const hint =
        err instanceof WsmanFaultError && err.faultCode !== undefined ? ` (fault ${err.faultCode})` : '';
      add(
        'service',
        'warn',
        `cannot read Win32_Service?Name=WinRM${hint}: ${message(err)}`,
        'run winrm get wmicimv2/Win32_Service?Name=WinRM on the host',
      );
    }

    // 9. A test command through a shell.
    try {
      const r = await conn.execute('echo winrm-connection-doctor', { signal });
      if (r.exitCode === 0 && r.stdoutText.includes('winrm-connection-doctor')) {
        add('command', 'pass', 'echo winrm-connection-doctor ran in a remote shell');
      } else {
        add(
          'command',
          'fail',
          `echo exited ${r.exitCode}, output ${JSON.stringify(r.stdoutText.slice(0, 80))}`,
          'check winrm get winrm/config/winrs (AllowRemoteShellAccess="true")',
        );
      }
    } catch (err) {
      add(
        'command',
        'fail',
        `cannot run a command: ${message(err)}`,
        err instanceof WinRmError && err.remedy
          ? err.remedy
          : 'winrm set winrm/config/winrs @{AllowRemoteShellAccess="true"}; check MaxShellsPerUser and open shells',
      );
    }
  } finally {
    await conn.close().catch(() => undefined);
  }
  return finish();
}
