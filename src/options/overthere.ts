/**
 * Overthere connection definitions (XL Deploy's CIFS/SMB host options) for both strategies: each Overthere
 * option name, as its README documents it ("Connection options", "Common SMB 2.x and CIFS connection options"),
 * mapped onto ours. docs/overthere.md lists the mapping. An unknown name is an InvalidArgumentError naming the
 * closest known one; our own option names may be mixed in and pass through.
 */
import { bad } from './check.ts';
import type { ConnectionOptions } from './index.ts';

type Definition = Readonly<Record<string, unknown>>;
type Out = Record<string, unknown>;

/** Overthere's names that need a translation; each writes into `out`. */
const MAPPED: Readonly<Record<string, (value: unknown, out: Out, all: Definition) => void>> = {
  address: (v, out) => {
    out.host = v;
  },
  connectionType: (v, out) => {
    if (v === 'TELNET')
      bad('connectionType', 'Overthere connectionType TELNET is not supported', "use 'WINRM_INTERNAL'");
    out.connectionType = v;
  },
  connectionTimeoutMillis: (v, out) => {
    out.connectTimeout = v;
  },
  socketTimeoutMillis: (v, out) => {
    // Overthere: 0 is "no timeout"; ours always has one (the default).
    if (v !== 0 && v !== undefined) out.readTimeout = v;
  },
  winrmEnableHttps: (v, out) => {
    out.https = v;
  },
  winrmContext: (v, out) => {
    out.path = v;
  },
  winrmEnvelopSize: (v, out) => {
    out.maxEnvelopeSize = v;
  },
  winrmLocale: (v, out) => {
    out.locale = v;
  },
  winrmTimeout: (v, out) => {
    out.operationTimeout = parseXsDuration('winrmTimeout', v);
  },
  winrmHttpsCertificateTrustStrategy: (v, out) => {
    const tls = tlsOf(out);
    if (v === 'STRICT') return;
    if (v === 'ALLOW_ALL') {
      tls.insecureAcceptAnyCertificate = true;
      return;
    }
    if (v === 'SELF_SIGNED') {
      if (tls.fingerprint === undefined) {
        bad(
          'winrmHttpsCertificateTrustStrategy',
          'SELF_SIGNED (any self-signed certificate) has no equivalent here: a self-signed certificate is trusted by its thumbprint',
          'give tls: { fingerprint: "<SHA-1 or SHA-256 thumbprint>" } (Get-ChildItem Cert:\\LocalMachine\\My shows it)',
        );
      }
      return;
    }
    bad(
      'winrmHttpsCertificateTrustStrategy',
      `Unknown value ${JSON.stringify(v)}`,
      'use STRICT, SELF_SIGNED or ALLOW_ALL',
    );
  },
  winrmHttpsHostnameVerificationStrategy: (v, out) => {
    const tls = tlsOf(out);
    if (v === 'STRICT' || v === 'BROWSER_COMPATIBLE') tls.verifyHostname = true;
    else if (v === 'ALLOW_ALL') tls.verifyHostname = false;
    else {
      bad(
        'winrmHttpsHostnameVerificationStrategy',
        `Unknown value ${JSON.stringify(v)}`,
        'use STRICT, BROWSER_COMPATIBLE or ALLOW_ALL',
      );
    }
  },
  winrmKerberosUseHttpSpn: (v, out) => {
    out.kerberosUseHttpSpn = bool('winrmKerberosUseHttpSpn', v);
  },
  winrmKerberosAddPortToSpn: (v, out) => {
    out.kerberosAddPortToSpn = bool('winrmKerberosAddPortToSpn', v);
  },
  // Overthere turns on the JDK's Kerberos tracing; ours is DEBUG=winrm-connection:auth (docs/kerberos.md).
  winrmKerberosDebug: (v) => {
    bool('winrmKerberosDebug', v);
  },
  // Overthere: with true and no password, the ticket cache is used. Here a missing password always means the
  // ticket cache; with false and no password Overthere has nothing to log on with, and neither do we.
  winrmKerberosTicketCache: (v, _out, all) => {
    if (!bool('winrmKerberosTicketCache', v) && all.password === undefined && isKerberos(all)) {
      bad(
        'winrmKerberosTicketCache',
        'winrmKerberosTicketCache is false and no password is given: there is nothing to log on with',
        'give password, or set winrmKerberosTicketCache true to use the ticket cache (after kinit)',
      );
    }
  },
  winrsNoprofile: (v, out) => {
    out.noProfile = v;
  },
  winrsProxyProtocol: (v, out) => {
    // Overthere names the proxy's protocol; a Windows jump host is reached with smb/cifs + WINRM_INTERNAL.
    if (v === 'local' || v === 'ssh') out.winrsProxyProtocol = v;
    else if (v === 'smb' || v === 'cifs' || v === 'jump') out.winrsProxyProtocol = 'jump';
    else
      bad(
        'winrsProxyProtocol',
        `Unknown winrs proxy protocol ${JSON.stringify(v)}`,
        "use 'local', 'ssh' or 'smb'",
      );
  },
  winrsProxyConnectionOptions: (v, out, all) => {
    if (v === null || typeof v !== 'object') bad('winrsProxyConnectionOptions', 'must be an object');
    const proxy = v as Definition;
    const jump = all.winrsProxyProtocol === 'smb' || all.winrsProxyProtocol === 'cifs';
    // A jump host's definition is an Overthere definition itself; an SSH proxy's keeps its names (address -> host).
    out.winrsProxyConnectionOptions = jump
      ? fromOverthere(proxy)
      : Object.fromEntries(Object.entries(proxy).map(([k, val]) => [k === 'address' ? 'host' : k, val]));
  },
  jumpstation: (v, out) => {
    const j = (v ?? {}) as Definition;
    if (j.protocol === 'proxy') {
      if (typeof j.address !== 'string' || typeof j.port !== 'number') {
        bad('jumpstation', 'A proxy jumpstation needs address and port');
      }
      out.proxy = `http://${j.address}:${j.port}`;
      return;
    }
    bad(
      'jumpstation',
      'SSH jumpstations (port forwarding) are not supported',
      "reach the target through an HTTP proxy (jumpstation protocol 'proxy', or the proxy option), or run winrs on the SSH host: connectionType 'WINRM_NATIVE' with winrsProxyProtocol 'ssh'",
    );
  },
};

/** Overthere's names that are ours as well (same meaning). */
const SAME = [
  'port',
  'username',
  'password',
  'winrsAllowDelegate',
  'winrsCompression',
  'winrsNoecho',
  'winrsUnencrypted',
] as const;

/** Overthere options with nothing to do here (file-system and CIFS settings; transfers need no temp dir). */
const IGNORED = [
  'os',
  'protocol',
  'tmp',
  'tmpDeleteOnDisconnect',
  'tmpFileCreationRetries',
  'pathShareMappings',
  'cifsPort',
  'smbPort',
  'smbRequireSigning',
  'smbEncryptData',
  'fileCopyCommandForWindows',
  'directoryCopyCommandForWindows',
  'fileCopyCommandForUnix',
  'directoryCopyCommandForUnix',
  'fileCopyCommandForZos',
  'directoryCopyCommandForZos',
] as const;

/** Our own option names, accepted beside Overthere's. */
const OURS = [
  'connectionType',
  'host',
  'username',
  'password',
  'codepage',
  'noProfile',
  'connectTimeout',
  'closeTimeout',
  'logger',
  'endpoint',
  'port',
  'https',
  'path',
  'tls',
  'operationTimeout',
  'readTimeout',
  'cleanupTimeout',
  'responseTimeout',
  'maxEnvelopeSize',
  'maxResponseBytes',
  'locale',
  'maxConcurrentRequests',
  'maxCommandsPerShell',
  'maxShells',
  'proxy',
  'verify',
  'auth',
  'encryption',
  'allowUnencrypted',
  'channelBinding',
  'negotiateForm',
  'winrsProxyProtocol',
  'winrsProxyConnectionOptions',
  'winrsPath',
  'winrsAllowDelegate',
  'winrsCompression',
  'winrsNoecho',
  'winrsUnencrypted',
  'winrsNoprofile',
  'winrsRunner',
] as const;

/** Names only Overthere uses: their presence marks a definition to translate. */
const OVERTHERE_ONLY = new Set(
  [...Object.keys(MAPPED), ...IGNORED].filter((k) => !(OURS as readonly string[]).includes(k)),
);
const KNOWN = [...new Set([...Object.keys(MAPPED), ...SAME, ...IGNORED, ...OURS])];

function tlsOf(out: Out): Record<string, unknown> {
  out.tls = { ...((out.tls as object | undefined) ?? {}) };
  return out.tls as Record<string, unknown>;
}

function bool(name: string, value: unknown): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return bad(name, `${name} must be true or false, got ${JSON.stringify(value)}`);
}

/**
 * Overthere's WINRM_INTERNAL logs a `USER@FULL.DOMAIN` account on with Kerberos (its docs: "Domain accounts").
 * Ours would otherwise choose Basic, so a definition brought over keeps Overthere's mechanism.
 */
function isKerberos(all: Definition): boolean {
  if (all.auth !== undefined) return all.auth === 'kerberos';
  const internal = all.connectionType === undefined || all.connectionType === 'WINRM_INTERNAL';
  return internal && typeof all.username === 'string' && /^[^@\\]+@[^@]+$/.test(all.username);
}

/** `PT60.000S`, `PT1M30S`, `P0DT1H`: an xs:duration without years or months, in milliseconds. */
export function parseXsDuration(name: string, value: unknown): number {
  const m =
    typeof value === 'string'
      ? /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
          value,
        )
      : null;
  if (!m || value === 'P' || value === 'PT') {
    return bad(name, `${name} must be an xs:duration such as PT60.000S, got ${JSON.stringify(value)}`);
  }
  const [d, h, min, s] = m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number];
  return Math.round((((d * 24 + h) * 60 + min) * 60 + s) * 1000);
}

/** Levenshtein distance, case-insensitive. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[y.length]!;
}

/** The known option name closest to `name` (edit distance). */
export function closestOption(name: string): string {
  let best = KNOWN[0]!;
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of KNOWN) {
    const d = distance(name, k);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best;
}

/** Whether `options` holds a name only Overthere uses (connect() then translates it). */
export function looksLikeOverthere(options: object): boolean {
  return Object.keys(options).some((k) => OVERTHERE_ONLY.has(k));
}

/**
 * Translate an Overthere connection definition into connect() options. Our own names pass through; Overthere's
 * file-system options are ignored (listed in docs/overthere.md).
 * @throws InvalidArgumentError for an unknown name (naming the closest known option) or a value with no
 * equivalent here.
 */
export function fromOverthere(definition: Definition): ConnectionOptions {
  if (definition === null || typeof definition !== 'object')
    bad('options', 'A connection definition must be an object');
  const out: Out = {};
  // Ours first, so that mapped values (tls from the trust strategies) merge onto them.
  for (const [key, value] of Object.entries(definition)) {
    if ((OURS as readonly string[]).includes(key) && !(key in MAPPED)) out[key] = value;
  }
  for (const [key, value] of Object.entries(definition)) {
    if (value === undefined) continue;
    const map = MAPPED[key];
    if (map) map(value, out, definition);
    else if ((SAME as readonly string[]).includes(key) || (OURS as readonly string[]).includes(key)) continue;
    else if ((IGNORED as readonly string[]).includes(key)) continue;
    else {
      bad(
        key,
        `Unknown connection option "${key}"`,
        `did you mean "${closestOption(key)}"? (docs/overthere.md lists them)`,
      );
    }
  }
  if (out.auth === undefined && isKerberos(definition)) out.auth = 'kerberos';
  return out as unknown as ConnectionOptions;
}
