/**
 * The initiator side of SPNEGO around NTLM, for the client's HTTP authenticator: the first NegTokenInit, reading
 * the acceptor's NegTokenResp, the last leg with the mechListMIC, and checking the acceptor's mechListMIC; plus
 * the `negotiateForm` choice between that and raw NTLM under `Authorization: Negotiate`. No I/O.
 */
import { InvalidArgumentError } from '../errors.ts';
import { authenticateHasMic } from './ntlm/messages.ts';
import {
  decodeNegTokenInit,
  decodeNegTokenResp,
  encodeNegTokenInit,
  encodeNegTokenResp,
  type MicContext,
  NegState,
  type NegTokenResp,
  OID,
  SpnegoError,
  signMechList,
  verifyMechList,
} from './spnego.ts';

function fail(message: string): never {
  throw new SpnegoError(`SPNEGO negotiation failed: ${message}`);
}

/** The first leg: an InitialContextToken offering `mechTypes` with `mechToken` as the optimistic token. */
export function wrapInitial(
  mechToken: Buffer,
  mechTypes: readonly string[] = [OID.ntlm],
): { token: Buffer; mechTypesDer: Buffer } {
  const token = encodeNegTokenInit({ mechTypes: [...mechTypes], mechToken });
  return { token, mechTypesDer: decodeNegTokenInit(token).mechTypesDer };
}

/**
 * Reads an acceptor's NegTokenResp. Throws SpnegoError when it is malformed, when the acceptor rejected the
 * negotiation, or when it selected a mechanism other than `mech`.
 */
export function unwrapResponse(token: Uint8Array, mech: string = OID.ntlm): NegTokenResp {
  const resp = decodeNegTokenResp(token);
  if (resp.negState === NegState.reject) throw new SpnegoError('The server rejected the SPNEGO negotiation');
  if (resp.supportedMech !== undefined && resp.supportedMech !== mech) {
    throw new SpnegoError(`The server selected mechanism ${resp.supportedMech}; only ${mech} was offered`);
  }
  return resp;
}

/** A later initiator leg: a NegTokenResp carrying the mechanism's token and, on the last leg, the mechListMIC. */
export function wrapFinal(mechToken: Buffer, mechListMIC?: Buffer): Buffer {
  return encodeNegTokenResp({ responseToken: mechToken, ...(mechListMIC ? { mechListMIC } : {}) });
}

/**
 * One SPNEGO initiator offering a single mechanism (NTLM by default), as pypsrp's `negotiate` auth does:
 *
 *     const sp = new SpnegoInitiator();
 *     send(sp.initial(ntlm.negotiate()));                // Authorization: Negotiate <base64>
 *     const { message, session } = ntlm.authenticate(sp.next(reply));
 *     send(sp.final(message, session, authenticateHasMic(message)));
 *     sp.complete(finalReplyToken, session);             // the 200's WWW-Authenticate token, before unsealing
 */
export class SpnegoInitiator {
  readonly mech: string;
  #mechTypesDer: Buffer | undefined;
  #micSent = false;

  constructor(mech: string = OID.ntlm) {
    this.mech = mech;
  }

  initial(mechToken: Buffer): Buffer {
    const { token, mechTypesDer } = wrapInitial(mechToken, [this.mech]);
    this.#mechTypesDer = mechTypesDer;
    this.#micSent = false;
    return token;
  }

  /** The mechanism token of the acceptor's accept-incomplete answer. */
  next(token: Uint8Array): Buffer {
    const resp = unwrapResponse(token, this.mech);
    if (resp.negState === NegState.acceptCompleted) fail('the server completed before the mechanism did');
    if (!resp.responseToken) fail('the server answered without a mechanism token');
    return resp.responseToken;
  }

  /** The last leg; signs the mechanism list when `micRequired` (NTLM: the AUTHENTICATE carries a MIC). */
  final(mechToken: Buffer, ctx: MicContext, micRequired: boolean): Buffer {
    if (!this.#mechTypesDer) throw new SpnegoError('SpnegoInitiator.final() before initial()');
    this.#micSent = micRequired;
    return wrapFinal(mechToken, micRequired ? signMechList(ctx, this.#mechTypesDer) : undefined);
  }

  /**
   * Checks the acceptor's accept-completed token (undefined when the answer had none) and its mechListMIC. Must
   * run before the first sealed answer is unsealed: verifying re-keys the receiving RC4 handle.
   */
  complete(token: Uint8Array | undefined, ctx: MicContext): void {
    if (!this.#mechTypesDer) throw new SpnegoError('SpnegoInitiator.complete() before initial()');
    if (token === undefined) {
      if (this.#micSent) fail('the server sent no final token, so its mechListMIC is missing');
      return;
    }
    const resp = unwrapResponse(token, this.mech);
    if (resp.negState !== undefined && resp.negState !== NegState.acceptCompleted) {
      fail(`the final answer has negState ${resp.negState}, expected accept-completed (0)`);
    }
    if (resp.mechListMIC) verifyMechList(ctx, this.#mechTypesDer, resp.mechListMIC);
    else if (this.#micSent) fail('the server did not answer our mechListMIC with its own');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The client's choice of form under `Authorization: Negotiate`

/** How NTLM tokens travel under `Negotiate`: raw NTLMSSP (what this client always sent) or wrapped in SPNEGO. */
export type NegotiateForm = 'ntlm' | 'spnego';
export const NEGOTIATE_FORMS: readonly NegotiateForm[] = ['ntlm', 'spnego'];

/** Validates the `negotiateForm` option. Default: 'ntlm' (raw NTLM, which Windows accepts under Negotiate). */
export function resolveNegotiateForm(value: unknown, option = 'negotiateForm'): NegotiateForm {
  if (value === undefined) return 'ntlm';
  if (value === 'ntlm' || value === 'spnego') return value;
  throw new InvalidArgumentError(`${option} must be 'ntlm' or 'spnego', not ${JSON.stringify(value)}`, {
    argument: option,
    remedy: "use 'spnego' to wrap NTLM in SPNEGO as pypsrp does, or leave it unset for raw NTLM",
  });
}

/**
 * One NTLM handshake's token transform for an HTTP authenticator; the raw form passes tokens through, the SPNEGO
 * form wraps and unwraps them and runs the mechListMIC exchange. Use a fresh one per handshake:
 *
 *     const form = negotiateTokens(options.negotiateForm);
 *     POST  Authorization: Negotiate b64(form.initial(ntlm.negotiate()))            → 401
 *     const { message, session } = ntlm.authenticate(form.challenge(token401));
 *     POST  Authorization: Negotiate b64(form.final(message, session)), sealed body → 200
 *     form.complete(token200OrUndefined, session);   // before unsealing the 200's body
 */
export interface NegotiateTokens {
  readonly form: NegotiateForm;
  initial(ntlmNegotiate: Buffer): Buffer;
  challenge(token: Buffer): Buffer;
  final(ntlmAuthenticate: Buffer, session: MicContext): Buffer;
  complete(token: Buffer | undefined, session: MicContext): void;
}

export function negotiateTokens(form: NegotiateForm = 'ntlm'): NegotiateTokens {
  if (resolveNegotiateForm(form) === 'ntlm') {
    return {
      form: 'ntlm',
      initial: (t) => t,
      challenge: (t) => t,
      final: (t) => t,
      complete: () => {},
    };
  }
  const sp = new SpnegoInitiator(OID.ntlm);
  return {
    form: 'spnego',
    initial: (t) => sp.initial(t),
    challenge: (t) => sp.next(t),
    final: (t, session) => sp.final(t, session, authenticateHasMic(t)),
    complete: (t, session) => sp.complete(t, session),
  };
}
