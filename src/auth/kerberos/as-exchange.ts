/**
 * The AS exchange ([RFC 4120] 3.1, 5.4.1, 5.4.2) in TypeScript: a TGT for `user@REALM` from a password, in this
 * process (no kinit child: the password never reaches a command line, a child's environment or a file).
 *
 * 1. The KDCs of the realm: krb5.conf (KRB5_CONFIG, else /etc/krb5.conf), `[realms] REALM = { kdc = host[:port] }`,
 *    every kdc line in order; the realm of a principal without `@` is `[libdefaults] default_realm`. DNS SRV
 *    `_kerberos._tcp.REALM` only when `dns_lookup_kdc = true` (MIT's default is true when the realm has no kdc
 *    line; here it is looked up only then too).
 * 2. TCP ([RFC 4120] 7.2.2: each message preceded by its length, 4 bytes big-endian). UDP is not used: Windows
 *    KDCs and MIT answer over TCP, and TCP has no size limit (no KRB_ERR_RESPONSE_TOO_BIG retry).
 * 3. An AS-REQ for krbtgt/REALM@REALM without pre-authentication; the KDC answers KDC_ERR_PREAUTH_REQUIRED (25)
 *    with ETYPE-INFO2 (salt, iterations); the AS-REQ again with PA-ENC-TIMESTAMP (key usage 1) encrypted in
 *    the string-to-key of the password. The AS-REP's enc-part is decrypted with usage 3 (8 accepted, as MIT
 *    does) and its nonce checked.
 *
 * Failures are plain Errors whose text carries the KRB-ERROR name (KDC_ERR_PREAUTH_FAILED, ...) and MIT's
 * wording, so the one table in ./errors.ts types them. No text here contains the password or a key.
 */
import { randomBytes } from 'node:crypto';
import { promises as dns } from 'node:dns';
import { connect } from 'node:net';
import {
  decrypt,
  ENCTYPE,
  encrypt,
  isSupportedEnctype,
  type KrbKey,
  stringToKey,
} from '../../krb5/crypto.ts';
import {
  app,
  bitStringValue,
  DerReader,
  field,
  generalString,
  integer,
  intValue,
  kerberosTime,
  octets,
  seq,
  TAG,
  timeValue,
  tlv,
} from '../../krb5/der.ts';
import { type KdcAddress, readKrb5Conf } from './krb5-conf.ts';

/** The default bound on reaching and hearing from each KDC, ms (the connection's connectTimeout overrides it). */
export const DEFAULT_KDC_TIMEOUT_MS = 15_000;

const PA = { encTimestamp: 2, etypeInfo2: 19 } as const;
const NT = { principal: 1, srvInst: 2 } as const;

/** KRB-ERROR codes ([RFC 4120] 7.5.9) with MIT's texts (the error table in ./errors.ts matches these). */
const KRB_ERRORS: Record<number, [string, string]> = {
  6: ['KDC_ERR_C_PRINCIPAL_UNKNOWN', 'Client not found in Kerberos database'],
  7: ['KDC_ERR_S_PRINCIPAL_UNKNOWN', 'Server not found in Kerberos database'],
  12: ['KDC_ERR_POLICY', 'KDC policy rejects request'],
  14: ['KDC_ERR_ETYPE_NOSUPP', 'KDC has no support for encryption type'],
  18: ['KDC_ERR_CLIENT_REVOKED', "Client's credentials have been revoked"],
  23: ['KDC_ERR_KEY_EXPIRED', 'Password has expired'],
  24: ['KDC_ERR_PREAUTH_FAILED', 'Preauthentication failed'],
  25: ['KDC_ERR_PREAUTH_REQUIRED', 'Additional pre-authentication required'],
  37: ['KRB_AP_ERR_SKEW', 'Clock skew too great'],
  68: ['KDC_ERR_WRONG_REALM', 'Wrong realm'],
};

/** A KRB-ERROR from the KDC. */
export class KrbErrorReply extends Error {
  constructor(
    readonly code: number,
    readonly eData: Buffer | undefined,
    eText: string | undefined,
  ) {
    const [name, text] = KRB_ERRORS[code] ?? [`KRB_ERROR_${code}`, 'KDC error'];
    super(`${text} (${name}, ${code})${eText ? `: ${eText}` : ''}`);
  }
}

/** The KDCs to try for a realm, in order: krb5.conf's kdc lines, else DNS SRV when dns_lookup_kdc allows it. */
export async function findKdcs(
  realm: string,
  env: NodeJS.ProcessEnv = process.env,
  resolver: {
    resolveSrv(name: string): Promise<{ name: string; port: number; priority: number; weight: number }[]>;
  } = dns,
): Promise<KdcAddress[]> {
  const conf = readKrb5Conf(env);
  const listed = conf.kdcs.get(realm);
  if (listed && listed.length > 0) return listed;
  // MIT: dns_lookup_kdc defaults to true; a krb5.conf that says false means "only what is written here".
  if (conf.dnsLookupKdc === false) return [];
  const records = await resolver.resolveSrv(`_kerberos._tcp.${realm}`).catch(() => []);
  return records
    .sort((a, b) => a.priority - b.priority || b.weight - a.weight)
    .map((r) => ({ host: r.name, port: r.port }));
}

/** One request and its answer over TCP with the 4-byte length prefix; bounded by `timeoutMs` overall. */
export function kdcRoundTrip(kdc: KdcAddress, request: Buffer, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: kdc.host, port: kdc.port });
    const chunks: Buffer[] = [];
    let have = 0;
    const done = (err: Error | undefined, value?: Buffer) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value!);
    };
    const timer = setTimeout(
      () => done(new Error(`no answer from the KDC ${kdc.host}:${kdc.port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once('error', (e) => done(new Error(`KDC ${kdc.host}:${kdc.port}: ${e.message}`)));
    socket.once('connect', () => {
      const len = Buffer.alloc(4);
      len.writeUInt32BE(request.length, 0);
      socket.write(Buffer.concat([len, request]));
    });
    socket.on('data', (b: Buffer) => {
      chunks.push(b);
      have += b.length;
      if (have < 4) return;
      const all = Buffer.concat(chunks);
      const want = all.readUInt32BE(0);
      if (want > 0x7fffffff || want > 16 * 1024 * 1024) {
        done(new Error(`KDC ${kdc.host}:${kdc.port} announced a ${want}-byte answer`));
      } else if (all.length >= 4 + want) done(undefined, all.subarray(4, 4 + want));
    });
    socket.once('end', () => done(new Error(`KDC ${kdc.host}:${kdc.port} closed the connection`)));
  });
}

function principalName(type: number, components: readonly string[]): Buffer {
  return seq(field(0, integer(type)), field(1, seq(...components.map(generalString))));
}

/** KDCOptions: forwardable (bit 1), renewable-ok (bit 27), canonicalize (bit 15) ([RFC 4120] 5.4.1). */
function kdcOptions(forwardable: boolean): Buffer {
  const bits = Buffer.alloc(4);
  if (forwardable) bits[0]! |= 0x40;
  bits[1]! |= 0x01; // canonicalize (15): a Windows KDC may then fix the case of the realm
  bits[3]! |= 0x10; // renewable-ok (27)
  return tlv(TAG.bitString, Buffer.from([0]), bits);
}

export interface AsRequest {
  client: readonly string[];
  realm: string;
  nonce: number;
  till: Date;
  forwardable: boolean;
  etypes: readonly number[];
  padata?: readonly { type: number; value: Buffer }[];
}

/** The DER of an AS-REQ ([APPLICATION 10] KDC-REQ). */
export function encodeAsReq(r: AsRequest): Buffer {
  const body = seq(
    field(0, kdcOptions(r.forwardable)),
    field(1, principalName(NT.principal, r.client)),
    field(2, generalString(r.realm)),
    field(3, principalName(NT.srvInst, ['krbtgt', r.realm])),
    field(5, kerberosTime(r.till)),
    field(7, integer(r.nonce)),
    field(8, seq(...r.etypes.map(integer))),
  );
  const padata = r.padata?.length
    ? [field(3, seq(...r.padata.map((p) => seq(field(1, integer(p.type)), field(2, octets(p.value))))))]
    : [];
  return tlv(app(10), seq(field(1, integer(5)), field(2, integer(10)), ...padata, field(4, body)));
}

function readKrbError(buf: Buffer): KrbErrorReply {
  const r = new DerReader(buf).enter(app(30), 'KRB-ERROR').enter(TAG.sequence, 'KRB-ERROR');
  r.field(0, TAG.integer, 'pvno');
  r.field(1, TAG.integer, 'msg-type');
  r.optionalField(2, undefined, 'ctime');
  r.optionalField(3, undefined, 'cusec');
  r.field(4, undefined, 'stime');
  r.field(5, undefined, 'susec');
  const code = intValue(r.field(6, TAG.integer, 'error-code'), 'error-code');
  r.optionalField(7, undefined, 'crealm');
  r.optionalField(8, undefined, 'cname');
  r.field(9, undefined, 'realm');
  r.field(10, undefined, 'sname');
  const eText = r.optionalField(11, TAG.generalString, 'e-text')?.content.toString('utf8');
  const eData = r.optionalField(12, TAG.octetString, 'e-data')?.content;
  return new KrbErrorReply(code, eData ? Buffer.from(eData) : undefined, eText);
}

function readPaData(r: DerReader): { type: number; value: Buffer }[] {
  const out: { type: number; value: Buffer }[] = [];
  const list = r.enter(TAG.sequence, 'PA-DATA list');
  while (!list.done) {
    const p = list.enter(TAG.sequence, 'PA-DATA');
    const type = intValue(p.field(1, TAG.integer, 'padata-type'), 'padata-type');
    out.push({ type, value: Buffer.from(p.field(2, TAG.octetString, 'padata-value').content) });
  }
  return out;
}

export interface EtypeInfo {
  etype: number;
  salt: string | undefined;
  iterations: number | undefined;
}

/** ETYPE-INFO2 ([RFC 4120] 5.2.7.5): the first entry of an enctype this library has. */
export function readEtypeInfo2(value: Buffer): EtypeInfo | undefined {
  const list = new DerReader(value).enter(TAG.sequence, 'ETYPE-INFO2');
  while (!list.done) {
    const e = list.enter(TAG.sequence, 'ETYPE-INFO2-ENTRY');
    const etype = intValue(e.field(0, TAG.integer, 'etype'), 'etype');
    const salt = e.optionalField(1, TAG.generalString, 'salt')?.content.toString('utf8');
    const params = e.optionalField(2, TAG.octetString, 's2kparams')?.content;
    if (!isSupportedEnctype(etype)) continue;
    return { etype, salt, iterations: params && params.length === 4 ? params.readUInt32BE(0) : undefined };
  }
  return undefined;
}

export interface AsReply {
  client: string[];
  crealm: string;
  /** The DER Ticket as issued. */
  ticket: Buffer;
  sessionKey: KrbKey;
  /** TicketFlags as a 32-bit number (bit 0 of the BIT STRING is the most significant). */
  flags: number;
  authtime: Date;
  starttime: Date | undefined;
  endtime: Date;
  renewTill: Date | undefined;
  server: string[];
  srealm: string;
}

function readPrincipal(t: DerReader): string[] {
  t.field(0, TAG.integer, 'name-type');
  const names = t.enter(0xa1, 'name-string').enter(TAG.sequence, 'name-string');
  const out: string[] = [];
  while (!names.done) out.push(names.read(TAG.generalString, 'KerberosString').content.toString('utf8'));
  return out;
}

/** Decode an AS-REP and decrypt its enc-part with the key; checks the nonce. */
function readAsRep(
  buf: Buffer,
  key: (padata: { type: number; value: Buffer }[]) => KrbKey,
  nonce: number,
): AsReply {
  const r = new DerReader(buf).enter(app(11), 'AS-REP').enter(TAG.sequence, 'AS-REP');
  r.field(0, TAG.integer, 'pvno');
  r.field(1, TAG.integer, 'msg-type');
  const padata = r.peekTag() === 0xa2 ? readPaData(r.enter(0xa2, 'padata')) : [];
  const crealm = r.field(3, TAG.generalString, 'crealm').content.toString('utf8');
  const client = readPrincipal(r.enter(0xa4, 'cname').enter(TAG.sequence, 'cname'));
  const ticket = Buffer.from(r.field(5, app(1), 'ticket').raw);
  const enc = r.enter(0xa6, 'enc-part').enter(TAG.sequence, 'enc-part');
  const etype = intValue(enc.field(0, TAG.integer, 'etype'), 'etype');
  enc.optionalField(1, TAG.integer, 'kvno');
  const cipher = enc.field(2, TAG.octetString, 'cipher').content;
  const k = key(padata);
  if (k.enctype !== etype)
    throw new Error(`the AS-REP is encrypted with enctype ${etype}, the key is ${k.enctype}`);
  let plain: Buffer;
  try {
    plain = decrypt(k, 3, cipher);
  } catch {
    try {
      plain = decrypt(k, 8, cipher); // MIT accepts the TGS-REP usage too (krb5 get_in_tkt.c)
    } catch {
      throw new Error('Decrypt integrity check failed (the AS-REP did not decrypt with the password key)');
    }
  }
  const top = new DerReader(plain);
  const tag = top.peekTag();
  // EncASRepPart is [APPLICATION 25]; MIT and Windows may send [APPLICATION 26] (RFC 4120 5.4.2 note).
  const p = top
    .enter(tag === app(26) ? app(26) : app(25), 'EncASRepPart')
    .enter(TAG.sequence, 'EncKDCRepPart');
  const kr = p.enter(0xa0, 'key').enter(TAG.sequence, 'EncryptionKey');
  const keytype = intValue(kr.field(0, TAG.integer, 'keytype'), 'keytype');
  const keyvalue = Buffer.from(kr.field(1, TAG.octetString, 'keyvalue').content);
  p.field(1, undefined, 'last-req');
  const got = intValue(p.field(2, TAG.integer, 'nonce'), 'nonce');
  if (got !== nonce) throw new Error('the AS-REP answers another request (nonce mismatch)');
  p.optionalField(3, undefined, 'key-expiration');
  const flags = bitStringValue(p.field(4, TAG.bitString, 'flags'));
  const authtime = timeValue(p.field(5, TAG.generalizedTime, 'authtime'), 'authtime');
  const st = p.optionalField(6, TAG.generalizedTime, 'starttime');
  const endtime = timeValue(p.field(7, TAG.generalizedTime, 'endtime'), 'endtime');
  const rt = p.optionalField(8, TAG.generalizedTime, 'renew-till');
  const srealm = p.field(9, TAG.generalString, 'srealm').content.toString('utf8');
  const server = readPrincipal(p.enter(0xaa, 'sname').enter(TAG.sequence, 'sname'));
  return {
    client,
    crealm,
    ticket,
    sessionKey: { enctype: keytype, key: keyvalue },
    flags,
    authtime,
    starttime: st ? timeValue(st, 'starttime') : undefined,
    endtime,
    renewTill: rt ? timeValue(rt, 'renew-till') : undefined,
    server,
    srealm,
  };
}

export interface AsExchangeOptions {
  /** `user@REALM` (or `user`: krb5.conf's default_realm). */
  principal: string;
  password: string;
  /** Ask for a forwardable TGT (delegation). Default false. */
  forwardable?: boolean;
  /** Bound on each KDC's connect and answer, ms. Default {@link DEFAULT_KDC_TIMEOUT_MS}. */
  timeoutMs?: number;
  /** For tests: the KDCs to use instead of krb5.conf. */
  kdcs?: readonly KdcAddress[];
  /** For tests: the client's clock, ms since the epoch. Default Date.now. */
  now?: () => number;
  env?: NodeJS.ProcessEnv;
}

/** Split `a/b@REALM`; the realm defaults to krb5.conf's default_realm. */
export function splitPrincipal(
  principal: string,
  env: NodeJS.ProcessEnv = process.env,
): {
  components: string[];
  realm: string;
} {
  const at = principal.lastIndexOf('@');
  const name = at >= 0 ? principal.slice(0, at) : principal;
  const realm = at >= 0 ? principal.slice(at + 1) : readKrb5Conf(env).defaultRealm;
  if (!realm) throw new Error('Configuration file does not specify default realm');
  return { components: name.split('/'), realm };
}

/** Run the AS exchange against the realm's KDCs (in order, the next one when one cannot be reached). */
export async function requestTgt(o: AsExchangeOptions): Promise<AsReply> {
  const env = o.env ?? process.env;
  const { components, realm } = splitPrincipal(o.principal, env);
  const kdcs = o.kdcs ?? (await findKdcs(realm, env));
  if (kdcs.length === 0) throw new Error(`Cannot find KDC for realm "${realm}"`);
  const timeoutMs = o.timeoutMs ?? DEFAULT_KDC_TIMEOUT_MS;
  const unreachable: string[] = [];
  for (const kdc of kdcs) {
    const exchange = (req: Buffer) => kdcRoundTrip(kdc, req, timeoutMs);
    try {
      return await asExchange(o, components, realm, exchange);
    } catch (err) {
      if (err instanceof KdcTransportError) {
        unreachable.push(err.message);
        continue;
      }
      throw err;
    }
  }
  throw new Error(`Cannot contact any KDC for realm '${realm}' (${unreachable.join('; ')})`);
}

class KdcTransportError extends Error {}

async function asExchange(
  o: AsExchangeOptions,
  client: string[],
  realm: string,
  send: (req: Buffer) => Promise<Buffer>,
): Promise<AsReply> {
  const now = o.now ?? Date.now;
  const etypes = [ENCTYPE.aes256, ENCTYPE.aes128];
  const ask = async (padata: { type: number; value: Buffer }[], nonce: number): Promise<Buffer> => {
    const req = encodeAsReq({
      client,
      realm,
      nonce,
      till: new Date(now() + 24 * 3600 * 1000),
      forwardable: o.forwardable ?? false,
      etypes,
      padata,
    });
    let answer: Buffer;
    try {
      answer = await send(req);
    } catch (err) {
      throw new KdcTransportError((err as Error).message);
    }
    if (answer[0] === app(30)) throw readKrbError(answer);
    if (answer[0] !== app(11)) throw new Error(`the KDC answered with tag 0x${answer[0]?.toString(16)}`);
    return answer;
  };
  const defaultSalt = realm + client.join('');
  let info: EtypeInfo = { etype: ENCTYPE.aes256, salt: undefined, iterations: undefined };
  const keyFor = (i: EtypeInfo): KrbKey => ({
    enctype: i.etype,
    key: stringToKey(i.etype, o.password, i.salt ?? defaultSalt, i.iterations ?? 4096),
  });
  const replyKey = (padata: { type: number; value: Buffer }[]): KrbKey => {
    const e2 = padata.find((p) => p.type === PA.etypeInfo2);
    const fromReply = e2 ? readEtypeInfo2(e2.value) : undefined;
    return keyFor(fromReply ?? info);
  };
  let nonce = randomBytes(4).readUInt32BE(0) & 0x7fffffff;
  let answer: Buffer;
  try {
    answer = await ask([], nonce);
  } catch (err) {
    if (!(err instanceof KrbErrorReply) || err.code !== 25) throw err;
    const methods = err.eData ? readPaData(new DerReader(err.eData)) : [];
    const e2 = methods.find((p) => p.type === PA.etypeInfo2);
    const got = e2 ? readEtypeInfo2(e2.value) : undefined;
    if (e2 && !got) {
      throw new KrbErrorReply(
        14,
        undefined,
        'the KDC offers no AES key for this account (aes256/aes128 only)',
      );
    }
    if (got) info = got;
    const t = now();
    const ts = seq(field(0, kerberosTime(new Date(t))), field(1, integer((t % 1000) * 1000)));
    const key = keyFor(info);
    const encTs = seq(field(0, integer(key.enctype)), field(2, octets(encrypt(key, 1, ts))));
    nonce = randomBytes(4).readUInt32BE(0) & 0x7fffffff;
    answer = await ask([{ type: PA.encTimestamp, value: encTs }], nonce);
  }
  return readAsRep(answer, replyKey, nonce);
}
