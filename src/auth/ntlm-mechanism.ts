/**
 * NTLM as a mechanism over the pure core in ./ntlm/: NEGOTIATE, then AUTHENTICATE for the server's CHALLENGE
 * (bound to the TLS certificate when there is one), then an NTLM session as the security context. Header
 * schemes: 'Negotiate' (what Windows' own client sends; raw NTLM is accepted under it) with a fallback to
 * 'NTLM'. `negotiateForm: 'spnego'` wraps the tokens in SPNEGO (./spnego-initiator.ts) with the mechListMIC.
 */
import { type Account, forNtlm } from '../account.ts';
import { describeAccount } from './basic.ts';
import type { AuthContext, AuthMechanism, ConnectionContext, SecurityContext } from './mechanism.ts';
import { createNtlmClient } from './ntlm/index.ts';
import type { NtlmSession } from './ntlm/session.ts';
import { type NegotiateForm, negotiateTokens } from './spnego-initiator.ts';

export interface NtlmMechanismOptions {
  account: Account;
  password: string;
  /** Seal messages (over HTTP: required by Windows' defaults). */
  encrypt: boolean;
  /** Send channel bindings (tls-server-end-point) over HTTPS. Default: true. */
  channelBinding?: boolean;
  /** Preferred HTTP header scheme: 'Negotiate' or 'NTLM'. Default: 'Negotiate' (then 'NTLM' if only that is offered). */
  headerScheme?: 'Negotiate' | 'NTLM';
  /** Raw NTLM tokens or NTLM wrapped in SPNEGO under Negotiate. Default: 'ntlm' (raw). */
  negotiateForm?: NegotiateForm;
}

export class NtlmMechanism implements AuthMechanism {
  readonly schemes: readonly string[];
  readonly connectionBound = true;
  readonly encrypts: boolean;
  readonly #password: string;
  readonly #identity: { user: string; domain: string };
  readonly #o: NtlmMechanismOptions;

  constructor(o: NtlmMechanismOptions) {
    this.#o = o;
    this.schemes = (o.headerScheme ?? 'Negotiate') === 'NTLM' ? ['NTLM'] : ['Negotiate', 'NTLM'];
    this.encrypts = o.encrypt;
    this.#password = o.password;
    this.#identity = forNtlm(o.account);
  }

  begin(connection: ConnectionContext, scheme?: string): AuthContext {
    const useCbt = (this.#o.channelBinding ?? true) && connection.channelBindings !== undefined;
    const client = createNtlmClient({
      user: this.#identity.user,
      domain: this.#identity.domain,
      password: this.#password,
      channelBindings: useCbt ? connection.channelBindings : undefined,
    });
    // SPNEGO only under the Negotiate scheme: a server offering bare NTLM takes raw tokens.
    const form = negotiateTokens(scheme === 'NTLM' ? 'ntlm' : (this.#o.negotiateForm ?? 'ntlm'));
    const encrypts = this.encrypts;
    let session: NtlmSession | undefined;
    return {
      init: () => ({ token: form.initial(client.negotiate()), done: false }),
      step: (serverToken) => {
        const result = client.authenticate(form.challenge(serverToken));
        session = result.session;
        // final() signs the mechanism list with the session and re-keys its sending state: before any sealing.
        return { token: form.final(result.message, result.session), done: true };
      },
      complete: (serverToken) => {
        if (session) form.complete(serverToken, session);
      },
      securityContext: () => (session ? ntlmSecurityContext(session, encrypts) : undefined),
    };
  }

  describeAccount(): string {
    return describeAccount(this.#o.account);
  }

  refusedRemedy(): string {
    return 'check the user name, domain and password; write domain accounts as DOMAIN\\USER or USER@FULL.DOMAIN';
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `NtlmMechanism { user: ${JSON.stringify(this.#o.account.original)}, encrypt: ${this.encrypts} }`;
  }

  toJSON(): object {
    return { schemes: this.schemes, encrypts: this.encrypts };
  }
}

/** NTLM session security as a SecurityContext: header = the 16-byte signature, data = the sealed bytes. */
export function ntlmSecurityContext(session: NtlmSession, encrypts: boolean): SecurityContext {
  return {
    encrypts,
    wrap(plaintext) {
      const { signature, sealed } = session.seal(plaintext);
      return { header: signature, data: sealed };
    },
    unwrap(header, data) {
      return session.unseal(data, header);
    },
  };
}
