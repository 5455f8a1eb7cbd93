/**
 * NTLM session security ([MS-NLMP] 3.4): message integrity (SIGN/MAC) and confidentiality (SEAL) with
 * extended session security, connection-oriented. Each direction has its own signing key, its own RC4
 * handle (kept running across messages, never reset) and its own sequence number starting at 0.
 * A client session sends with client-to-server keys and receives with server-to-client keys; a server
 * session the other way round, so a client and a server session built from the same exported session key
 * talk to each other.
 */

import { inspect } from 'node:util';
import { InvalidArgumentError, ProtocolError } from '../../errors.ts';
import { constantTimeEqual, hmacMd5, type NtlmDirection, sealKey, signKey } from './crypto.ts';
import { NtlmIntegrityError } from './errors.ts';
import { describeFlags, hasFlag, NegotiateFlag } from './messages.ts';
import { Rc4 } from './rc4.ts';

/** Length of an NTLMSSP_MESSAGE_SIGNATURE. */
export const SIGNATURE_LENGTH = 16;
const SIGNATURE_VERSION = 1;
const MAX_SEQUENCE = 0xffffffff;

export interface NtlmSessionInit {
  /** Which side this session is: decides which keys it sends and receives with. */
  role: NtlmDirection;
  /** Negotiated flags (those of the AUTHENTICATE_MESSAGE). Must include extended session security. */
  flags: number;
  /** ExportedSessionKey (16 bytes). Only the derived keys are kept; the caller may wipe its copy. */
  exportedSessionKey: Uint8Array;
  /** Authenticated identity, for diagnostics. */
  user?: string;
  domain?: string;
}

export interface SealedMessage {
  /** NTLMSSP_MESSAGE_SIGNATURE: version 1, 8-byte checksum, 4-byte sequence number. */
  signature: Buffer;
  /** RC4-encrypted message, same length as the plaintext. */
  sealed: Buffer;
}

interface Direction {
  signKey: Buffer;
  /** Kept so the RC4 handle can be re-keyed after an SPNEGO mechListMIC ({@link NtlmSession.resetSealingState}). */
  sealKey: Buffer;
  rc4: Rc4;
  sequence: number;
}

/** Which RC4 handle {@link NtlmSession.resetSealingState} re-keys. */
export type NtlmStateDirection = 'send' | 'receive';

/** An established NTLM security context: seal/unseal and sign/verify messages in one connection. */
export class NtlmSession {
  readonly role: NtlmDirection;
  /** The negotiated NegotiateFlags. */
  readonly negotiatedFlags: number;
  readonly user: string;
  readonly domain: string;
  readonly #keyExchange: boolean;
  #send: Direction;
  #receive: Direction;
  #destroyed = false;

  constructor(init: NtlmSessionInit) {
    const flags = init.flags >>> 0;
    if (!hasFlag(flags, NegotiateFlag.EXTENDED_SESSIONSECURITY)) {
      throw new InvalidArgumentError(
        'NTLM session security needs NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY; the legacy scheme is not supported',
        { argument: 'flags' },
      );
    }
    if (init.exportedSessionKey.length !== 16) {
      throw new InvalidArgumentError('The exported session key must be 16 bytes', {
        argument: 'exportedSessionKey',
      });
    }
    if (init.role !== 'client' && init.role !== 'server') {
      throw new InvalidArgumentError("role must be 'client' or 'server'", { argument: 'role' });
    }
    const peer: NtlmDirection = init.role === 'client' ? 'server' : 'client';
    this.role = init.role;
    this.negotiatedFlags = flags;
    this.user = init.user ?? '';
    this.domain = init.domain ?? '';
    this.#keyExchange = hasFlag(flags, NegotiateFlag.KEY_EXCH);
    this.#send = direction(flags, init.exportedSessionKey, init.role);
    this.#receive = direction(flags, init.exportedSessionKey, peer);
  }

  /** Sequence number the next sealed/signed outgoing message will carry. */
  get sendSequence(): number {
    return this.#send.sequence;
  }

  /** Sequence number the next incoming message must carry. */
  get receiveSequence(): number {
    return this.#receive.sequence;
  }

  /** Whether confidentiality (NTLMSSP_NEGOTIATE_SEAL) was negotiated. */
  get canSeal(): boolean {
    return hasFlag(this.negotiatedFlags, NegotiateFlag.SEAL);
  }

  /** Whether integrity (NTLMSSP_NEGOTIATE_SIGN, implied by SEAL) was negotiated. */
  get canSign(): boolean {
    return this.canSeal || hasFlag(this.negotiatedFlags, NegotiateFlag.SIGN);
  }

  /** Encrypts and signs one message (GSS_WrapEx with confidentiality, [MS-NLMP] 3.4.3). */
  seal(plaintext: Uint8Array): SealedMessage {
    this.#require(this.canSeal, 'sealing (NTLMSSP_NEGOTIATE_SEAL)');
    const send = this.#send;
    const sequence = this.#nextSendSequence();
    const sealed = send.rc4.update(plaintext);
    const signature = this.#mac(send, send.rc4, sequence, plaintext);
    send.sequence = sequence + 1;
    return { signature, sealed };
  }

  /**
   * Decrypts one message and verifies its signature and sequence number (GSS_UnwrapEx).
   * Throws {@link NtlmIntegrityError} (a ProtocolError) on a bad signature, a replayed or out-of-order
   * sequence number, or a malformed signature; the session is then unchanged.
   */
  unseal(sealed: Uint8Array, signature: Uint8Array): Buffer {
    this.#require(this.canSeal, 'sealing (NTLMSSP_NEGOTIATE_SEAL)');
    const receive = this.#receive;
    this.#checkSignatureShape(signature);
    // Work on a copy of the RC4 state and commit only once the message verified.
    const rc4 = receive.rc4.clone();
    const plaintext = rc4.update(sealed);
    const expected = this.#mac(receive, rc4, receive.sequence, plaintext);
    this.#compare(expected, signature, 'sealed message');
    receive.rc4 = rc4;
    receive.sequence += 1;
    return plaintext;
  }

  /** Signature for a message sent in clear (GSS_GetMICEx, [MS-NLMP] 3.4.4). */
  sign(message: Uint8Array): Buffer {
    this.#require(this.canSign, 'signing (NTLMSSP_NEGOTIATE_SIGN)');
    const send = this.#send;
    const sequence = this.#nextSendSequence();
    const signature = this.#mac(send, send.rc4, sequence, message);
    send.sequence = sequence + 1;
    return signature;
  }

  /** Verifies a signature from {@link sign} on the other side (GSS_VerifyMICEx); throws NtlmIntegrityError. */
  verify(message: Uint8Array, signature: Uint8Array): void {
    this.#require(this.canSign, 'signing (NTLMSSP_NEGOTIATE_SIGN)');
    const receive = this.#receive;
    this.#checkSignatureShape(signature);
    const rc4 = receive.rc4.clone();
    const expected = this.#mac(receive, rc4, receive.sequence, message);
    this.#compare(expected, signature, 'signed message');
    receive.rc4 = rc4;
    receive.sequence += 1;
  }

  /**
   * Seals `plaintext` into the body WinRM puts in the `application/octet-stream` part of a
   * `multipart/encrypted` HTTP message: UInt32LE signature length (16), signature, sealed bytes.
   */
  wrap(plaintext: Uint8Array): Buffer {
    const { signature, sealed } = this.seal(plaintext);
    const length = Buffer.alloc(4);
    length.writeUInt32LE(signature.length, 0);
    return Buffer.concat([length, signature, sealed]);
  }

  /** Inverse of {@link wrap}. Throws NtlmIntegrityError on a bad signature or sequence number. */
  unwrap(payload: Uint8Array): Buffer {
    const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    if (buf.length < 4) throw new ProtocolError('Encrypted WinRM payload is shorter than its length prefix');
    const signatureLength = buf.readUInt32LE(0);
    if (signatureLength !== SIGNATURE_LENGTH || buf.length < 4 + signatureLength) {
      throw new NtlmIntegrityError(
        `Encrypted WinRM payload has a ${signatureLength}-byte signature, expected 16`,
        {
          failure: 'malformed-signature',
          expectedSequence: this.#receive.sequence,
        },
      );
    }
    return this.unseal(buf.subarray(4 + signatureLength), buf.subarray(4, 4 + signatureLength));
  }

  /**
   * Re-keys one direction's RC4 handle with its sealing key, as if no message had been sealed or signed; the
   * sequence number is kept. SPNEGO needs this after the mechListMIC ([MS-SPNG] 3.3.5.1, pyspnego's
   * `_reset_ntlm_crypto_state`, MIT's GSS_C_NTLMSSP_RESET_CRYPTO_OID): the initiator signs the mechTypes with
   * sequence 0, then resets its sending handle; the acceptor verifies, resets its receiving handle, signs its own
   * mechListMIC with sequence 0 and resets its sending handle; so the first sealed WinRM message of each side
   * carries sequence 1 and starts the RC4 keystream afresh.
   */
  resetSealingState(direction: NtlmStateDirection): void {
    this.#require(true, 'state reset');
    const d = direction === 'send' ? this.#send : direction === 'receive' ? this.#receive : undefined;
    if (!d)
      throw new InvalidArgumentError("direction must be 'send' or 'receive'", { argument: 'direction' });
    d.rc4.destroy();
    d.rc4 = new Rc4(d.sealKey);
  }

  /** Wipes the keys and RC4 states (best effort); later calls throw. */
  destroy(): void {
    this.#destroyed = true;
    for (const d of [this.#send, this.#receive]) {
      d.signKey.fill(0);
      d.sealKey.fill(0);
      d.rc4.destroy();
    }
  }

  #mac(dir: Direction, rc4: Rc4, sequence: number, message: Uint8Array): Buffer {
    const signature = Buffer.alloc(SIGNATURE_LENGTH);
    signature.writeUInt32LE(SIGNATURE_VERSION, 0);
    signature.writeUInt32LE(sequence, 12);
    let checksum = hmacMd5(dir.signKey, signature.subarray(12, 16), message).subarray(0, 8);
    if (this.#keyExchange) checksum = rc4.update(checksum);
    checksum.copy(signature, 4);
    return signature;
  }

  #checkSignatureShape(signature: Uint8Array): void {
    const expectedSequence = this.#receive.sequence;
    if (signature.length !== SIGNATURE_LENGTH) {
      throw new NtlmIntegrityError(`NTLM signature is ${signature.length} bytes, expected 16`, {
        failure: 'malformed-signature',
        expectedSequence,
      });
    }
    const view = Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength);
    if (view.readUInt32LE(0) !== SIGNATURE_VERSION) {
      throw new NtlmIntegrityError('NTLM signature has an unknown version (expected 1)', {
        failure: 'malformed-signature',
        expectedSequence,
      });
    }
    const receivedSequence = view.readUInt32LE(12);
    if (receivedSequence !== expectedSequence) {
      throw new NtlmIntegrityError(
        `NTLM message has sequence number ${receivedSequence}, expected ${expectedSequence}: replayed, dropped or reordered message`,
        { failure: 'sequence-mismatch', expectedSequence, receivedSequence },
      );
    }
  }

  #compare(expected: Buffer, signature: Uint8Array, what: string): void {
    if (!constantTimeEqual(expected, signature)) {
      throw new NtlmIntegrityError(
        `NTLM signature of the ${what} does not verify: altered or sealed with other keys`,
        {
          failure: 'signature-mismatch',
          expectedSequence: this.#receive.sequence,
          receivedSequence: this.#receive.sequence,
        },
      );
    }
  }

  #nextSendSequence(): number {
    const sequence = this.#send.sequence;
    if (sequence >= MAX_SEQUENCE) {
      throw new ProtocolError('NTLM sequence numbers are exhausted for this connection; authenticate again');
    }
    return sequence;
  }

  #require(ok: boolean, what: string): void {
    if (this.#destroyed) throw new InvalidArgumentError('This NTLM session was destroyed');
    if (!ok) {
      throw new ProtocolError(`NTLM ${what} was not negotiated with the peer`, {
        remedy: 'use HTTPS, or a server that grants NTLM signing and sealing',
      });
    }
  }

  /** Redacted summary; never contains keys. */
  toJSON(): Record<string, unknown> {
    return {
      role: this.role,
      user: this.user,
      domain: this.domain,
      flags: describeFlags(this.negotiatedFlags),
      sendSequence: this.sendSequence,
      receiveSequence: this.receiveSequence,
      keys: '<redacted>',
    };
  }

  toString(): string {
    return `NtlmSession(${this.role}, ${this.domain ? `${this.domain}\\` : ''}${this.user})`;
  }

  [inspect.custom](_depth: number, options: Parameters<typeof inspect>[1]): string {
    return `NtlmSession ${inspect(this.toJSON(), options)}`;
  }
}

function direction(flags: number, exportedSessionKey: Uint8Array, side: NtlmDirection): Direction {
  const seal = sealKey(flags, exportedSessionKey, side);
  return {
    signKey: signKey(flags, exportedSessionKey, side),
    sealKey: seal,
    rc4: new Rc4(seal),
    sequence: 0,
  };
}
