/**
 * WWW-Authenticate reading ([RFC 9110] 11.6.1): any number of headers, each a comma-separated list of
 * challenges, each a scheme with a token68 (NTLM, Negotiate, Kerberos tokens) or auth-params (realm="...",
 * quoted strings may hold commas).
 */

export interface Challenge {
  scheme: string;
  /** base64 token (token68), if the challenge carries one. */
  token68?: string;
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Split at commas outside quoted strings. */
function items(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (quoted && c === '\\' && i + 1 < value.length) {
      cur += c + value[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  return out.filter((s) => s.length > 0);
}

function param(item: string): [string, string] | undefined {
  const m = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*(.*)$/.exec(item);
  if (!m) return undefined;
  let v = m[2]!.trim();
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
  return [m[1]!.toLowerCase(), v];
}

export function parseChallenges(header: string | readonly string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const out: Challenge[] = [];
  for (const value of typeof header === 'string' ? [header] : header) {
    for (const item of items(value)) {
      const p = param(item);
      const last = out[out.length - 1];
      if (p && last && last.token68 === undefined) {
        last.params[p[0]] = p[1];
        continue;
      }
      const scheme = TOKEN.exec(item)?.[0];
      if (!scheme) continue;
      const rest = item.slice(scheme.length).trim();
      const challenge: Challenge = { scheme, params: Object.create(null) as Record<string, string> };
      if (rest) {
        const first = param(rest);
        if (TOKEN68.test(rest) && !(first && /^[^=]+=\s*"/.test(rest))) challenge.token68 = rest;
        else if (first) challenge.params[first[0]] = first[1];
      }
      out.push(challenge);
    }
  }
  return out;
}
