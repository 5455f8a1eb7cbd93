/** SPNEGO codec: published tokens, round trips, hostile input, and the NTLM mechListMIC / RC4-reset rule. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { NtlmIntegrityError } from '../../src/auth/ntlm/errors.ts';
import { createNtlmClient, createNtlmServer, NtlmSession } from '../../src/auth/ntlm/index.ts';
import { authenticateHasMic } from '../../src/auth/ntlm/messages.ts';
import {
  ContextFlag,
  decodeNegTokenInit,
  decodeNegTokenResp,
  decodeOidContent,
  detectTokenKind,
  encodeNegTokenInit,
  encodeNegTokenResp,
  encodeOid,
  NegState,
  OID,
  SpnegoError,
  signMechList,
  verifyMechList,
} from '../../src/auth/spnego.ts';
import { SpnegoInitiator, unwrapResponse, wrapFinal, wrapInitial } from '../../src/auth/spnego-initiator.ts';
import { ProtocolError } from '../../src/errors.ts';

const b64 = (s: string): Buffer => Buffer.from(s, 'base64');
const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/**
 * Tokens captured from Windows, as published: an SMB session setup (NEGOEX + NTLM offer with a NEGOEX optimistic
 * token, and Windows' accept-incomplete answer carrying the NTLM CHALLENGE), an NTLM-only NegTokenInit, and the
 * accept-completed token IIS (SSPI) sends on the 200 after an NTLM-in-SPNEGO logon (waffle's log).
 */
const CAPTURED = {
  negoexInit: b64(
    'YIIBPAYGKwYBBQUCoIIBMDCCASygGjAYBgorBgEEAYI3AgIeBgorBgEEAYI3AgIKooIBDASCAQhORUdPRVhUUwEAAAAAAAAAYAAAAHAAAABmoqbU3wIqY4uvcviYiI+WV9ijr+VZaWWhRiFb8nXvN2cVNGDr7lL+j3QDrBLxTBEAAAAAAAAAAGAAAAABAAAAAAAAAAAAAABcM1MN6vkNTbLsSuN4bsMITkVHT0VYVFMDAAAAAQAAAEAAAACYAAAAZqKm1N8CKmOLr3L4mIiPllwzUw3q+Q1NsuxK43huwwhAAAAAWAAAADBWoFQwUjAngCUwIzEhMB8GA1UEAxMYVG9rZW4gU2lnbmluZyBQdWJsaWMgS2V5MCeAJTAjMSEwHwYDVQQDExhUb2tlbiBTaWduaW5nIFB1YmxpYyBLZXk=',
  ),
  challengeResp: b64(
    'oYHOMIHLoAMKAQGhDAYKKwYBBAGCNwICCqKBtQSBsk5UTE1TU1AAAgAAABIAEgA4AAAAFYKKYhEj+2kAdCOsAAAAAAAAAABoAGgASgAAAAoAYUoAAAAPUgBPAE8ATABJAEMALQBaADkAAgASAFIATwBPAEwASQBDAC0AWgA5AAEAEgBSAE8ATwBMAEkAQwAtAFoAOQAEABIAUgBvAG8AbABpAGMALQBaADkAAwASAFIAbwBvAGwAaQBjAC0AWgA5AAcACACg/7A0qQ3cAQAAAAA=',
  ),
  ntlmInit: b64(
    'YEgGBisGAQUFAqA+MDygDjAMBgorBgEEAYI3AgIKoioEKE5UTE1TU1AAAQAAABWCCGIAAAAAKAAAAAAAAAAoAAAABgEAAAAAAA8=',
  ),
  completed: b64('oRswGaADCgEAoxIEEAEAAABDh+CIwTbjqQAAAAA='),
};

describe('SPNEGO tokens captured from Windows', () => {
  it('decodes an NTLM-only NegTokenInit and re-encodes it byte for byte', () => {
    const init = decodeNegTokenInit(CAPTURED.ntlmInit);
    assert.deepEqual(init.mechTypes, [OID.ntlm]);
    assert.equal(init.mechToken?.subarray(0, 12).toString('hex'), '4e544c4d5353500001000000');
    assert.equal(init.mechTypesDer.toString('hex'), '300c060a2b06010401823702020a');
    assert.equal(init.reqFlags, undefined);
    assert.deepEqual(
      encodeNegTokenInit({ mechTypes: init.mechTypes, mechToken: init.mechToken }),
      CAPTURED.ntlmInit,
    );
    assert.equal(detectTokenKind(CAPTURED.ntlmInit), 'spnego-init');
  });

  it('decodes a NEGOEX-first offer and the accept-incomplete answer with the NTLM CHALLENGE', () => {
    const init = decodeNegTokenInit(CAPTURED.negoexInit);
    assert.deepEqual(init.mechTypes, [OID.negoex, OID.ntlm]);
    assert.equal(init.mechToken?.subarray(0, 8).toString('latin1'), 'NEGOEXTS');
    const resp = decodeNegTokenResp(CAPTURED.challengeResp);
    assert.equal(resp.negState, NegState.acceptIncomplete);
    assert.equal(resp.supportedMech, OID.ntlm);
    assert.equal(resp.responseToken?.readUInt32LE(8), 2, 'a CHALLENGE_MESSAGE');
    assert.equal(resp.mechListMIC, undefined);
    assert.deepEqual(encodeNegTokenResp(resp), CAPTURED.challengeResp);
    assert.equal(detectTokenKind(CAPTURED.challengeResp), 'spnego-resp');
  });

  it('decodes the accept-completed answer: a 16-byte NTLM signature with sequence 0', () => {
    const resp = decodeNegTokenResp(CAPTURED.completed);
    assert.equal(resp.negState, NegState.acceptCompleted);
    assert.equal(resp.mechListMIC?.length, 16);
    assert.equal(resp.mechListMIC?.readUInt32LE(0), 1, 'NTLMSSP_MESSAGE_SIGNATURE version 1');
    assert.equal(resp.mechListMIC?.readUInt32LE(12), 0, 'sequence number 0');
    assert.deepEqual(encodeNegTokenResp(resp), CAPTURED.completed);
  });
});

describe('SPNEGO codec', () => {
  it('OIDs: the table round-trips and known DER matches', () => {
    for (const oid of Object.values(OID)) {
      const der = encodeOid(oid);
      assert.equal(decodeOidContent(der.subarray(2)), oid);
    }
    assert.equal(encodeOid(OID.spnego).toString('hex'), '06062b0601050502');
    assert.equal(encodeOid(OID.kerberos).toString('hex'), '06092a864886f712010202');
    assert.equal(encodeOid(OID.kerberosMs).toString('hex'), '06092a864882f712010202');
    assert.throws(() => encodeOid('1'), SpnegoError);
    assert.throws(() => encodeOid('1.40.2'), SpnegoError);
    assert.throws(() => encodeOid('1.2.x'), SpnegoError);
    assert.throws(() => decodeOidContent(h('2b8001')), /minimally/);
    assert.throws(() => decodeOidContent(h('2b86')), /ends inside an arc/);
  });

  it('reqFlags is a named-bit BIT STRING', () => {
    const flags = ContextFlag.mutual | ContextFlag.integ | ContextFlag.conf;
    const token = encodeNegTokenInit({ mechTypes: [OID.ntlm], reqFlags: flags });
    // mutual (bit 1), conf (bit 5), integ (bit 6): 0b01000110 with one unused bit.
    assert.ok(token.includes(h('a1 04 03 02 01 46')), token.toString('hex'));
    assert.equal(decodeNegTokenInit(token).reqFlags, flags);
  });

  it('NegTokenInit2 negHints are accepted and the mechListMIC in [4] is read', () => {
    const t = (tag: number, ...body: Buffer[]): Buffer => {
      const c = Buffer.concat(body);
      assert.ok(c.length < 128);
      return Buffer.concat([Buffer.from([tag, c.length]), c]);
    };
    const hintName = t(0x1b, Buffer.from('not_defined_in_RFC4178@please_ignore', 'latin1'));
    const seq = t(
      0x30,
      t(0xa0, t(0x30, encodeOid(OID.ntlm))),
      t(0xa3, t(0x30, t(0xa0, hintName))),
      t(0xa4, t(0x04, h('01020304'))),
    );
    const token = t(0x60, encodeOid(OID.spnego), t(0xa0, seq));
    const init = decodeNegTokenInit(token);
    assert.deepEqual(init.mechTypes, [OID.ntlm]);
    assert.equal(init.mechListMIC?.toString('hex'), '01020304');
    // [4] without negHints in [3] is not a NegTokenInit2.
    const bad = t(
      0x60,
      encodeOid(OID.spnego),
      t(0xa0, t(0x30, t(0xa0, t(0x30, encodeOid(OID.ntlm))), t(0xa4, t(0x04, h('01'))))),
    );
    assert.throws(() => decodeNegTokenInit(bad), /negHints/);
  });

  it('refuses what DER forbids: indefinite and non-minimal lengths, disorder, repeats, trailing bytes', () => {
    const good = encodeNegTokenResp({ negState: NegState.acceptIncomplete, responseToken: h('00') });
    const cases: [string, Buffer, RegExp][] = [
      ['indefinite length', h('a1 80 30 00 00 00'), /indefinite/],
      ['non-minimal length', h('a1 81 05 30 03 a0 01 00'), /minimally/],
      ['fields out of order', h('a1 0c 30 0a a2 03 04 01 00 a0 03 0a 01 01'), /out of order/],
      ['repeated field', h('a1 0c 30 0a a0 03 0a 01 01 a0 03 0a 01 01'), /out of order/],
      ['trailing bytes', Buffer.concat([good, h('00')]), /after the NegTokenResp/],
      ['unknown negState', h('a1 07 30 05 a0 03 0a 01 07'), /negState/],
      ['unknown field', h('a1 07 30 05 a5 03 04 01 00'), /unknown field/],
      ['length beyond the input', h('a1 7f 30 00'), /claims 127 bytes/],
      ['huge length field', h('a1 85 01 00 00 00 00'), /5-byte length/],
    ];
    for (const [what, bytes, message] of cases) {
      assert.throws(
        () => decodeNegTokenResp(bytes),
        (e: unknown) => e instanceof SpnegoError && message.test((e as Error).message),
        what,
      );
    }
    assert.throws(() => decodeNegTokenInit(h('60 0a 06 08 2a864886f7120102 02 a0 00')), SpnegoError);
    assert.throws(() => decodeNegTokenInit(encodeOid(OID.spnego)), /InitialContextToken has tag 0x06/);
    assert.throws(() => encodeNegTokenInit({ mechTypes: [] }), SpnegoError);
  });

  it('SpnegoError is a ProtocolError with the protocol code', () => {
    const err = (() => {
      try {
        decodeNegTokenResp(Buffer.alloc(0));
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof SpnegoError && err instanceof ProtocolError);
    assert.equal((err as ProtocolError).code, 'WINRM_PROTOCOL');
  });

  it('detectTokenKind tells raw NTLM, SPNEGO init and resp, Kerberos and others apart', () => {
    const ntlm = createNtlmClient({ user: 'u', password: 'p' }).negotiate();
    assert.equal(detectTokenKind(ntlm), 'ntlm');
    assert.equal(detectTokenKind(wrapInitial(ntlm).token), 'spnego-init');
    assert.equal(detectTokenKind(wrapFinal(ntlm)), 'spnego-resp');
    assert.equal(detectTokenKind(h('60 0d 06 09 2a864886f712010202 01 00 00')), 'kerberos');
    assert.equal(detectTokenKind(h('60 0d 06 09 2a864882f712010202 01 00 00')), 'kerberos');
    assert.equal(detectTokenKind(h('60 ff')), 'unknown');
    assert.equal(detectTokenKind(Buffer.from('Basic')), 'unknown');
    assert.equal(detectTokenKind(Buffer.alloc(0)), 'unknown');
  });
});

const oidArb = fc
  .tuple(
    fc.integer({ min: 0, max: 2 }),
    fc.integer({ min: 0, max: 39 }),
    fc.array(fc.nat(), { maxLength: 6 }),
  )
  .map(([a, b, rest]) => [a, b, ...rest].join('.'));
const bytesArb = fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u));

describe('SPNEGO codec properties (fast-check)', () => {
  it('NegTokenInit and NegTokenResp round-trip', () => {
    fc.assert(
      fc.property(
        fc.array(oidArb, { minLength: 1, maxLength: 5 }),
        fc.option(fc.integer({ min: 0, max: 0x7f }), { nil: undefined }),
        fc.option(bytesArb, { nil: undefined }),
        fc.option(bytesArb, { nil: undefined }),
        (mechTypes, reqFlags, mechToken, mechListMIC) => {
          const init = { mechTypes, reqFlags, mechToken, mechListMIC };
          for (const k of Object.keys(init) as (keyof typeof init)[])
            if (init[k] === undefined) delete init[k];
          const { mechTypesDer, ...decoded } = decodeNegTokenInit(encodeNegTokenInit(init));
          assert.deepEqual(decoded, init);
          assert.equal(mechTypesDer[0], 0x30);
        },
      ),
    );
    fc.assert(
      fc.property(
        fc.option(fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<0 | 1 | 2 | 3>, { nil: undefined }),
        fc.option(oidArb, { nil: undefined }),
        fc.option(bytesArb, { nil: undefined }),
        fc.option(bytesArb, { nil: undefined }),
        (negState, supportedMech, responseToken, mechListMIC) => {
          const resp = { negState, supportedMech, responseToken, mechListMIC };
          for (const k of Object.keys(resp) as (keyof typeof resp)[])
            if (resp[k] === undefined) delete resp[k];
          assert.deepEqual(decodeNegTokenResp(encodeNegTokenResp(resp)), resp);
        },
      ),
    );
  });

  /** Decoders either return or throw SpnegoError: never RangeError, never another error, never a hang. */
  function onlySpnegoErrors(bytes: Buffer): void {
    for (const decode of [decodeNegTokenInit, decodeNegTokenResp, detectTokenKind]) {
      try {
        decode(bytes);
      } catch (err) {
        if (!(err instanceof SpnegoError)) throw err;
      }
    }
  }

  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (u) => onlySpnegoErrors(Buffer.from(u))),
      {
        numRuns: 2000,
      },
    );
  });

  it('truncated, extended and bit-flipped real tokens', () => {
    const samples = Object.values(CAPTURED);
    fc.assert(
      fc.property(fc.nat(samples.length - 1), fc.nat(), fc.nat(7), fc.nat(3), (which, pos, bit, mode) => {
        const sample = samples[which]!;
        const at = pos % sample.length;
        let bytes: Buffer;
        if (mode === 0) bytes = sample.subarray(0, at);
        else if (mode === 1) bytes = Buffer.concat([sample, Buffer.from([bit])]);
        else {
          bytes = Buffer.from(sample);
          bytes[at] = bytes[at]! ^ (1 << bit);
        }
        onlySpnegoErrors(bytes);
        // Any truncation is detected.
        if (mode === 0) assert.throws(() => decodeNegTokenResp(bytes), SpnegoError);
      }),
      { numRuns: 3000 },
    );
  });
});

/** A real in-memory NTLM handshake: the client and server sessions share one exported session key. */
function ntlmPair(): { client: NtlmSession; server: NtlmSession; authenticate: Buffer } {
  const server = createNtlmServer({ targetName: 'HOST', lookupPassword: () => 'pw' });
  const client = createNtlmClient({ user: 'alice', domain: 'HOST', password: 'pw' });
  const challenge = server.challenge(client.negotiate());
  const { message, session } = client.authenticate(challenge);
  return { client: session, server: server.verify(message).session, authenticate: message };
}

describe('mechListMIC with NTLM ([MS-SPNG] 3.3.5.1)', () => {
  const mechTypesDer = wrapInitial(Buffer.from('x')).mechTypesDer;

  it('both MICs use sequence 0; the RC4 reset makes the first sealed message carry sequence 1 and verify', () => {
    const { client, server, authenticate } = ntlmPair();
    assert.equal(authenticateHasMic(authenticate), true);
    const clientMic = signMechList(client, mechTypesDer);
    assert.equal(clientMic.readUInt32LE(12), 0);
    verifyMechList(server, mechTypesDer, clientMic);
    const serverMic = signMechList(server, mechTypesDer);
    assert.equal(serverMic.readUInt32LE(12), 0);
    verifyMechList(client, mechTypesDer, serverMic);
    const request = client.wrap(Buffer.from('<s:Envelope/>'));
    assert.equal(request.readUInt32LE(4 + 12), 1, 'first sealed message has sequence 1');
    assert.equal(server.unwrap(request).toString(), '<s:Envelope/>');
    assert.equal(client.unwrap(server.wrap(Buffer.from('answer'))).toString(), 'answer');
  });

  it('a side that skips the reset cannot talk to one that did', () => {
    const { client, server } = ntlmPair();
    const mic = client.sign(mechTypesDer); // signed, but the RC4 handle is not reset
    verifyMechList(server, mechTypesDer, mic);
    assert.throws(() => server.unwrap(client.wrap(Buffer.from('hello'))), NtlmIntegrityError);
  });

  it('a MIC over a different mechanism list is refused as a SpnegoError', () => {
    const { client, server } = ntlmPair();
    const other = wrapInitial(Buffer.from('x'), [OID.kerberos, OID.ntlm]).mechTypesDer;
    const mic = signMechList(client, other);
    assert.throws(() => verifyMechList(server, mechTypesDer, mic), SpnegoError);
  });

  it('after sign + reset, sealing restarts the keystream: [MS-NLMP] 4.2.4.4 ciphertext, sequence 1', () => {
    const session = new NtlmSession({
      role: 'client',
      flags: 0xe2888235,
      exportedSessionKey: Buffer.alloc(16, 0x55),
    });
    signMechList(session, mechTypesDer);
    const { sealed, signature } = session.seal(Buffer.from('Plaintext', 'utf16le'));
    assert.equal(sealed.toString('hex'), '54e50165bf1936dc996020c1811b0f06fb5f');
    assert.equal(signature.readUInt32LE(12), 1);
    const noReset = new NtlmSession({
      role: 'client',
      flags: 0xe2888235,
      exportedSessionKey: Buffer.alloc(16, 0x55),
    });
    noReset.sign(mechTypesDer);
    assert.notEqual(
      noReset.seal(Buffer.from('Plaintext', 'utf16le')).sealed.toString('hex'),
      '54e50165bf1936dc996020c1811b0f06fb5f',
    );
  });

  it('resetSealingState refuses an unknown direction and a destroyed session', () => {
    const { client } = ntlmPair();
    assert.throws(() => client.resetSealingState('both' as 'send'), /direction/);
    client.destroy();
    assert.throws(() => client.resetSealingState('send'), /destroyed/);
  });
});

describe('SpnegoInitiator', () => {
  it('drives an NTLM handshake against the acceptor rules and checks the final mechListMIC', () => {
    const server = createNtlmServer({ targetName: 'HOST', lookupPassword: () => 'pw' });
    const ntlm = createNtlmClient({ user: 'alice', domain: 'HOST', password: 'pw' });
    const sp = new SpnegoInitiator();
    const first = decodeNegTokenInit(sp.initial(ntlm.negotiate()));
    const challenge = server.challenge(first.mechToken!);
    const reply = encodeNegTokenResp({
      negState: NegState.acceptIncomplete,
      supportedMech: OID.ntlm,
      responseToken: challenge,
    });
    const { message, session } = ntlm.authenticate(sp.next(reply));
    const last = decodeNegTokenResp(sp.final(message, session, authenticateHasMic(message)));
    assert.ok(last.mechListMIC, 'the MIC is sent because the AUTHENTICATE has one');
    const serverSession = server.verify(last.responseToken!).session;
    verifyMechList(serverSession, first.mechTypesDer, last.mechListMIC);
    const done = encodeNegTokenResp({
      negState: NegState.acceptCompleted,
      mechListMIC: signMechList(serverSession, first.mechTypesDer),
    });
    sp.complete(done, session);
    assert.equal(serverSession.unwrap(session.wrap(Buffer.from('ping'))).toString(), 'ping');
    assert.equal(session.unwrap(serverSession.wrap(Buffer.from('pong'))).toString(), 'pong');
  });

  it('refuses reject, a foreign mechanism, a missing token and a missing final MIC', () => {
    assert.throws(() => unwrapResponse(encodeNegTokenResp({ negState: NegState.reject })), /rejected/);
    assert.throws(
      () => unwrapResponse(encodeNegTokenResp({ supportedMech: OID.kerberos })),
      /selected mechanism/,
    );
    const sp = new SpnegoInitiator();
    sp.initial(Buffer.from('NTLMSSP\0'));
    assert.throws(
      () => sp.next(encodeNegTokenResp({ negState: NegState.acceptIncomplete })),
      /without a mechanism token/,
    );
    const { client } = ntlmPair();
    sp.final(Buffer.from('x'), client, true);
    assert.throws(() => sp.complete(undefined, client), /mechListMIC is missing/);
    assert.throws(
      () => sp.complete(encodeNegTokenResp({ negState: NegState.acceptCompleted }), client),
      /did not answer/,
    );
  });
});
