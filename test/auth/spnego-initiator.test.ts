/** The negotiateForm option and the raw/SPNEGO token transforms the client's authenticator calls. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNtlmClient, createNtlmServer } from '../../src/auth/ntlm/index.ts';
import {
  decodeNegTokenInit,
  decodeNegTokenResp,
  encodeNegTokenResp,
  NegState,
  OID,
  signMechList,
  verifyMechList,
} from '../../src/auth/spnego.ts';
import { negotiateTokens, resolveNegotiateForm } from '../../src/auth/spnego-initiator.ts';
import { InvalidArgumentError } from '../../src/errors.ts';

describe('negotiateForm', () => {
  it("defaults to 'ntlm' and refuses anything but 'ntlm' or 'spnego', naming the option", () => {
    assert.equal(resolveNegotiateForm(undefined), 'ntlm');
    assert.equal(resolveNegotiateForm('spnego'), 'spnego');
    for (const bad of ['SPNEGO', 'kerberos', '', 1, null]) {
      assert.throws(
        () => resolveNegotiateForm(bad),
        (e: unknown) =>
          e instanceof InvalidArgumentError &&
          e.argument === 'negotiateForm' &&
          /'ntlm' or 'spnego'/.test(e.message),
      );
    }
  });

  it("'ntlm' passes the NTLM messages through unchanged", () => {
    const t = negotiateTokens('ntlm');
    const m = Buffer.from('NTLMSSP\0abc');
    assert.equal(t.initial(m), m);
    assert.equal(t.challenge(m), m);
    assert.equal(t.final(m, { sign: () => assert.fail('no MIC in raw NTLM'), verify: () => {} }), m);
  });

  it("'spnego' wraps, signs the mechanism list with sequence 0 and verifies the acceptor's answer", () => {
    const t = negotiateTokens('spnego');
    const server = createNtlmServer({ targetName: 'HOST', lookupPassword: () => 'pw' });
    const ntlm = createNtlmClient({ user: 'bob', domain: 'HOST', password: 'pw' });
    const init = decodeNegTokenInit(t.initial(ntlm.negotiate()));
    assert.deepEqual(init.mechTypes, [OID.ntlm]);
    const challenge = server.challenge(init.mechToken!);
    const { message, session } = ntlm.authenticate(
      t.challenge(
        encodeNegTokenResp({
          negState: NegState.acceptIncomplete,
          supportedMech: OID.ntlm,
          responseToken: challenge,
        }),
      ),
    );
    const last = decodeNegTokenResp(t.final(message, session));
    assert.deepEqual(last.responseToken, message);
    assert.equal(last.mechListMIC?.readUInt32LE(12), 0);
    const acceptor = server.verify(message).session;
    verifyMechList(acceptor, init.mechTypesDer, last.mechListMIC!);
    const mic = signMechList(acceptor, init.mechTypesDer);
    // A forged acceptor MIC is refused before any sealed answer is read.
    const forged = Buffer.from(mic);
    forged[5] = forged[5]! ^ 1;
    assert.throws(
      () =>
        t.complete(encodeNegTokenResp({ negState: NegState.acceptCompleted, mechListMIC: forged }), session),
      /mechListMIC does not verify/,
    );
  });
});
