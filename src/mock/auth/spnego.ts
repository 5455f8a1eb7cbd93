/**
 * NTLM inside SPNEGO under `Negotiate`, as Windows answers it ([RFC 4178], [MS-SPNG] 3.2.5):
 *
 * - NegTokenInit listing NTLM first with an NTLM NEGOTIATE as optimistic token → NegTokenResp accept-incomplete,
 *   supportedMech NTLM, responseToken CHALLENGE.
 * - NegTokenInit listing another mechanism first (Kerberos) and NTLM later → NegTokenResp request-mic,
 *   supportedMech NTLM and no responseToken ("counter-proposal", [RFC 4178] 5 d); the optimistic token is
 *   dropped and the initiator sends its NTLM NEGOTIATE in a NegTokenResp.
 * - The last leg (NegTokenResp with the AUTHENTICATE) → accept-completed with the acceptor's mechListMIC.
 *
 * The mechListMIC is required when the AUTHENTICATE has a MIC (MsvAvFlags 0x2) or NTLM was counter-proposed;
 * the initiator's is verified with receive sequence 0, then ours is made with send sequence 0, and each RC4
 * handle is re-keyed after use, so the first sealed message each way carries sequence 1.
 * An offer with Kerberos first and its token goes to the Kerberos acceptor before this (negotiate.ts, when a
 * keytab is configured); other offers without NTLM are refused.
 */
import { type NtlmServer, peekMessageType } from '../../auth/ntlm/index.ts';
import type { NtlmSession } from '../../auth/ntlm/session.ts';
import {
  decodeNegTokenInit,
  decodeNegTokenResp,
  encodeNegTokenResp,
  NegState,
  OID,
  signMechList,
  verifyMechList,
} from '../../auth/spnego.ts';

/** The NTLM acceptor steps the SPNEGO layer drives; negotiate.ts supplies them. */
export interface NtlmSteps {
  /** A fresh acceptor answering this NEGOTIATE; returns its CHALLENGE. Throws on a bad NEGOTIATE. */
  challenge(negotiate: Buffer): { server: NtlmServer; challenge: Buffer };
  /** Verifies the AUTHENTICATE; throws when refused. */
  verify(server: NtlmServer, authenticate: Buffer): { session: NtlmSession; micPresent: boolean };
}

/** Between legs, per connection. */
export interface SpnegoPending {
  form: 'spnego';
  mechTypesDer: Buffer;
  /** NTLM was not the initiator's first choice: the MIC exchange is mandatory ([RFC 4178] 5). */
  counterProposed: boolean;
  /** Undefined until the NTLM NEGOTIATE arrived. */
  server?: NtlmServer;
}

export type SpnegoStep =
  | { kind: 'continue'; token: Buffer; pending: SpnegoPending }
  | { kind: 'done'; token: Buffer; session: NtlmSession }
  | { kind: 'failure'; reason: string };

const resp = (r: Parameters<typeof encodeNegTokenResp>[0]): Buffer => encodeNegTokenResp(r);

/** First leg: an InitialContextToken. */
export function acceptInit(token: Buffer, ntlm: NtlmSteps): SpnegoStep {
  const init = decodeNegTokenInit(token);
  const index = init.mechTypes.indexOf(OID.ntlm);
  if (index < 0) {
    return {
      kind: 'failure',
      reason: `SPNEGO offers ${init.mechTypes.join(', ')} but not NTLM (and Kerberos is not first with its token, or no keytab is configured)`,
    };
  }
  const pending: SpnegoPending = {
    form: 'spnego',
    mechTypesDer: init.mechTypesDer,
    counterProposed: index > 0,
  };
  if (index > 0 || !init.mechToken) {
    // No NTLM token yet: select NTLM and wait for the initiator's NEGOTIATE. A counter-proposal says request-mic
    // (MIT's initiator refuses anything else) and carries no responseToken.
    const negState = index > 0 ? NegState.requestMic : NegState.acceptIncomplete;
    return { kind: 'continue', token: resp({ negState, supportedMech: OID.ntlm }), pending };
  }
  const step = ntlmChallenge(init.mechToken, ntlm);
  if ('reason' in step) return { kind: 'failure', reason: step.reason };
  pending.server = step.server;
  const answer = resp({
    negState: NegState.acceptIncomplete,
    supportedMech: OID.ntlm,
    responseToken: step.challenge,
  });
  return { kind: 'continue', token: answer, pending };
}

/** Later legs: a NegTokenResp carrying the NTLM NEGOTIATE (after a counter-proposal) or the AUTHENTICATE. */
export function acceptResp(token: Buffer, pending: SpnegoPending | undefined, ntlm: NtlmSteps): SpnegoStep {
  if (!pending)
    return { kind: 'failure', reason: 'SPNEGO NegTokenResp without a NegTokenInit on this connection' };
  const msg = decodeNegTokenResp(token);
  if (msg.negState === NegState.reject)
    return { kind: 'failure', reason: 'the initiator rejected the negotiation' };
  if (!msg.responseToken) return { kind: 'failure', reason: 'SPNEGO NegTokenResp without a responseToken' };
  let type: number;
  try {
    type = peekMessageType(msg.responseToken);
  } catch {
    return { kind: 'failure', reason: 'SPNEGO responseToken is not an NTLM message' };
  }
  if (!pending.server) {
    if (type !== 1)
      return { kind: 'failure', reason: `expected an NTLM NEGOTIATE, got message type ${type}` };
    const step = ntlmChallenge(msg.responseToken, ntlm);
    if ('reason' in step) return { kind: 'failure', reason: step.reason };
    const next: SpnegoPending = { ...pending, server: step.server };
    return {
      kind: 'continue',
      token: resp({ negState: NegState.acceptIncomplete, responseToken: step.challenge }),
      pending: next,
    };
  }
  if (type !== 3)
    return { kind: 'failure', reason: `expected an NTLM AUTHENTICATE, got message type ${type}` };
  let verified: { session: NtlmSession; micPresent: boolean };
  try {
    verified = ntlm.verify(pending.server, msg.responseToken);
  } catch (err) {
    return { kind: 'failure', reason: `NTLM refused: ${(err as Error).message}` };
  }
  const { session } = verified;
  const micRequired = verified.micPresent || pending.counterProposed;
  if (!msg.mechListMIC) {
    if (micRequired) {
      session.destroy();
      return { kind: 'failure', reason: 'SPNEGO mechListMIC missing although NTLM negotiated a MIC' };
    }
    return { kind: 'done', token: resp({ negState: NegState.acceptCompleted }), session };
  }
  try {
    verifyMechList(session, pending.mechTypesDer, msg.mechListMIC);
  } catch (err) {
    session.destroy();
    return { kind: 'failure', reason: (err as Error).message };
  }
  const mechListMIC = signMechList(session, pending.mechTypesDer);
  return { kind: 'done', token: resp({ negState: NegState.acceptCompleted, mechListMIC }), session };
}

function ntlmChallenge(
  negotiate: Buffer,
  ntlm: NtlmSteps,
): { server: NtlmServer; challenge: Buffer } | { reason: string } {
  try {
    if (peekMessageType(negotiate) !== 1) return { reason: 'SPNEGO mechToken is not an NTLM NEGOTIATE' };
    return ntlm.challenge(negotiate);
  } catch (err) {
    return { reason: `bad NEGOTIATE: ${(err as Error).message}` };
  }
}
