/**
 * A reader for MIT's FILE credential cache (formats 3 and 4, MIT krb5 docs "ccache file format"), used only to
 * find the session key of the service ticket the addon just used, for message encryption over HTTP (see
 * ./session-keys.ts and docs/kerberos.md), and a writer of format 4 for the TGT of the password path
 * ({@link encodeCcache}: the cache MIT's GSSAPI then reads, see ./credentials.ts).
 *
 * Format 4 (MIT's default since 1.2) and 3, all integers big-endian:
 *
 *   file      = uint16 version (0x0504 / 0x0503) | [v4: uint16 header length | header tags] | principal
 *               (the default client) | credential*
 *   principal = uint32 name type | uint32 component count | data realm | data component*
 *   data      = uint32 length | bytes
 *   credential= principal client | principal server | keyblock | uint32 authtime, starttime, endtime, renew_till
 *               | uint8 is_skey | uint32 ticket flags | addresses | authdata | data ticket | data second ticket
 *   keyblock  = uint16 enctype | [v3: uint16 enctype again] | data key
 *   addresses = uint32 count | (uint16 type | data)*;  authdata = uint32 count | (uint16 type | data)*
 *
 * Configuration entries (server realm `X-CACHECONF:`) are skipped. Formats 1 and 2 (native byte order, from
 * krb5 1.0) are refused. The keys read here are secrets: they stay in the returned objects, never in messages.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError } from '../../errors.ts';
import type { KrbKey } from '../../krb5/crypto.ts';
import { readKrb5Conf } from './krb5-conf.ts';

export interface CcachePrincipal {
  nameType: number;
  realm: string;
  components: string[];
}

export interface CcacheCredential {
  client: CcachePrincipal;
  server: CcachePrincipal;
  /** The ticket's session key (secret). */
  key: KrbKey;
  /** End of validity, ms since the epoch. */
  endtime: number;
  /** The DER-encoded Ticket (APPLICATION 1) as the KDC issued it. */
  ticket: Buffer;
}

/** A cache whose bytes are not a FILE ccache of format 3 or 4. */
export class CcacheFormatError extends Error {}

class Cursor {
  #pos = 0;
  constructor(private readonly buf: Buffer) {}
  get done(): boolean {
    return this.#pos >= this.buf.length;
  }
  #need(n: number): void {
    if (this.#pos + n > this.buf.length) throw new CcacheFormatError('the credential cache is truncated');
  }
  u8(): number {
    this.#need(1);
    return this.buf[this.#pos++]!;
  }
  u16(): number {
    this.#need(2);
    const v = this.buf.readUInt16BE(this.#pos);
    this.#pos += 2;
    return v;
  }
  u32(): number {
    this.#need(4);
    const v = this.buf.readUInt32BE(this.#pos);
    this.#pos += 4;
    return v;
  }
  bytes(n: number): Buffer {
    this.#need(n);
    const b = this.buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return b;
  }
  data(): Buffer {
    return this.bytes(this.u32());
  }
}

function principal(c: Cursor): CcachePrincipal {
  const nameType = c.u32();
  const count = c.u32();
  if (count > 64) throw new CcacheFormatError(`a principal with ${count} components`);
  const realm = c.data().toString('utf8');
  const components: string[] = [];
  for (let i = 0; i < count; i++) components.push(c.data().toString('utf8'));
  return { nameType, realm, components };
}

/** Every credential in a FILE ccache of format 3 or 4; throws CcacheFormatError. */
export function parseCcache(buf: Buffer): CcacheCredential[] {
  const c = new Cursor(buf);
  const version = c.u16();
  if (version !== 0x0504 && version !== 0x0503) {
    throw new CcacheFormatError(
      `credential cache format 0x${version.toString(16)} (only formats 3 and 4, 0x0503 / 0x0504, are read)`,
    );
  }
  if (version === 0x0504) c.bytes(c.u16()); // header tags (KDC time offset): not needed here
  principal(c); // the default client principal
  const out: CcacheCredential[] = [];
  while (!c.done) {
    const client = principal(c);
    const server = principal(c);
    const enctype = c.u16();
    if (version === 0x0503) c.u16();
    const key = Buffer.from(c.data());
    c.u32(); // authtime
    c.u32(); // starttime
    const endtime = c.u32() * 1000;
    c.u32(); // renew_till
    c.u8(); // is_skey
    c.u32(); // ticket flags
    for (let n = c.u32(), i = 0; i < n; i++) {
      c.u16();
      c.data();
    }
    for (let n = c.u32(), i = 0; i < n; i++) {
      c.u16();
      c.data();
    }
    const ticket = Buffer.from(c.data());
    c.data(); // second ticket (user-to-user)
    if (server.realm === 'X-CACHECONF:') continue;
    out.push({ client, server, key: { enctype, key }, endtime, ticket });
  }
  return out;
}

/** The remedy for caches whose keys this library cannot read. */
export const UNREADABLE_CACHE_REMEDY =
  'connect over HTTPS (https: true, port 5986: no message encryption is needed inside TLS), or keep the ' +
  'tickets in a FILE cache for this process (export KRB5CCNAME=FILE:/tmp/krb5cc_$(id -u), then kinit)';

function expand(name: string): string {
  const uid = String(process.getuid?.() ?? '');
  const euid = String(process.geteuid?.() ?? uid);
  return name
    .replace(/%\{uid\}/g, uid)
    .replace(/%\{euid\}/g, euid)
    .replace(/%\{TEMP\}/g, process.env.TMPDIR ?? '/tmp')
    .replace(/%\{USERID\}/g, uid);
}

/**
 * The cache name in effect: KRB5CCNAME, else krb5.conf's default_ccache_name, else MIT's built-in default
 * `FILE:/tmp/krb5cc_<uid>`.
 */
export function ccacheName(env: NodeJS.ProcessEnv = process.env): string {
  const name = env.KRB5CCNAME || readKrb5Conf(env).defaultCcacheName || 'FILE:/tmp/krb5cc_%{uid}';
  return expand(name);
}

/**
 * The file behind a cache name: `FILE:path` or a bare path; `DIR:dir` through its `primary` file, `DIR::path`
 * directly. Other types (KEYRING:, KCM:, MEMORY:, API:) keep their keys where this process cannot read them: an
 * InvalidArgumentError naming the way out.
 */
export function ccacheFile(name: string): string {
  const colon = name.indexOf(':');
  const type = colon > 0 && !name.startsWith('/') ? name.slice(0, colon).toUpperCase() : 'FILE';
  const rest = colon > 0 && !name.startsWith('/') ? name.slice(colon + 1) : name;
  if (type === 'FILE') return rest;
  if (type === 'DIR') {
    if (rest.startsWith(':')) return rest.slice(1);
    let primary = 'tkt';
    try {
      primary = readFileSync(join(rest, 'primary'), 'utf8').trim() || primary;
    } catch {
      // No primary file: MIT's default name for the first cache of a collection.
    }
    return join(rest, primary);
  }
  throw new InvalidArgumentError(
    `Kerberos message encryption over HTTP needs the session key of the service ticket, and the ticket cache ` +
      `${type}: keeps its keys where this library cannot read them (only FILE: and DIR: caches can be read)`,
    { argument: 'encryption', remedy: UNREADABLE_CACHE_REMEDY },
  );
}

/** Read and parse the cache behind `name`; an unreadable or malformed file is an InvalidArgumentError. */
export function readCcache(name: string): CcacheCredential[] {
  const file = ccacheFile(name);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new InvalidArgumentError(
      `Kerberos message encryption over HTTP could not read the ticket cache ${file} ` +
        `(${(err as NodeJS.ErrnoException).code ?? String(err)})`,
      { argument: 'encryption', remedy: UNREADABLE_CACHE_REMEDY, cause: err },
    );
  }
  try {
    return parseCcache(bytes);
  } catch (err) {
    throw new InvalidArgumentError(
      `Kerberos message encryption over HTTP could not read the ticket cache ${file}: ${(err as Error).message}`,
      { argument: 'encryption', remedy: UNREADABLE_CACHE_REMEDY },
    );
  }
}

/**
 * The cache's default client principal (`user@REALM`, as `klist` prints it under "Default principal"), for
 * single sign-on without a username; undefined when there is no readable FILE/DIR cache (a KEYRING: or KCM:
 * cache included: then the username must be given). Reads only the header: no key is parsed.
 */
export function defaultPrincipal(env: NodeJS.ProcessEnv = process.env): string | undefined {
  try {
    const c = new Cursor(readFileSync(ccacheFile(ccacheName(env))));
    const version = c.u16();
    if (version !== 0x0504 && version !== 0x0503) return undefined;
    if (version === 0x0504) c.bytes(c.u16());
    const p = principal(c);
    return p.components.length > 0 && p.realm ? `${p.components.join('/')}@${p.realm}` : undefined;
  } catch {
    return undefined;
  }
}

/** A credential to write: principals as components and realm, times in ms since the epoch. */
export interface CcacheEntry {
  client: CcachePrincipal;
  server: CcachePrincipal;
  key: KrbKey;
  authtime: number;
  starttime: number;
  endtime: number;
  renewTill: number;
  /** TicketFlags, bit 0 of the BIT STRING the most significant (as MIT stores them). */
  flags: number;
  ticket: Buffer;
}

function putData(out: Buffer[], b: Buffer): void {
  const n = Buffer.alloc(4);
  n.writeUInt32BE(b.length, 0);
  out.push(n, b);
}

function putU32(out: Buffer[], v: number): void {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0, 0);
  out.push(b);
}

function putPrincipal(out: Buffer[], p: CcachePrincipal): void {
  putU32(out, p.nameType);
  putU32(out, p.components.length);
  putData(out, Buffer.from(p.realm, 'utf8'));
  for (const c of p.components) putData(out, Buffer.from(c, 'utf8'));
}

/**
 * The bytes of a format-4 FILE ccache (no header tags) holding `entries`, with `defaultClient` as its default
 * principal. The result holds session keys: write it only to a private (0600) file.
 */
export function encodeCcache(defaultClient: CcachePrincipal, entries: readonly CcacheEntry[]): Buffer {
  const out: Buffer[] = [Buffer.from([0x05, 0x04, 0x00, 0x00])];
  putPrincipal(out, defaultClient);
  for (const e of entries) {
    putPrincipal(out, e.client);
    putPrincipal(out, e.server);
    const et = Buffer.alloc(2);
    et.writeUInt16BE(e.key.enctype, 0);
    out.push(et);
    putData(out, e.key.key);
    for (const t of [e.authtime, e.starttime, e.endtime, e.renewTill]) putU32(out, Math.floor(t / 1000));
    out.push(Buffer.from([0])); // is_skey
    putU32(out, e.flags);
    putU32(out, 0); // addresses
    putU32(out, 0); // authdata
    putData(out, e.ticket);
    putData(out, Buffer.alloc(0)); // second ticket
  }
  return Buffer.concat(out);
}
