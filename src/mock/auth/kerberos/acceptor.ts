/**
 * The Kerberos acceptor of the mock ([RFC 4120] 3.2.3 and [RFC 4121] 4.1): takes the GSS-API initial context
 * token carrying a KRB_AP_REQ, decrypts the ticket with the service key from the keytab (key usage 2) and the
 * authenticator with the ticket's session key (usage 11), and checks, in this order, what a Windows acceptor
 * checks (in MIT's krb5_rd_req order): the service principal and key version, the authenticator's client
 * against the ticket's, the clock skew of the authenticator (5 minutes, KRB_AP_ERR_SKEW), the ticket's validity
 * period (start and end, each with the skew), replays (a replay cache keyed by client, ctime, cusec), and the GSS checksum (type 0x8003: channel bindings
 * and the context flags). The answer for mutual authentication is a KRB_AP_REP (usage 12) with a fresh
 * acceptor subkey and sequence number, which then keys the per-message tokens.
 *
 * Independent of MIT: nothing here calls GSSAPI or libkrb5 (the client uses them; a shared mistake would pass).
 */
import { createHash, randomInt } from 'node:crypto';
import {
  decrypt,
  encrypt,
  isSupportedEnctype,
  KrbCryptoError,
  type KrbKey,
  randomKey,
} from '../../../krb5/crypto.ts';
import {
  app,
  DerError,
  DerReader,
  field,
  integer,
  intValue,
  octets,
  seq,
  TAG,
  timeValue,
  tlv,
} from '../../../krb5/der.ts';
import { MOCK_DEFAULTS } from '../../options.ts';
import {
  AcceptorContext,
  decodeContextToken,
  encodeContextToken,
  KEY_USAGE,
  KRB5_MS_OID,
  KRB5_OID,
  TOK_ID,
} from './gss.ts';
import type { KeytabEntry } from './keytab.ts';

/** KRB_AP_ERR_* codes ([RFC 4120] 7.5.9) the acceptor reports. */
export const KRB_ERR = {
  KDC_ERR_ETYPE_NOSUPP: 14,
  KRB_AP_ERR_BAD_INTEGRITY: 31,
  KRB_AP_ERR_TKT_EXPIRED: 32,
  KRB_AP_ERR_TKT_NYV: 33,
  KRB_AP_ERR_REPEAT: 34,
  KRB_AP_ERR_NOT_US: 35,
  KRB_AP_ERR_BADMATCH: 36,
  KRB_AP_ERR_SKEW: 37,
  KRB_AP_ERR_MSG_TYPE: 40,
  KRB_AP_ERR_MODIFIED: 41,
  KRB_AP_ERR_BADKEYVER: 44,
  KRB_AP_ERR_NOKEY: 45,
  KRB_AP_ERR_INAPP_CKSUM: 50,
  KRB_ERR_GENERIC: 60,
} as const;

export type KrbErrorName = keyof typeof KRB_ERR;

/** Context flags of the 0x8003 checksum ([RFC 4121] 4.1.1.1). */
export const GSS_FLAG = { deleg: 1, mutual: 2, replay: 4, sequence: 8, conf: 16, integ: 32 } as const;

/**
 * Default allowed clock skew: 5 minutes, Kerberos' and Windows' default ("Maximum tolerance for computer clock
 * synchronization"); the one value is MOCK_DEFAULTS.kerberosMaxClockSkewMs.
 */
export const DEFAULT_MAX_CLOCK_SKEW_MS = MOCK_DEFAULTS.kerberosMaxClockSkewMs;

export class KrbApError extends Error {
  constructor(
    readonly code: KrbErrorName,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export interface AcceptorOptions {
  keys: readonly KeytabEntry[];
  /** Allowed clock difference between client and mock. Default: 300,000 ms (5 minutes). */
  maxClockSkewMs?: number;
  /** The acceptor's clock, for tests. Default: Date.now. */
  now?: () => number;
}

export interface AcceptedContext {
  /** Client principal name (components joined by `/`) and realm, from the ticket. */
  client: { name: string; realm: string };
  /** Service principal the ticket was for, e.g. `HTTP/host.example`. */
  service: string;
  /** 0x8003 context flags. */
  flags: number;
  /** GSS token with the KRB_AP_REP (when mutual authentication was asked for), for the final WWW-Authenticate. */
  responseToken?: Buffer;
  context: AcceptorContext;
  /** The mech OID the initiator used in its token. */
  oid: string;
}

interface PrincipalName {
  type: number;
  parts: string[];
}

function readPrincipal(t: DerReader, what: string): PrincipalName {
  const s = t.enter(TAG.sequence, what);
  const type = intValue(s.field(0, TAG.integer, `${what} name-type`), `${what} name-type`);
  const list = s.enter(0xa1, `${what} name-string`).enter(TAG.sequence, `${what} name-string`);
  const parts: string[] = [];
  while (!list.done) parts.push(list.read(TAG.generalString, `${what} component`).content.toString('utf8'));
  return { type, parts };
}

function readEncryptedData(r: DerReader, what: string): { etype: number; kvno?: number; cipher: Buffer } {
  const s = r.enter(TAG.sequence, what);
  const etype = intValue(s.field(0, TAG.integer, `${what} etype`), `${what} etype`);
  const k = s.optionalField(1, TAG.integer, `${what} kvno`);
  const cipher = s.field(2, TAG.octetString, `${what} cipher`).content;
  return { etype, ...(k ? { kvno: intValue(k, `${what} kvno`) } : {}), cipher };
}

function readKey(r: DerReader, what: string): KrbKey {
  const s = r.enter(TAG.sequence, what);
  return {
    enctype: intValue(s.field(0, TAG.integer, `${what} keytype`), `${what} keytype`),
    key: Buffer.from(s.field(1, TAG.octetString, `${what} keyvalue`).content),
  };
}

function encodeKey(k: KrbKey): Buffer {
  return seq(field(0, integer(k.enctype)), field(1, octets(k.key)));
}

const u32 = (b: Buffer, off: number) => b.readUInt32LE(off);

/** A replay cache: authenticators seen within the skew window ([RFC 4120] 3.2.3). */
class ReplayCache {
  readonly #seen = new Map<string, number>();
  /** True when the key was seen; records it until `expires`. */
  check(key: string, now: number, expires: number): boolean {
    // Entries are inserted in time order with the same lifetime, so the expired ones are at the front.
    for (const [k, until] of this.#seen) {
      if (until >= now) break;
      this.#seen.delete(k);
    }
    if (this.#seen.has(key)) return true;
    this.#seen.set(key, expires);
    return false;
  }
}

export class KerberosAcceptor {
  readonly #keys: readonly KeytabEntry[];
  readonly #skew: number;
  readonly #now: () => number;
  readonly #replay = new ReplayCache();

  constructor(options: AcceptorOptions) {
    this.#keys = options.keys;
    this.#skew = options.maxClockSkewMs ?? DEFAULT_MAX_CLOCK_SKEW_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Service principals the keytab holds keys for (`service/host@REALM`). */
  get principals(): string[] {
    return [...new Set(this.#keys.map((k) => `${k.principal}@${k.realm}`))];
  }

  /**
   * Accepts an initial context token (raw krb5 GSS token; under SPNEGO, the mechToken).
   * @param bindings the MD5 of the channel bindings the client must have used, or undefined when not checked
   * @throws KrbApError naming the KRB_AP_ERR code
   */
  accept(token: Buffer, bindings?: Buffer): AcceptedContext {
    let decoded: ReturnType<typeof decodeContextToken>;
    try {
      decoded = decodeContextToken(token);
    } catch (err) {
      throw new KrbApError('KRB_AP_ERR_MSG_TYPE', (err as Error).message);
    }
    if (decoded.oid !== KRB5_OID && decoded.oid !== KRB5_MS_OID) {
      throw new KrbApError('KRB_AP_ERR_MSG_TYPE', `mechanism ${decoded.oid} is not Kerberos`);
    }
    if (decoded.tokId !== TOK_ID.apReq) {
      throw new KrbApError('KRB_AP_ERR_MSG_TYPE', `TOK_ID ${decoded.tokId.toString(16)} is not an AP-REQ`);
    }
    try {
      return { ...this.#acceptApReq(decoded.message, bindings), oid: decoded.oid };
    } catch (err) {
      if (err instanceof DerError)
        throw new KrbApError('KRB_AP_ERR_MSG_TYPE', `malformed AP-REQ: ${err.message}`);
      throw err;
    }
  }

  #acceptApReq(message: Buffer, bindings: Buffer | undefined): Omit<AcceptedContext, 'oid'> {
    const req = DerReader.of(message).enter(app(14), 'AP-REQ').enter(TAG.sequence, 'AP-REQ');
    const pvno = intValue(req.field(0, TAG.integer, 'pvno'), 'pvno');
    const msgType = intValue(req.field(1, TAG.integer, 'msg-type'), 'msg-type');
    if (pvno !== 5 || msgType !== 14)
      throw new KrbApError('KRB_AP_ERR_MSG_TYPE', `pvno ${pvno}, msg-type ${msgType}`);
    const apOptions = req.field(2, TAG.bitString, 'ap-options').content;
    const mutualRequired = apOptions.length > 1 && (apOptions[1]! & 0x20) !== 0;
    // Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0], realm [1], sname [2], enc-part [3] }
    const ticket = req.enter(0xa3, 'ticket').enter(app(1), 'Ticket').enter(TAG.sequence, 'Ticket');
    ticket.field(0, TAG.integer, 'tkt-vno');
    const realm = ticket.field(1, TAG.generalString, 'realm').content.toString('utf8');
    const sname = readPrincipal(ticket.enter(0xa2, 'sname'), 'sname');
    const ticketEnc = readEncryptedData(ticket.enter(0xa3, 'ticket enc-part'), 'ticket enc-part');
    const authEnc = readEncryptedData(req.enter(0xa4, 'authenticator'), 'authenticator');

    const service = sname.parts.join('/');
    const candidates = this.#keys.filter(
      (k) =>
        k.principal.toLowerCase() === service.toLowerCase() && k.realm.toUpperCase() === realm.toUpperCase(),
    );
    if (candidates.length === 0) {
      throw new KrbApError('KRB_AP_ERR_NOT_US', `no key for ${service}@${realm} in the keytab`);
    }
    const withType = candidates.filter((k) => k.enctype === ticketEnc.etype);
    if (withType.length === 0) {
      throw new KrbApError(
        'KRB_AP_ERR_NOKEY',
        `no key of enctype ${ticketEnc.etype} for ${service}@${realm}`,
      );
    }
    const entry =
      ticketEnc.kvno === undefined ? withType.at(-1) : withType.find((k) => k.kvno === ticketEnc.kvno);
    if (!entry) {
      throw new KrbApError(
        'KRB_AP_ERR_BADKEYVER',
        `the keytab has no kvno ${ticketEnc.kvno} for ${service}@${realm}`,
      );
    }
    if (!isSupportedEnctype(entry.enctype)) {
      throw new KrbApError(
        'KRB_AP_ERR_NOKEY',
        `enctype ${entry.enctype} is not supported by the mock (use aes256/aes128-cts-hmac-sha1-96)`,
      );
    }
    let encTicket: Buffer;
    try {
      encTicket = decrypt({ enctype: entry.enctype, key: entry.key }, KEY_USAGE.ticket, ticketEnc.cipher);
    } catch (err) {
      if (err instanceof KrbCryptoError)
        throw new KrbApError('KRB_AP_ERR_BAD_INTEGRITY', `ticket: ${err.message}`);
      throw err;
    }
    // EncTicketPart ::= [APPLICATION 3] SEQUENCE { flags [0], key [1], crealm [2], cname [3], transited [4],
    //   authtime [5], starttime [6] OPTIONAL, endtime [7], renew-till [8] OPTIONAL, caddr [9] OPTIONAL, ... }
    const et = DerReader.of(encTicket).enter(app(3), 'EncTicketPart').enter(TAG.sequence, 'EncTicketPart');
    const ticketFlags = et.field(0, TAG.bitString, 'flags').content;
    const sessionKey = readKey(et.enter(0xa1, 'key'), 'session key');
    const crealm = et.field(2, TAG.generalString, 'crealm').content.toString('utf8');
    const cname = readPrincipal(et.enter(0xa3, 'cname'), 'cname');
    et.read(0xa4, 'transited');
    const authtime = timeValue(et.field(5, TAG.generalizedTime, 'authtime'), 'authtime');
    const start = et.optionalField(6, TAG.generalizedTime, 'starttime');
    const endtime = timeValue(et.field(7, TAG.generalizedTime, 'endtime'), 'endtime');
    const now = this.#now();
    const starttime = start ? timeValue(start, 'starttime') : authtime;
    if (!isSupportedEnctype(sessionKey.enctype)) {
      throw new KrbApError(
        'KDC_ERR_ETYPE_NOSUPP',
        `session key enctype ${sessionKey.enctype} is not supported`,
      );
    }

    let encAuth: Buffer;
    try {
      encAuth = decrypt(sessionKey, KEY_USAGE.authenticator, authEnc.cipher);
    } catch (err) {
      if (err instanceof KrbCryptoError)
        throw new KrbApError('KRB_AP_ERR_BAD_INTEGRITY', `authenticator: ${err.message}`);
      throw err;
    }
    // Authenticator ::= [APPLICATION 2] SEQUENCE { authenticator-vno [0], crealm [1], cname [2],
    //   cksum [3] OPTIONAL, cusec [4], ctime [5], subkey [6] OPTIONAL, seq-number [7] OPTIONAL, ... }
    const au = DerReader.of(encAuth).enter(app(2), 'Authenticator').enter(TAG.sequence, 'Authenticator');
    au.field(0, TAG.integer, 'authenticator-vno');
    const aRealm = au.field(1, TAG.generalString, 'crealm').content.toString('utf8');
    const aName = readPrincipal(au.enter(0xa2, 'cname'), 'cname');
    let cksum: { type: number; value: Buffer } | undefined;
    if (au.peekTag() === 0xa3) {
      const c = au.enter(0xa3, 'cksum').enter(TAG.sequence, 'cksum');
      cksum = {
        type: intValue(c.field(0, TAG.integer, 'cksumtype'), 'cksumtype'),
        value: c.field(1, TAG.octetString, 'checksum').content,
      };
    }
    const cusecTlv = au.field(4, TAG.integer, 'cusec');
    const cusec = intValue(cusecTlv, 'cusec');
    const ctimeTlv = au.field(5, TAG.generalizedTime, 'ctime');
    const ctime = timeValue(ctimeTlv, 'ctime');
    const subkey = au.peekTag() === 0xa6 ? readKey(au.enter(0xa6, 'subkey'), 'subkey') : undefined;
    const seqTlv = au.optionalField(7, TAG.integer, 'seq-number');
    const initiatorSeq = seqTlv ? intValue(seqTlv, 'seq-number') >>> 0 : 0;

    const who = `${cname.parts.join('/')}@${crealm}`;
    if (aRealm !== crealm || aName.parts.join('/') !== cname.parts.join('/')) {
      throw new KrbApError(
        'KRB_AP_ERR_BADMATCH',
        `authenticator names ${aName.parts.join('/')}@${aRealm}, the ticket ${who}`,
      );
    }
    if (Math.abs(ctime.getTime() + Math.floor(cusec / 1000) - now) > this.#skew) {
      throw new KrbApError(
        'KRB_AP_ERR_SKEW',
        `the client clock (${ctime.toISOString()}) differs from the server's by more than ${this.#skew / 1000} s`,
      );
    }
    // TicketFlags bit 7 is "invalid" (a postdated ticket not yet validated).
    if (ticketFlags.length > 1 && (ticketFlags[1]! & 0x01) !== 0) {
      throw new KrbApError('KRB_AP_ERR_TKT_NYV', 'the ticket is marked invalid');
    }
    if (starttime.getTime() - now > this.#skew) {
      throw new KrbApError('KRB_AP_ERR_TKT_NYV', `the ticket is valid from ${starttime.toISOString()}`);
    }
    if (now - endtime.getTime() > this.#skew) {
      throw new KrbApError('KRB_AP_ERR_TKT_EXPIRED', `the ticket expired at ${endtime.toISOString()}`);
    }
    if (cksum?.type !== 0x8003) {
      throw new KrbApError(
        'KRB_AP_ERR_INAPP_CKSUM',
        'the authenticator has no GSS-API checksum (type 0x8003)',
      );
    }
    // 0x8003 ([RFC 4121] 4.1.1): Lgth (4, LE, = 16), Bnd (16: MD5 of the channel bindings or zeros), Flags (4, LE).
    if (cksum.value.length < 24 || u32(cksum.value, 0) !== 16) {
      throw new KrbApError('KRB_AP_ERR_INAPP_CKSUM', 'the 0x8003 checksum is malformed');
    }
    const bnd = cksum.value.subarray(4, 20);
    if (bindings && !bnd.equals(bindings)) {
      throw new KrbApError(
        'KRB_AP_ERR_MODIFIED',
        bnd.equals(Buffer.alloc(16))
          ? 'channel bindings are required over HTTPS (Extended Protection) and the client sent none'
          : 'the channel bindings do not match this TLS connection',
      );
    }
    const flags = u32(cksum.value, 20);
    if (this.#replay.check(`${who}|${service}|${ctime.getTime()}|${cusec}`, now, now + 2 * this.#skew)) {
      throw new KrbApError('KRB_AP_ERR_REPEAT', `authenticator of ${who} seen before (replay)`);
    }

    // Per-message keys: a fresh acceptor subkey (of the initiator's subkey type, else the session key's).
    const subType = subkey && isSupportedEnctype(subkey.enctype) ? subkey.enctype : sessionKey.enctype;
    const mutual = mutualRequired || (flags & GSS_FLAG.mutual) !== 0;
    const acceptorSeq = randomInt(0, 0x3fff_ffff);
    let context: AcceptorContext;
    let responseToken: Buffer | undefined;
    if (mutual) {
      const acceptorSubkey = randomKey(subType);
      // EncAPRepPart ::= [APPLICATION 27] SEQUENCE { ctime [0], cusec [1], subkey [2], seq-number [3] }
      const encPart = tlv(
        app(27),
        seq(
          field(0, ctimeTlv.raw),
          field(1, cusecTlv.raw),
          field(2, encodeKey(acceptorSubkey)),
          field(3, integer(acceptorSeq)),
        ),
      );
      const apRep = tlv(
        app(15),
        seq(
          field(0, integer(5)),
          field(1, integer(15)),
          field(
            2,
            seq(
              field(0, integer(sessionKey.enctype)),
              field(2, octets(encrypt(sessionKey, KEY_USAGE.apRepEncPart, encPart))),
            ),
          ),
        ),
      );
      responseToken = encodeContextToken(TOK_ID.apRep, apRep);
      context = new AcceptorContext(acceptorSubkey, true, initiatorSeq, acceptorSeq);
    } else {
      context = new AcceptorContext(subkey ?? sessionKey, false, initiatorSeq, initiatorSeq);
    }
    return {
      client: { name: cname.parts.join('/'), realm: crealm },
      service,
      flags,
      ...(responseToken ? { responseToken } : {}),
      context,
    };
  }
}

/**
 * The 16-byte Bnd of the 0x8003 checksum for `tls-server-end-point` bindings ([RFC 4121] 4.1.1.2, [RFC 5929]):
 * MD5 of the gss_channel_bindings_struct with empty addresses and the application data.
 */
export function channelBindingsHash(applicationData: Buffer): Buffer {
  const head = Buffer.alloc(20);
  head.writeUInt32LE(applicationData.length, 16);
  return createHash('md5').update(head).update(applicationData).digest();
}
