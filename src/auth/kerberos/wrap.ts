/**
 * RFC 4121 sealed Wrap tokens (4.2.6.2) for the initiator, in TypeScript over the shared RFC 3961/3962 crypto
 * (src/krb5/crypto.ts), with the keys of ./session-keys.ts, written straight into WinRM's layout (./layout.ts):
 *
 *   header(16) = 05 04 | flags | FF | EC = 0 | RRC = 28 | SND_SEQ (uint64 BE)
 *   sealed     = encrypt(key, usage 24, plaintext | header with RRC 0)   (confounder and HMAC by the profile)
 *   token      = header | sealed rotated right by 28;  WinRM header = token[0, 60), data = the rest
 *
 * flags: Sealed (2), plus AcceptorSubkey (4) when the AP-REP carried a subkey; never SentByAcceptor (1). EC 0:
 * AES-CTS needs no padding, so the data is exactly as long as the plaintext (what gss_wrap_iov and Windows send).
 * Unwrap takes the acceptor's tokens (usage 22) at any RRC and EC, checks the flags, the encrypted header copy
 * and the sequence number (one socket carries one message at a time, so they come strictly in order).
 */

import { ProtocolError } from '../../errors.ts';
import { decrypt, encrypt, KrbCryptoError } from '../../krb5/crypto.ts';
import type { AsyncSecurityContext } from '../mechanism.ts';
import { CONFOUNDER_BYTES, readWrapHeader, rotateRight, TOKEN_HEADER_BYTES, WINDOWS_RRC } from './layout.ts';
import type { SessionKeys } from './session-keys.ts';

const USAGE_ACCEPTOR_SEAL = 22;
const USAGE_INITIATOR_SEAL = 24;
const FLAG_SENT_BY_ACCEPTOR = 0x01;
const FLAG_SEALED = 0x02;
const FLAG_ACCEPTOR_SUBKEY = 0x04;
const MAX_SEQ = 0xffff_ffff_ffff_ffffn;

function header(flags: number, ec: number, rrc: number, seq: bigint): Buffer {
  const h = Buffer.alloc(TOKEN_HEADER_BYTES);
  h.writeUInt16BE(0x0504, 0);
  h[2] = flags;
  h[3] = 0xff;
  h.writeUInt16BE(ec, 4);
  h.writeUInt16BE(rrc, 6);
  h.writeBigUInt64BE(seq & MAX_SEQ, 8);
  return h;
}

/** The initiator's half of the per-message protection. Keys stay in private fields (never inspected). */
export class InitiatorWrap {
  readonly #keys: SessionKeys;
  #sendSeq: bigint;
  #recvSeq: bigint;

  constructor(keys: SessionKeys) {
    this.#keys = keys;
    this.#sendSeq = keys.initiatorSeq;
    this.#recvSeq = keys.acceptorSeq;
  }

  /** The next sequence numbers (for tests): what our next token carries, what the server's next must carry. */
  get sequence(): { send: bigint; receive: bigint } {
    return { send: this.#sendSeq, receive: this.#recvSeq };
  }

  /** Seal one message in WinRM's layout: `header` 60 bytes, `data` as long as the plaintext. */
  wrap(plaintext: Buffer): { header: Buffer; data: Buffer } {
    const flags = FLAG_SEALED | (this.#keys.acceptorSubkey ? FLAG_ACCEPTOR_SUBKEY : 0);
    const seq = this.#sendSeq;
    this.#sendSeq = (seq + 1n) & MAX_SEQ;
    const sealed = encrypt(
      this.#keys.key,
      USAGE_INITIATOR_SEAL,
      Buffer.concat([plaintext, header(flags, 0, 0, seq)]),
    );
    const token = Buffer.concat([header(flags, 0, WINDOWS_RRC, seq), rotateRight(sealed, WINDOWS_RRC)]);
    const split = TOKEN_HEADER_BYTES + WINDOWS_RRC + CONFOUNDER_BYTES;
    return { header: token.subarray(0, split), data: token.subarray(split) };
  }

  /** Verify and decrypt one of the acceptor's sealed tokens (`header | data` is the whole token). */
  unwrap(head: Buffer, data: Buffer): Buffer {
    const token = Buffer.concat([head, data]);
    const h = readWrapHeader(token);
    if (!(h.flags & FLAG_SENT_BY_ACCEPTOR)) {
      throw new ProtocolError(
        'The server sent a Kerberos wrap token without the SentByAcceptor flag (reflected)',
      );
    }
    if (!(h.flags & FLAG_SEALED)) {
      throw new ProtocolError('The server sent a Kerberos message that is signed but not encrypted');
    }
    if (Boolean(h.flags & FLAG_ACCEPTOR_SUBKEY) !== this.#keys.acceptorSubkey) {
      throw new ProtocolError("The server's Kerberos wrap token has the wrong AcceptorSubkey flag");
    }
    const body = token.subarray(TOKEN_HEADER_BYTES);
    // Un-rotate: rotating right by (length - RRC) is rotating left by RRC.
    const unrotated = body.length === 0 ? body : rotateRight(body, body.length - (h.rrc % body.length));
    let plain: Buffer;
    try {
      plain = decrypt(this.#keys.key, USAGE_ACCEPTOR_SEAL, unrotated);
    } catch (err) {
      if (err instanceof KrbCryptoError) {
        throw new ProtocolError(`The server's Kerberos-sealed message did not verify: ${err.message}`);
      }
      throw err;
    }
    if (plain.length < TOKEN_HEADER_BYTES + h.ec) {
      throw new ProtocolError("The server's Kerberos wrap token is shorter than its own trailer");
    }
    const copy = plain.subarray(plain.length - TOKEN_HEADER_BYTES);
    const expected = Buffer.from(token.subarray(0, TOKEN_HEADER_BYTES));
    expected.writeUInt16BE(0, 6); // the encrypted copy carries RRC 0 ([RFC 4121] 4.2.5)
    if (!copy.equals(expected)) {
      throw new ProtocolError("The server's Kerberos wrap token header does not match its encrypted copy");
    }
    if (h.sequence !== this.#recvSeq) {
      throw new ProtocolError(
        `The server's Kerberos wrap token has sequence number ${h.sequence} where ${this.#recvSeq} was expected ` +
          '(a replayed, reordered or lost message)',
      );
    }
    this.#recvSeq = (this.#recvSeq + 1n) & MAX_SEQ;
    return plain.subarray(0, plain.length - TOKEN_HEADER_BYTES - h.ec);
  }

  /** As the authenticator's security context (it awaits both kinds). */
  securityContext(encrypts: boolean): AsyncSecurityContext {
    return {
      encrypts,
      asynchronous: true,
      wrap: async (plaintext) => this.wrap(plaintext),
      unwrap: async (head, data) => this.unwrap(head, data),
    };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `InitiatorWrap { enctype: ${this.#keys.key.enctype}, acceptorSubkey: ${this.#keys.acceptorSubkey} }`;
  }

  toJSON(): object {
    return { enctype: this.#keys.key.enctype, acceptorSubkey: this.#keys.acceptorSubkey };
  }
}
