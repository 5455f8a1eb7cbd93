import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { createNtlmClient, type NtlmClient } from '../../src/auth/ntlm/client.ts';
import {
  channelBindingsHash,
  computeLmV2Response,
  computeNtlmV2Response,
  encryptRandomSessionKey,
  ntHash,
  ntowfv2,
  sealKey,
  signKey,
  tlsServerEndPointApplicationData,
  upcase,
} from '../../src/auth/ntlm/crypto.ts';
import { NtlmIntegrityError } from '../../src/auth/ntlm/errors.ts';
import {
  AvFlag,
  AvId,
  decodeAuthenticate,
  decodeAvPairs,
  decodeChallenge,
  decodeNegotiate,
  decodeNtlmV2Response,
  describeFlags,
  encodeAuthenticate,
  encodeChallenge,
  encodeNtlmV2ClientBlob,
  MIC_OFFSET,
  NegotiateFlag,
  peekMessageType,
  summarizeAvPairs,
  textAvPair,
} from '../../src/auth/ntlm/messages.ts';
import { createNtlmServer, type NtlmServerOptions } from '../../src/auth/ntlm/server.ts';
import { NtlmSession } from '../../src/auth/ntlm/session.ts';
import { AuthenticationError, InvalidArgumentError, ProtocolError, WinRmError } from '../../src/errors.ts';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const hex = (b: Buffer): string => b.toString('hex');

// ---------------------------------------------------------------------------------------------------
// [MS-NLMP] 4.2.1 common values and 4.2.4 NTLMv2 example

const SPEC = {
  user: 'User',
  domain: 'Domain',
  password: 'Password',
  workstation: 'COMPUTER',
  serverChallenge: h('0123456789abcdef'),
  clientChallenge: h('aaaaaaaaaaaaaaaa'),
  randomSessionKey: Buffer.alloc(16, 0x55),
  time: 0n,
  /** 4.2.4 flags of the CHALLENGE_MESSAGE. */
  challengeFlags: 0xe28a8233,
  /** 4.2.4.3 flags of the AUTHENTICATE_MESSAGE. */
  authenticateFlags: 0xe2888235,
  /** MsvAvNbDomainName "Domain", MsvAvNbComputerName "Server", MsvAvEOL. */
  targetInfo: h('02000c0044006f006d00610069006e00 01000c00530065007200760065007200 00000000'),
  challengeMessage: h(`
    4e544c4d53535000 02000000 0c000c00 38000000 33828ae2 0123456789abcdef 0000000000000000
    24002400 44000000 060070170000000f 530065007200760065007200
    02000c0044006f006d00610069006e0001000c005300650072007600650072000000 0000`),
  authenticateMessage: h(`
    4e544c4d5353500003000000180018006c00000054005400840000000c000c00
    480000000800080054000000100010005c00000010001000d8000000358288e2
    0501280a0000000f44006f006d00610069006e00550073006500720043004f00
    4d005000550054004500520086c35097ac9cec102554764a57cccc19aaaaaaaa
    aaaaaaaa68cd0ab851e51c96aabc927bebef6a1c010100000000000000000000
    00000000aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e00
    01000c005300650072007600650072000000000000000000c5dad2544fc97990
    94ce1ce90bc9d03e`),
  ntowfv2: '0c868a403bfd7a93a3001ef22ef02e3f',
  sessionBaseKey: '8de40ccadbc14a82f15cb0ad0de95ca3',
  lmv2Response: '86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa',
  ntProofStr: '68cd0ab851e51c96aabc927bebef6a1c',
  /** 4.2.4.1.3 temp. */
  temp: `0101000000000000 0000000000000000 aaaaaaaaaaaaaaaa 00000000
         02000c0044006f006d00610069006e0001000c005300650072007600650072000000000000000000`,
  encryptedSessionKey: 'c5dad2544fc9799094ce1ce90bc9d03e',
  clientSealKey: '59f600973cc4960a25480a7c196e4c58',
  clientSignKey: '4788dc861b4782f35d43fd98fe1a2d39',
  plaintext: Buffer.from('Plaintext', 'utf16le'),
  sealed: '54e50165bf1936dc996020c1811b0f06fb5f',
  signature: '010000007fb38ec5c55d497600000000',
};

/** random() that hands out the spec's client challenge, then the spec's random session key. */
function specRandom(): (size: number) => Buffer {
  const queue = [SPEC.clientChallenge, SPEC.randomSessionKey];
  return (size: number) => {
    const next = queue.shift();
    assert.ok(next && next.length === size, `unexpected random(${size})`);
    return Buffer.from(next);
  };
}

function specClient(): NtlmClient {
  return createNtlmClient({
    user: SPEC.user,
    domain: SPEC.domain,
    password: SPEC.password,
    workstation: SPEC.workstation,
    random: specRandom(),
    now: () => SPEC.time,
    version: { major: 5, minor: 1, build: 2600 },
  });
}

describe('[MS-NLMP] 4.2.4 NTLMv2 test vectors', () => {
  it('4.2.4.1.1 NTOWFv2 / LMOWFv2', () => {
    assert.equal(hex(ntowfv2(SPEC.password, SPEC.user, SPEC.domain)), SPEC.ntowfv2);
  });

  it('4.2.4.1.3 temp, 4.2.4.2.2 NTProofStr, 4.2.4.1.2 session base key, 4.2.4.2.1 LMv2', () => {
    const responseKeyNT = ntowfv2(SPEC.password, SPEC.user, SPEC.domain);
    assert.deepEqual(encodeNtlmV2ClientBlob(SPEC.time, SPEC.clientChallenge, SPEC.targetInfo), h(SPEC.temp));
    const r = computeNtlmV2Response({
      responseKeyNT,
      serverChallenge: SPEC.serverChallenge,
      clientChallenge: SPEC.clientChallenge,
      timestamp: SPEC.time,
      targetInfo: SPEC.targetInfo,
    });
    assert.equal(hex(r.ntProofStr), SPEC.ntProofStr);
    assert.equal(hex(r.sessionBaseKey), SPEC.sessionBaseKey);
    assert.equal(hex(r.lmChallengeResponse), SPEC.lmv2Response);
    assert.deepEqual(r.ntChallengeResponse, Buffer.concat([h(SPEC.ntProofStr), h(SPEC.temp)]));
    assert.equal(
      hex(computeLmV2Response(responseKeyNT, SPEC.serverChallenge, SPEC.clientChallenge)),
      SPEC.lmv2Response,
    );
  });

  it('4.2.4.2.3 encrypted session key, 4.2.4.4 SEALKEY and SIGNKEY', () => {
    assert.equal(
      hex(encryptRandomSessionKey(h(SPEC.sessionBaseKey), SPEC.randomSessionKey)),
      SPEC.encryptedSessionKey,
    );
    assert.equal(hex(sealKey(SPEC.authenticateFlags, SPEC.randomSessionKey, 'client')), SPEC.clientSealKey);
    assert.equal(hex(signKey(SPEC.authenticateFlags, SPEC.randomSessionKey, 'client')), SPEC.clientSignKey);
  });

  it('4.2.4.4 GSS_WrapEx: sealed "Plaintext" and its signature', () => {
    const session = new NtlmSession({
      role: 'client',
      flags: SPEC.authenticateFlags,
      exportedSessionKey: SPEC.randomSessionKey,
    });
    const { sealed, signature } = session.seal(SPEC.plaintext);
    assert.equal(hex(sealed), SPEC.sealed);
    assert.equal(hex(signature), SPEC.signature);
    assert.equal(session.sendSequence, 1);
  });

  it('4.2.4.3 CHALLENGE_MESSAGE encodes and decodes byte for byte', () => {
    const encoded = encodeChallenge({
      flags: SPEC.challengeFlags,
      serverChallenge: SPEC.serverChallenge,
      targetName: 'Server',
      targetInfo: [textAvPair(AvId.NB_DOMAIN_NAME, 'Domain'), textAvPair(AvId.NB_COMPUTER_NAME, 'Server')],
      version: { major: 6, minor: 0, build: 6000 },
    });
    assert.equal(hex(encoded), hex(SPEC.challengeMessage));
    const decoded = decodeChallenge(SPEC.challengeMessage);
    assert.equal(decoded.flags, SPEC.challengeFlags);
    assert.deepEqual(decoded.serverChallenge, SPEC.serverChallenge);
    assert.equal(decoded.targetName, 'Server');
    assert.deepEqual(decoded.targetInfoRaw, SPEC.targetInfo);
    assert.deepEqual(summarizeAvPairs(decoded.targetInfo), {
      nbDomainName: 'Domain',
      nbComputerName: 'Server',
    });
    assert.deepEqual(decoded.version, { major: 6, minor: 0, build: 6000, revision: 15 });
    assert.equal(peekMessageType(SPEC.challengeMessage), 2);
  });

  it('4.2.4.3 AUTHENTICATE_MESSAGE: the client reproduces it byte for byte', () => {
    const client = specClient();
    const negotiate = client.negotiate();
    assert.equal(decodeNegotiate(negotiate).flags, SPEC.authenticateFlags);
    const { message, session } = client.authenticate(SPEC.challengeMessage);
    assert.equal(hex(message), hex(SPEC.authenticateMessage));
    // The session from the handshake seals like 4.2.4.4.
    const { sealed, signature } = session.seal(SPEC.plaintext);
    assert.equal(hex(sealed), SPEC.sealed);
    assert.equal(hex(signature), SPEC.signature);
  });

  it('4.2.4.3 AUTHENTICATE_MESSAGE decodes, and re-encodes to the same bytes', () => {
    const auth = decodeAuthenticate(SPEC.authenticateMessage);
    assert.equal(auth.flags, SPEC.authenticateFlags);
    assert.equal(auth.user, 'User');
    assert.equal(auth.domain, 'Domain');
    assert.equal(auth.workstation, 'COMPUTER');
    assert.equal(hex(auth.lmChallengeResponse), SPEC.lmv2Response);
    assert.equal(hex(auth.encryptedRandomSessionKey), SPEC.encryptedSessionKey);
    assert.equal(auth.mic, undefined);
    assert.deepEqual(auth.version, { major: 5, minor: 1, build: 2600, revision: 15 });
    const v2 = decodeNtlmV2Response(auth.ntChallengeResponse);
    assert.equal(hex(v2.ntProofStr), SPEC.ntProofStr);
    assert.equal(v2.timestamp, 0n);
    assert.deepEqual(v2.clientChallenge, SPEC.clientChallenge);
    const { mic: _mic, version, ...rest } = auth;
    assert.deepEqual(
      encodeAuthenticate({ ...rest, ...(version ? { version } : {}) }),
      SPEC.authenticateMessage,
    );
  });

  it('the server verifies the spec AUTHENTICATE_MESSAGE and unseals the spec sealed message', () => {
    const server = createNtlmServer({
      lookupPassword: (user, domain) => (user === 'User' && domain === 'Domain' ? 'Password' : undefined),
      targetName: 'Server',
      netbiosDomainName: 'Domain',
      random: () => Buffer.from(SPEC.serverChallenge),
      includeTimestamp: false,
    });
    server.challenge(specClient().negotiate());
    const result = server.verify(SPEC.authenticateMessage);
    assert.equal(result.user, 'User');
    assert.equal(result.domain, 'Domain');
    assert.equal(result.workstation, 'COMPUTER');
    assert.equal(result.micVerified, false);
    assert.deepEqual(result.session.unseal(h(SPEC.sealed), h(SPEC.signature)), SPEC.plaintext);
  });
});

// ---------------------------------------------------------------------------------------------------
// Client <-> server

const ACCOUNTS = new Map<string, string>([
  ['CONTOSO\\alice', 'S3cret-Pa55word!'],
  ['\\bob@contoso.com', 'Bob-pa55-ünïcødé'],
  ['HOST\\administrator', 'Adm1n!'],
]);

function lookup(user: string, domain: string): string | undefined {
  for (const [key, password] of ACCOUNTS) {
    const [d, u] = key.split('\\') as [string, string];
    if (d.toUpperCase() === domain.toUpperCase() && u.toLowerCase() === user.toLowerCase()) return password;
  }
  return undefined;
}

function serverFor(overrides: Partial<NtlmServerOptions> = {}) {
  return createNtlmServer({
    lookupPassword: lookup,
    targetName: 'HOST',
    netbiosDomainName: 'CONTOSO',
    dnsDomainName: 'contoso.com',
    dnsComputerName: 'host.contoso.com',
    ...overrides,
  });
}

function handshake(
  clientOptions: Parameters<typeof createNtlmClient>[0],
  serverOverrides: Partial<NtlmServerOptions> = {},
) {
  const client = createNtlmClient(clientOptions);
  const server = serverFor(serverOverrides);
  const negotiate = client.negotiate();
  const challenge = server.challenge(negotiate);
  const { message, session } = client.authenticate(challenge);
  return { client, server, negotiate, challenge, message, clientSession: session };
}

function establish(serverOverrides: Partial<NtlmServerOptions> = {}) {
  const hs = handshake({ user: 'alice', domain: 'CONTOSO', password: 'S3cret-Pa55word!' }, serverOverrides);
  const result = hs.server.verify(hs.message);
  return { ...hs, result, serverSession: result.session };
}

describe('NTLM client <-> server', () => {
  it('authenticates with the right password, with a MIC and MsvAvFlags when the server sent a timestamp', () => {
    const { challenge, message, result, clientSession, serverSession } = establish();
    assert.equal(result.user, 'alice');
    assert.equal(result.domain, 'CONTOSO');
    assert.equal(result.micVerified, true);
    assert.equal(serverSession.role, 'server');
    assert.equal(clientSession.role, 'client');
    assert.equal(clientSession.negotiatedFlags, serverSession.negotiatedFlags);

    const serverInfo = summarizeAvPairs(decodeChallenge(challenge).targetInfo);
    assert.equal(serverInfo.dnsComputerName, 'host.contoso.com');
    assert.equal(typeof serverInfo.timestamp, 'bigint');

    const auth = decodeAuthenticate(message);
    assert.deepEqual(
      auth.lmChallengeResponse,
      Buffer.alloc(24),
      'Z(24) LM response when MsvAvTimestamp is present',
    );
    assert.ok(auth.mic && !auth.mic.equals(Buffer.alloc(16)));
    const blob = decodeNtlmV2Response(auth.ntChallengeResponse);
    const info = summarizeAvPairs(blob.avPairs);
    assert.equal(info.flags, AvFlag.MIC_PRESENT);
    assert.equal(info.timestamp, serverInfo.timestamp, 'the client reuses the server timestamp');
    assert.deepEqual(info.channelBindings, Buffer.alloc(16), 'no bindings: Z(16) like Windows');
    for (const flag of ['SEAL', 'SIGN', 'KEY_EXCH', 'NEGOTIATE_128', 'EXTENDED_SESSIONSECURITY'] as const) {
      assert.ok(describeFlags(auth.flags).includes(flag), flag);
    }
  });

  it('fails with AuthenticationError on a wrong password or an unknown user', () => {
    for (const options of [
      { user: 'alice', domain: 'CONTOSO', password: 'wrong' },
      { user: 'mallory', domain: 'CONTOSO', password: 'S3cret-Pa55word!' },
      { user: 'alice', domain: 'OTHER', password: 'S3cret-Pa55word!' },
    ]) {
      const hs = handshake(options);
      assert.throws(
        () => hs.server.verify(hs.message),
        (err: unknown) =>
          err instanceof AuthenticationError &&
          err.code === 'WINRM_AUTH' &&
          /unknown user or wrong password/.test(err.message),
      );
    }
  });

  it('accepts DOMAIN\\user (downlevel) and user@realm (UPN, empty domain) names', () => {
    const seen: Array<[string, string]> = [];
    const record = (user: string, domain: string) => {
      seen.push([user, domain]);
      return lookup(user, domain);
    };
    const downlevel = handshake(
      { user: 'CONTOSO\\alice', password: 'S3cret-Pa55word!' },
      { lookupPassword: record },
    );
    assert.equal(downlevel.server.verify(downlevel.message).domain, 'CONTOSO');
    const upn = handshake(
      { user: 'bob@contoso.com', password: 'Bob-pa55-ünïcødé' },
      { lookupPassword: record },
    );
    const upnResult = upn.server.verify(upn.message);
    assert.equal(upnResult.user, 'bob@contoso.com');
    assert.equal(upnResult.domain, '');
    // NTOWFv2 upper-cases the user, so the case the user typed does not matter.
    const shouting = handshake(
      { user: 'host\\ADMINISTRATOR', password: 'Adm1n!' },
      { lookupPassword: record },
    );
    assert.equal(shouting.server.verify(shouting.message).user, 'ADMINISTRATOR');
    assert.deepEqual(seen, [
      ['alice', 'CONTOSO'],
      ['bob@contoso.com', ''],
      ['ADMINISTRATOR', 'host'],
    ]);
    assert.throws(
      () => createNtlmClient({ user: 'CONTOSO\\alice', domain: 'FABRIKAM', password: 'x' }),
      InvalidArgumentError,
    );
    assert.throws(() => createNtlmClient({ user: '', password: 'x' }), InvalidArgumentError);
  });

  it('seals 100 messages each way, interleaved, and both sides unseal them', () => {
    const { clientSession, serverSession } = establish();
    for (let i = 0; i < 100; i++) {
      const request = Buffer.from(`<s:Envelope>request ${i} ${'x'.repeat(i * 37)}</s:Envelope>`);
      const up = clientSession.seal(request);
      assert.equal(up.signature.length, 16);
      assert.equal(up.sealed.length, request.length);
      assert.notDeepEqual(up.sealed, request);
      assert.deepEqual(serverSession.unseal(up.sealed, up.signature), request);

      const response = Buffer.from(`<s:Envelope>response ${i}</s:Envelope>`);
      const down = serverSession.seal(response);
      assert.deepEqual(clientSession.unseal(down.sealed, down.signature), response);
    }
    assert.equal(clientSession.sendSequence, 100);
    assert.equal(clientSession.receiveSequence, 100);
    assert.equal(serverSession.sendSequence, 100);
    assert.equal(serverSession.receiveSequence, 100);
  });

  it('keeps per-direction counters: a burst one way does not disturb the other', () => {
    const { clientSession, serverSession } = establish();
    const burst = Array.from({ length: 100 }, (_, i) => clientSession.seal(Buffer.from(`msg ${i}`)));
    const reply = serverSession.seal(Buffer.from('early reply'));
    assert.deepEqual(clientSession.unseal(reply.sealed, reply.signature), Buffer.from('early reply'));
    burst.forEach((m, i) => {
      assert.deepEqual(serverSession.unseal(m.sealed, m.signature), Buffer.from(`msg ${i}`));
    });
  });

  it('wrap()/unwrap() carry the WinRM octet-stream body: length 16, signature, sealed data', () => {
    const { clientSession, serverSession } = establish();
    const body = Buffer.from('<s:Envelope/>');
    const wrapped = clientSession.wrap(body);
    assert.equal(wrapped.readUInt32LE(0), 16);
    assert.equal(wrapped.length, 4 + 16 + body.length);
    assert.deepEqual(serverSession.unwrap(wrapped), body);
    assert.throws(() => serverSession.unwrap(Buffer.from([1, 0, 0, 0, 9])), NtlmIntegrityError);
  });

  it('sign()/verify() protect cleartext messages', () => {
    const { clientSession, serverSession } = establish();
    const msg = Buffer.from('signed but not sealed');
    const sig = clientSession.sign(msg);
    serverSession.verify(msg, sig);
    const sig2 = clientSession.sign(msg);
    assert.throws(() => serverSession.verify(Buffer.from('signed but not sealeD'), sig2), NtlmIntegrityError);
    serverSession.verify(msg, sig2);
  });
});

describe('NTLM session integrity failures', () => {
  const isIntegrity =
    (failure: string) =>
    (err: unknown): boolean =>
      err instanceof NtlmIntegrityError &&
      err instanceof ProtocolError &&
      err.code === 'WINRM_PROTOCOL' &&
      err.name === 'NtlmIntegrityError' &&
      err.failure === failure;

  it('rejects a flipped byte in the sealed data, then still accepts the genuine message', () => {
    const { clientSession, serverSession } = establish();
    const { sealed, signature } = clientSession.seal(Buffer.from('important command'));
    for (const at of [0, 5, sealed.length - 1]) {
      const bad = Buffer.from(sealed);
      bad[at]! ^= 0x01;
      assert.throws(() => serverSession.unseal(bad, signature), isIntegrity('signature-mismatch'));
    }
    assert.equal(serverSession.receiveSequence, 0);
    assert.deepEqual(serverSession.unseal(sealed, signature), Buffer.from('important command'));
  });

  it('rejects a flipped byte in the signature checksum, version or sequence number', () => {
    const { clientSession, serverSession } = establish();
    const { sealed, signature } = clientSession.seal(Buffer.from('payload'));
    const flip = (at: number): Buffer => {
      const bad = Buffer.from(signature);
      bad[at]! ^= 0x80;
      return bad;
    };
    for (const at of [4, 8, 11])
      assert.throws(() => serverSession.unseal(sealed, flip(at)), isIntegrity('signature-mismatch'));
    assert.throws(() => serverSession.unseal(sealed, flip(0)), isIntegrity('malformed-signature'));
    assert.throws(() => serverSession.unseal(sealed, flip(12)), isIntegrity('sequence-mismatch'));
    assert.throws(
      () => serverSession.unseal(sealed, signature.subarray(0, 15)),
      isIntegrity('malformed-signature'),
    );
    assert.deepEqual(serverSession.unseal(sealed, signature), Buffer.from('payload'));
  });

  it('rejects a replayed message (same sequence number) and an out-of-order one', () => {
    const { clientSession, serverSession } = establish();
    const first = clientSession.seal(Buffer.from('first'));
    const second = clientSession.seal(Buffer.from('second'));
    const third = clientSession.seal(Buffer.from('third'));
    assert.throws(
      () => serverSession.unseal(second.sealed, second.signature),
      (err: unknown) =>
        isIntegrity('sequence-mismatch')(err) && (err as NtlmIntegrityError).receivedSequence === 1,
    );
    assert.deepEqual(serverSession.unseal(first.sealed, first.signature), Buffer.from('first'));
    assert.throws(
      () => serverSession.unseal(first.sealed, first.signature),
      isIntegrity('sequence-mismatch'),
    );
    assert.deepEqual(serverSession.unseal(second.sealed, second.signature), Buffer.from('second'));
    assert.throws(
      () => serverSession.unseal(second.sealed, second.signature),
      isIntegrity('sequence-mismatch'),
    );
    assert.deepEqual(serverSession.unseal(third.sealed, third.signature), Buffer.from('third'));
  });

  it('rejects a message sealed for the other direction or by another session', () => {
    const a = establish();
    const b = establish();
    const own = a.clientSession.seal(Buffer.from('to server'));
    // A client cannot unseal its own outgoing message (different keys per direction).
    assert.throws(() => a.clientSession.unseal(own.sealed, own.signature), isIntegrity('signature-mismatch'));
    // Another connection's server has other keys.
    assert.throws(() => b.serverSession.unseal(own.sealed, own.signature), isIntegrity('signature-mismatch'));
    assert.deepEqual(a.serverSession.unseal(own.sealed, own.signature), Buffer.from('to server'));
  });
});

describe('NTLM handshake protection', () => {
  it('rejects an AUTHENTICATE_MESSAGE whose MIC or flags were altered', () => {
    const hs = handshake({ user: 'alice', domain: 'CONTOSO', password: 'S3cret-Pa55word!' });
    const badMic = Buffer.from(hs.message);
    badMic[MIC_OFFSET]! ^= 0xff;
    assert.throws(
      () => hs.server.verify(badMic),
      (e: unknown) => e instanceof AuthenticationError && /MIC/.test(e.message),
    );

    const hs2 = handshake({ user: 'alice', domain: 'CONTOSO', password: 'S3cret-Pa55word!' });
    const downgraded = Buffer.from(hs2.message);
    downgraded.writeUInt32LE((downgraded.readUInt32LE(60) & ~NegotiateFlag.SEAL) >>> 0, 60);
    assert.throws(
      () => hs2.server.verify(downgraded),
      (e: unknown) => e instanceof AuthenticationError && /MIC/.test(e.message),
    );
  });

  it('detects a NEGOTIATE_MESSAGE altered in transit (the MIC covers all three messages)', () => {
    const client = createNtlmClient({ user: 'alice', domain: 'CONTOSO', password: 'S3cret-Pa55word!' });
    const server = serverFor();
    const negotiate = client.negotiate();
    const stripped = Buffer.from(negotiate);
    stripped.writeUInt32LE((stripped.readUInt32LE(12) & ~NegotiateFlag.SIGN) >>> 0, 12);
    const { message } = client.authenticate(server.challenge(stripped));
    assert.throws(
      () => server.verify(message),
      (e: unknown) => e instanceof AuthenticationError && /MIC/.test(e.message),
    );
  });

  it('works without key exchange (ExportedSessionKey = KeyExchangeKey, plain checksum)', () => {
    const client = createNtlmClient({ user: 'alice', domain: 'CONTOSO', password: 'S3cret-Pa55word!' });
    const server = serverFor({ includeTimestamp: false });
    const negotiate = Buffer.from(client.negotiate());
    negotiate.writeUInt32LE((negotiate.readUInt32LE(12) & ~NegotiateFlag.KEY_EXCH) >>> 0, 12);
    const { message, session } = client.authenticate(server.challenge(negotiate));
    assert.equal(decodeAuthenticate(message).encryptedRandomSessionKey.length, 0);
    assert.ok(!describeFlags(session.negotiatedFlags).includes('KEY_EXCH'));
    const { session: serverSession } = server.verify(message);
    for (let i = 0; i < 3; i++) {
      const up = session.seal(Buffer.from(`no kx ${i}`));
      assert.deepEqual(serverSession.unseal(up.sealed, up.signature), Buffer.from(`no kx ${i}`));
      const down = serverSession.seal(Buffer.from(`reply ${i}`));
      assert.deepEqual(session.unseal(down.sealed, down.signature), Buffer.from(`reply ${i}`));
    }
  });

  it('makes a challenge single-use', () => {
    const hs = handshake({ user: 'alice', domain: 'CONTOSO', password: 'S3cret-Pa55word!' });
    hs.server.verify(hs.message);
    assert.throws(() => hs.server.verify(hs.message), InvalidArgumentError);
  });

  it('without a server timestamp: LMv2 is sent, no MIC; requireMic then refuses', () => {
    const hs = handshake(
      { user: 'alice', domain: 'CONTOSO', password: 'S3cret-Pa55word!' },
      { includeTimestamp: false },
    );
    const auth = decodeAuthenticate(hs.message);
    assert.equal(auth.lmChallengeResponse.length, 24);
    assert.notDeepEqual(auth.lmChallengeResponse, Buffer.alloc(24));
    assert.equal(summarizeAvPairs(decodeNtlmV2Response(auth.ntChallengeResponse).avPairs).flags, undefined);
    assert.equal(hs.server.verify(hs.message).micVerified, false);

    const strict = handshake(
      { user: 'alice', domain: 'CONTOSO', password: 'S3cret-Pa55word!' },
      { includeTimestamp: false, requireMic: true },
    );
    assert.throws(() => strict.server.verify(strict.message), AuthenticationError);
  });

  it('checks channel bindings (tls-server-end-point) when the server requires them', () => {
    const certHash = createHash('sha256').update('certificate DER').digest();
    const bindings = tlsServerEndPointApplicationData(certHash);
    const ok = handshake(
      {
        user: 'alice',
        domain: 'CONTOSO',
        password: 'S3cret-Pa55word!',
        channelBindings: bindings,
        targetSpn: 'HTTP/host',
      },
      { channelBindings: bindings },
    );
    const blob = decodeNtlmV2Response(decodeAuthenticate(ok.message).ntChallengeResponse);
    assert.deepEqual(summarizeAvPairs(blob.avPairs).channelBindings, channelBindingsHash(bindings));
    assert.equal(summarizeAvPairs(blob.avPairs).targetName, 'HTTP/host');
    assert.equal(ok.server.verify(ok.message).user, 'alice');

    const other = tlsServerEndPointApplicationData(createHash('sha256').update('attacker cert').digest());
    const mitm = handshake(
      { user: 'alice', domain: 'CONTOSO', password: 'S3cret-Pa55word!', channelBindings: other },
      { channelBindings: bindings },
    );
    assert.throws(
      () => mitm.server.verify(mitm.message),
      (e: unknown) => e instanceof AuthenticationError && /channel bindings/.test(e.message),
    );

    const none = handshake(
      { user: 'alice', domain: 'CONTOSO', password: 'S3cret-Pa55word!' },
      { channelBindings: bindings },
    );
    assert.throws(() => none.server.verify(none.message), AuthenticationError);
  });

  it('hashes gss_channel_bindings_struct as four zero words, the length, then the data', () => {
    const data = Buffer.from('tls-server-end-point:abc');
    const struct = Buffer.concat([Buffer.alloc(16), Buffer.from([data.length, 0, 0, 0]), data]);
    assert.deepEqual(channelBindingsHash(data), createHash('md5').update(struct).digest());
  });

  it('the client refuses challenges weaker than NTLMv2 with 128-bit extended session security', () => {
    for (const drop of [
      NegotiateFlag.EXTENDED_SESSIONSECURITY,
      NegotiateFlag.NEGOTIATE_128,
      NegotiateFlag.UNICODE,
    ]) {
      const client = specClient();
      client.negotiate();
      const weak = Buffer.from(SPEC.challengeMessage);
      weak.writeUInt32LE((SPEC.challengeFlags & ~drop) >>> 0, 20);
      assert.throws(() => client.authenticate(weak), AuthenticationError);
    }
  });

  it('reports malformed messages as ProtocolError and misuse as InvalidArgumentError', () => {
    const client = specClient();
    assert.throws(() => client.authenticate(SPEC.challengeMessage), InvalidArgumentError);
    client.negotiate();
    assert.throws(() => client.authenticate(Buffer.from('not ntlm at all, definitely not')), ProtocolError);
    const truncated = SPEC.challengeMessage.subarray(0, 60);
    assert.throws(() => client.authenticate(truncated), ProtocolError);
    assert.throws(() => client.authenticate(SPEC.authenticateMessage), ProtocolError);
    assert.throws(() => decodeAvPairs(h('02000c004400')), ProtocolError);
    assert.throws(() => decodeAuthenticate(SPEC.authenticateMessage.subarray(0, 100)), ProtocolError);

    const server = serverFor();
    assert.throws(() => server.verify(SPEC.authenticateMessage), InvalidArgumentError);
    assert.throws(() => server.challenge(SPEC.challengeMessage), ProtocolError);
  });

  it('upper-cases user names like Windows, never changing their length', () => {
    assert.equal(upcase('straße'), 'STRAßE');
    assert.equal(upcase('élodie'), 'ÉLODIE');
  });
});

// ---------------------------------------------------------------------------------------------------
// Secrets

describe('NTLM secrets stay out of errors and diagnostics', () => {
  it('no password, NT hash, NTOWFv2 or session key in messages, String(), JSON or util.inspect', () => {
    const password = 'Sup3r-Secret-Passw0rd';
    const exportedKey = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const randoms = [Buffer.from('0102030405060708', 'hex'), exportedKey];
    const client = createNtlmClient({
      user: 'CONTOSO\\carol',
      password,
      random: (size) => Buffer.from(randoms.shift() ?? Buffer.alloc(size)),
    });
    const server = createNtlmServer({ lookupPassword: () => password, targetName: 'HOST' });
    const { message, session } = client.authenticate(server.challenge(client.negotiate()));
    const { session: serverSession } = server.verify(message);

    const secrets = [
      password,
      Buffer.from(password, 'utf16le').toString('hex'),
      hex(ntHash(password)),
      hex(ntowfv2(password, 'carol', 'CONTOSO')),
      hex(exportedKey),
      ...(['client', 'server'] as const).flatMap((d) => [
        hex(sealKey(session.negotiatedFlags, exportedKey, d)),
        hex(signKey(session.negotiatedFlags, exportedKey, d)),
      ]),
    ];

    const errors: unknown[] = [];
    const capture = (fn: () => unknown): void => {
      try {
        fn();
      } catch (err) {
        errors.push(err);
      }
    };
    // Wrong password on the server, a tampered message, a replay, a misuse.
    const wrongServer = createNtlmServer({ lookupPassword: () => `${password}!`, targetName: 'HOST' });
    const c2 = createNtlmClient({ user: 'carol', domain: 'CONTOSO', password });
    capture(() => wrongServer.verify(c2.authenticate(wrongServer.challenge(c2.negotiate())).message));
    const sealed = session.seal(Buffer.from('data'));
    const bad = Buffer.from(sealed.sealed);
    bad[0]! ^= 1;
    capture(() => serverSession.unseal(bad, sealed.signature));
    serverSession.unseal(sealed.sealed, sealed.signature);
    capture(() => serverSession.unseal(sealed.sealed, sealed.signature));
    capture(() => client.authenticate(Buffer.alloc(64)));
    assert.equal(errors.length, 4);
    for (const err of errors) assert.ok(err instanceof WinRmError);

    const renderings: string[] = [];
    for (const err of errors) {
      const e = err as Error;
      renderings.push(e.message, String(e), e.stack ?? '', inspect(e, { depth: 10, showHidden: true }));
      renderings.push(JSON.stringify(e, Object.getOwnPropertyNames(e)));
    }
    for (const obj of [client, session, serverSession, server]) {
      renderings.push(
        String(obj),
        JSON.stringify(obj),
        inspect(obj),
        inspect(obj, { depth: Infinity, showHidden: true, showProxy: true, getters: true }),
      );
    }
    renderings.push(inspect({ client, session }, { depth: Infinity, showHidden: true }));

    const haystack = renderings.join('\n').toLowerCase();
    for (const secret of secrets)
      assert.ok(!haystack.includes(secret.toLowerCase()), `secret leaked: ${secret.slice(0, 4)}…`);
    assert.match(inspect(session), /<redacted>/);
    assert.match(inspect(client), /<redacted>/);
    assert.match(inspect(client), /carol/);
  });
});
