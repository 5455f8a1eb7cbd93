import { ProtocolError, type WinRmErrorOptions } from '../../errors.ts';

/** Why a sealed or signed NTLM message was refused. Stable strings, safe to switch on. */
export type NtlmIntegrityFailure =
  /** The signature did not match the message: tampered, truncated, or sealed with other keys. */
  | 'signature-mismatch'
  /** The sequence number is not the next one expected: a replayed, dropped or reordered message. */
  | 'sequence-mismatch'
  /** The signature is not a 16-byte NTLMSSP_MESSAGE_SIGNATURE with version 1. */
  | 'malformed-signature';

/**
 * A message protected by NTLM session security failed verification ([MS-NLMP] 3.4.4.2 / 3.4.6).
 * Subclass of {@link ProtocolError}: `code` is `WINRM_PROTOCOL`; `failure` tells which check failed.
 * The session state is left as it was before the bad message, so the next genuine message still verifies.
 * The message never contains key material or expected signatures.
 */
export class NtlmIntegrityError extends ProtocolError {
  readonly failure: NtlmIntegrityFailure;
  /** Sequence number the receiver expected. */
  readonly expectedSequence: number;
  /** Sequence number carried by the signature, when it could be read. */
  readonly receivedSequence: number | undefined;

  constructor(
    message: string,
    details: { failure: NtlmIntegrityFailure; expectedSequence: number; receivedSequence?: number },
    options: WinRmErrorOptions = {},
  ) {
    super(message, options);
    this.failure = details.failure;
    this.expectedSequence = details.expectedSequence;
    this.receivedSequence = details.receivedSequence;
  }
}
