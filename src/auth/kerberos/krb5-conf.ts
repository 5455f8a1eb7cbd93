/**
 * The one reader of krb5.conf (KRB5_CONFIG, colon-separated, else /etc/krb5.conf) for the Kerberos client: the AS
 * exchange's realm and KDCs, the ticket cache's default name.
 */
import { readFileSync } from 'node:fs';

/** The standard Kerberos port ([RFC 4120] 7.2.3). */
export const KERBEROS_PORT = 88;

export interface KdcAddress {
  host: string;
  port: number;
}

export interface Krb5Conf {
  defaultRealm: string | undefined;
  dnsLookupKdc: boolean | undefined;
  /** [libdefaults] default_ccache_name, unexpanded. */
  defaultCcacheName: string | undefined;
  kdcs: Map<string, KdcAddress[]>;
}

/** `host`, `host:port`, `[v6]:port`, with an optional `tcp/` or `udp/` prefix (MIT 1.13+). */
function parseKdc(value: string): KdcAddress | undefined {
  const v = value.replace(/^(tcp|udp|kkdcp)\//i, '').trim();
  if (!v || /^https?:/i.test(v)) return undefined; // MS-KKDCP proxies are not spoken here
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(v);
  if (v6) return { host: v6[1]!, port: v6[2] ? Number(v6[2]) : KERBEROS_PORT };
  const m = /^([^:\s]+)(?::(\d+))?$/.exec(v);
  return m ? { host: m[1]!, port: m[2] ? Number(m[2]) : KERBEROS_PORT } : undefined;
}

/** The parts of krb5.conf (MIT profile syntax) this client reads; the first file that sets a value wins. */
export function readKrb5Conf(env: NodeJS.ProcessEnv = process.env): Krb5Conf {
  const out: Krb5Conf = {
    defaultRealm: undefined,
    dnsLookupKdc: undefined,
    defaultCcacheName: undefined,
    kdcs: new Map(),
  };
  for (const file of (env.KRB5_CONFIG ?? '/etc/krb5.conf').split(':').filter(Boolean)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    let section = '';
    let realm: string | undefined;
    let depth = 0;
    for (const raw of text.split('\n')) {
      const line = raw.replace(/^\s+|\s+$/g, '');
      if (!line || line.startsWith('#') || line.startsWith(';')) continue;
      const s = /^\[(.+)\]\*?$/.exec(line);
      if (s) {
        section = s[1]!.trim();
        realm = undefined;
        depth = 0;
        continue;
      }
      if (line.startsWith('}')) {
        depth = Math.max(0, depth - 1);
        if (depth === 0) realm = undefined;
        continue;
      }
      const kv = /^([^=\s]+)\s*=\s*(.*?)\*?$/.exec(line);
      if (!kv) continue;
      const key = kv[1]!;
      const value = kv[2]!.trim();
      if (value === '{') {
        depth++;
        if (section === 'realms' && depth === 1) realm = key;
        continue;
      }
      if (section === 'libdefaults' && depth === 0) {
        if (key === 'default_realm' && out.defaultRealm === undefined) out.defaultRealm = value;
        if (key === 'default_ccache_name' && out.defaultCcacheName === undefined)
          out.defaultCcacheName = value;
        if (key === 'dns_lookup_kdc' && out.dnsLookupKdc === undefined) {
          out.dnsLookupKdc = /^(true|yes|on|1)$/i.test(value);
        }
      }
      if (section === 'realms' && realm && depth === 1 && key === 'kdc') {
        const a = parseKdc(value);
        if (a) out.kdcs.set(realm, [...(out.kdcs.get(realm) ?? []), a]);
      }
    }
  }
  return out;
}
