/**
 * The per-message keys and sequence numbers of an established Kerberos context, recovered without GSSAPI's
 * help, because the `kerberos` addon's client wrap cannot seal a message on Unix (docs/kerberos.md):
 *
 * 1. our own first token holds the AP-REQ ([RFC 4120] 5.5.1): the ticket and the authenticator;
 * 2. the credential cache the addon used (./ccache.ts) holds that ticket with its session key: the credential
 *    whose ticket enc-part ciphertext equals the AP-REQ's (byte-equal, whatever the names or referrals were);
 * 3. the authenticator (session key, key usage 11) gives the initiator's subkey and sequence number;
 * 4. the server's AP-REP enc-part (session key, usage 12: [RFC 4120] 5.5.2) gives the acceptor's subkey and
 *    sequence number; the AP-REP's ctime/cusec must be the authenticator's (MIT checked it already).
 *
 * The per-message key is then, per [RFC 4121] 2: the acceptor's subkey, else the initiator's, else the session
 * key. Everything here is a secret: nothing of it goes into a message or a log.
 */

import { InvalidArgumentError, ProtocolError } from '../../errors.ts';
import { decrypt, isSupportedEnctype, KrbCryptoError, type KrbKey } from '../../krb5/crypto.ts';
import { app, DerError, DerReader, intValue, oidFromContent, TAG } from '../../krb5/der.ts';
import { decodeNegTokenInit, decodeNegTokenResp } from '../spnego.ts';
import { type CcacheCredential, readCcache, UNREADABLE_CACHE_REMEDY } from './ccache.ts';

const KRB5_OIDS = new Set(['1.2.840.113554.1.2.2', '1.2.840.48018.1.2.2']);
const USAGE_AUTHENTICATOR = 11;
const USAGE_AP_REP_ENC_PART = 12;

export interface SessionKeys {
  /** The per-message key (secret). */
  key: KrbKey;
  /** Whether `key` is the acceptor's subkey: flag AcceptorSubkey in every wrap token. */
  acceptorSubkey: boolean;
  /** The initiator's first sequence number (our first wrap token). */
  initiatorSeq: bigint;
  /** The acceptor's first sequence number (the server's first wrap token). */
  acceptorSeq: bigint;
}

/** The krb5 GSS token inside an SPNEGO token (init or response), or the token itself when it is raw krb5. */
export function krb5Token(token: Buffer): Buffer | undefined {
  if (token[0] === 0x60) {
    const outer = DerReader.of(token).enter(0x60, 'InitialContextToken');
    const oid = oidFromContent(outer.read(TAG.oid, 'thisMech').content);
    if (KRB5_OIDS.has(oid)) return token;
    return decodeNegTokenInit(token).mechToken;
  }
  if (token[0] === 0xa1) return decodeNegTokenResp(token).responseToken;
  return undefined;
}

/** `60 len 06 len OID TOK_ID message`: the message after a krb5 TOK_ID. */
function innerMessage(token: Buffer, tokId: number, what: string): Buffer {
  const outer = DerReader.of(token).enter(0x60, what);
  outer.read(TAG.oid, `${what} mech`);
  const rest = outer.rest();
  if (rest.length < 2 || rest.readUInt16BE(0) !== tokId) {
    throw new DerError(`${what} does not carry TOK_ID ${tokId.toString(16).padStart(4, '0')}`);
  }
  return rest.subarray(2);
}

function encryptedData(r: DerReader, what: string): { etype: number; cipher: Buffer } {
  const s = r.enter(TAG.sequence, what);
  const etype = intValue(s.field(0, TAG.integer, `${what} etype`), `${what} etype`);
  s.optionalField(1, TAG.integer, `${what} kvno`);
  return { etype, cipher: s.field(2, TAG.octetString, `${what} cipher`).content };
}

function readKey(r: DerReader, what: string): KrbKey {
  const s = r.enter(TAG.sequence, what);
  return {
    enctype: intValue(s.field(0, TAG.integer, `${what} keytype`), `${what} keytype`),
    key: Buffer.from(s.field(1, TAG.octetString, `${what} keyvalue`).content),
  };
}

/** A Ticket's enc-part ciphertext ([RFC 4120] 5.3: APPLICATION 1 SEQUENCE { ..., enc-part [3] }). */
function ticketCipher(ticket: DerReader): Buffer {
  const t = ticket.enter(app(1), 'Ticket').enter(TAG.sequence, 'Ticket');
  t.read(0xa0, 'tkt-vno');
  t.read(0xa1, 'realm');
  t.read(0xa2, 'sname');
  return encryptedData(t.enter(0xa3, 'ticket enc-part'), 'ticket enc-part').cipher;
}

interface ApReq {
  ticketCipher: Buffer;
  authenticator: { etype: number; cipher: Buffer };
}

function readApReq(gssToken: Buffer): ApReq {
  const req = DerReader.of(innerMessage(gssToken, 0x0100, 'AP-REQ token'))
    .enter(app(14), 'AP-REQ')
    .enter(TAG.sequence, 'AP-REQ');
  req.read(0xa0, 'pvno');
  req.read(0xa1, 'msg-type');
  req.read(0xa2, 'ap-options');
  const cipher = ticketCipher(req.enter(0xa3, 'ticket'));
  return {
    ticketCipher: cipher,
    authenticator: encryptedData(req.enter(0xa4, 'authenticator'), 'authenticator'),
  };
}

/** The service ticket's credential in the cache: the one whose ticket ciphertext is the AP-REQ's. */
function findCredential(creds: readonly CcacheCredential[], cipher: Buffer): CcacheCredential | undefined {
  for (const c of creds) {
    try {
      if (ticketCipher(DerReader.of(c.ticket)).equals(cipher)) return c;
    } catch {
      // A ticket this reader does not understand is not ours.
    }
  }
  return undefined;
}

const seqNumber = (t: ReturnType<DerReader['read']>, what: string): bigint => BigInt(intValue(t, what) >>> 0); // UInt32; some encoders send it as a negative Int32

/**
 * Recover the keys of a completed context from the client's first token, the server's final token and the
 * credential cache `ccache` the addon used. Throws InvalidArgumentError (cache not readable, ticket not in it)
 * or ProtocolError (tokens that do not decrypt).
 */
export function recoverSessionKeys(
  clientToken: Buffer,
  serverToken: Buffer,
  ccache: string,
  /** The client's token after the server's last one (SPNEGO: its mechListMIC), if any. */
  clientFinal?: Buffer,
): SessionKeys {
  let apReq: ApReq;
  let apRepEnc: { etype: number; cipher: Buffer };
  try {
    const c = krb5Token(clientToken);
    const s = krb5Token(serverToken);
    if (!c || !s) throw new DerError('the tokens carry no Kerberos AP-REQ / AP-REP');
    apReq = readApReq(c);
    const rep = DerReader.of(innerMessage(s, 0x0200, 'AP-REP token'))
      .enter(app(15), 'AP-REP')
      .enter(TAG.sequence, 'AP-REP');
    rep.read(0xa0, 'pvno');
    rep.read(0xa1, 'msg-type');
    apRepEnc = encryptedData(rep.enter(0xa2, 'AP-REP enc-part'), 'AP-REP enc-part');
  } catch (err) {
    if (err instanceof DerError) {
      throw new ProtocolError(`Kerberos message encryption: cannot read the context tokens (${err.message})`);
    }
    throw err;
  }
  const cred = findCredential(readCcache(ccache), apReq.ticketCipher);
  if (!cred) {
    throw new InvalidArgumentError(
      'Kerberos message encryption over HTTP needs the session key of the service ticket, and the ticket cache ' +
        `${ccache} does not hold the ticket that was used (a read-only or replaced cache)`,
      { argument: 'encryption', remedy: UNREADABLE_CACHE_REMEDY },
    );
  }
  const session = cred.key;
  if (!isSupportedEnctype(session.enctype)) {
    throw new InvalidArgumentError(
      `The service ticket's session key has enctype ${session.enctype}; message encryption supports only ` +
        'aes256-cts-hmac-sha1-96 and aes128-cts-hmac-sha1-96',
      {
        argument: 'encryption',
        remedy:
          'give the account and the server AES keys (msDS-SupportedEncryptionTypes), or connect over HTTPS',
      },
    );
  }
  try {
    // Authenticator ::= [APPLICATION 2] SEQUENCE { authenticator-vno [0], crealm [1], cname [2], cksum [3]
    //   OPTIONAL, cusec [4], ctime [5], subkey [6] OPTIONAL, seq-number [7] OPTIONAL, authorization-data [8] }
    const au = DerReader.of(decrypt(session, USAGE_AUTHENTICATOR, apReq.authenticator.cipher))
      .enter(app(2), 'Authenticator')
      .enter(TAG.sequence, 'Authenticator');
    au.read(0xa0, 'authenticator-vno');
    au.read(0xa1, 'crealm');
    au.read(0xa2, 'cname');
    au.optional(0xa3, 'cksum');
    const cusec = au.read(0xa4, 'cusec').content;
    const ctime = au.read(0xa5, 'ctime').content;
    const initiatorSubkey = au.peekTag() === 0xa6 ? readKey(au.enter(0xa6, 'subkey'), 'subkey') : undefined;
    const iseq = au.optionalField(7, TAG.integer, 'seq-number');
    // EncAPRepPart ::= [APPLICATION 27] SEQUENCE { ctime [0], cusec [1], subkey [2] OPTIONAL, seq-number [3] }
    const ep = DerReader.of(decrypt(session, USAGE_AP_REP_ENC_PART, apRepEnc.cipher))
      .enter(app(27), 'EncAPRepPart')
      .enter(TAG.sequence, 'EncAPRepPart');
    const repCtime = ep.read(0xa0, 'ctime').content;
    const repCusec = ep.read(0xa1, 'cusec').content;
    if (!repCtime.equals(ctime) || !repCusec.equals(cusec)) {
      throw new DerError('the AP-REP answers another authenticator (its ctime / cusec differ)');
    }
    const acceptorSubkey = ep.peekTag() === 0xa2 ? readKey(ep.enter(0xa2, 'subkey'), 'subkey') : undefined;
    const aseq = ep.optionalField(3, TAG.integer, 'seq-number');
    let initiatorSeq = iseq ? seqNumber(iseq, 'seq-number') : 0n;
    let acceptorSeq = aseq ? seqNumber(aseq, 'seq-number') : initiatorSeq;
    // An SPNEGO mechListMIC is a krb5 MIC token: it used one sequence number of its sender ([RFC 4121] 4.2.6.1).
    const serverMic = micSequence(serverToken);
    if (serverMic !== undefined) acceptorSeq = serverMic + 1n;
    const clientMic = micSequence(clientFinal);
    if (clientMic !== undefined) initiatorSeq = clientMic + 1n;
    const key = acceptorSubkey ?? initiatorSubkey ?? session;
    if (!isSupportedEnctype(key.enctype)) {
      throw new DerError(`the per-message key has enctype ${key.enctype} (only AES is supported)`);
    }
    return {
      key,
      acceptorSubkey: acceptorSubkey !== undefined,
      initiatorSeq,
      // Without an AP-REP sequence number the acceptor counts on from the initiator's (what MIT does).
      acceptorSeq,
    };
  } catch (err) {
    if (err instanceof DerError || err instanceof KrbCryptoError) {
      throw new ProtocolError(
        `Kerberos message encryption: the context tokens do not decrypt with the ticket's session key (${err.message})`,
        { remedy: 'the ticket cache changed while connecting; connect again, or connect over HTTPS' },
      );
    }
    throw err;
  }
}

/** The sequence number of the krb5 MIC token in an SPNEGO NegTokenResp's mechListMIC, if there is one. */
function micSequence(token: Buffer | undefined): bigint | undefined {
  if (token?.[0] !== 0xa1) return undefined;
  try {
    const mic = decodeNegTokenResp(token).mechListMIC;
    if (mic && mic.length >= 16 && mic.readUInt16BE(0) === 0x0404) return mic.readBigUInt64BE(8);
  } catch {
    // Not a NegTokenResp: no MIC.
  }
  return undefined;
}
