/**
 * The mock's Negotiate acceptor in both forms Windows accepts, driven from the test with the NTLM client core and
 * the SPNEGO codec over plain node:http on one keep-alive socket: raw NTLM, NTLM wrapped in SPNEGO, NTLM
 * counter-proposed after a Kerberos-first offer, and the refusals (Kerberos only, missing or forged mechListMIC).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { encryptedContentType, frameEncrypted, parseEncrypted } from '../../src/auth/message-encryption.ts';
import { createNtlmClient } from '../../src/auth/ntlm/index.ts';
import { authenticateHasMic } from '../../src/auth/ntlm/messages.ts';
import type { NtlmSession } from '../../src/auth/ntlm/session.ts';
import {
  decodeNegTokenResp,
  detectTokenKind,
  encodeNegTokenInit,
  NegState,
  OID,
  signMechList,
  verifyMechList,
} from '../../src/auth/spnego.ts';
import {
  NEGOTIATE_FORMS,
  negotiateTokens,
  SpnegoInitiator,
  unwrapResponse,
  wrapFinal,
  wrapInitial,
} from '../../src/auth/spnego-initiator.ts';
import { type MockServer, startMockServer } from '../../src/mock/index.ts';
import {
  buildCreateShell,
  buildDeleteShell,
  buildIdentify,
  parseCreateShellResponse,
  parseResponse,
} from '../../src/wsman/index.ts';

const USER = { name: 'alice', password: 'Seal3d-Pass', domain: 'CORP' };
const SOAP = 'application/soap+xml;charset=UTF-8';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  localPort: number | undefined;
}

describe('mock Negotiate: raw NTLM and NTLM in SPNEGO', () => {
  let mock: MockServer;
  let agent: Agent;
  before(async () => {
    mock = await startMockServer({ users: [USER], auth: { negotiate: true } });
  });
  after(() => mock.close());
  beforeEach(() => {
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
  });
  afterEach(() => agent.destroy());

  function post(body: Buffer, headers: Record<string, string>): Promise<Reply> {
    const url = new URL(mock.url);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          agent,
          headers: { 'Content-Type': SOAP, 'Content-Length': body.length, ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks),
              localPort: res.socket?.localPort,
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  /** The base64 token of `WWW-Authenticate: Negotiate <token>`, or undefined. */
  function negotiateToken(res: Reply): Buffer | undefined {
    const values = ([] as string[]).concat(res.headers['www-authenticate'] ?? []);
    for (const v of values) {
      const m = /^Negotiate ([A-Za-z0-9+/=]+)$/.exec(v.trim());
      if (m) return Buffer.from(m[1]!, 'base64');
    }
    return undefined;
  }

  function sealed(session: NtlmSession, xml: string, auth?: Buffer): Promise<Reply> {
    const plain = Buffer.from(xml);
    const { signature, sealed } = session.seal(plain);
    return post(frameEncrypted({ header: signature, data: sealed }, plain.length), {
      'Content-Type': encryptedContentType(),
      ...(auth ? { Authorization: `Negotiate ${auth.toString('base64')}` } : {}),
    });
  }

  function open(session: NtlmSession, res: Reply): string {
    assert.equal(res.status, 200, `HTTP ${res.status}`);
    assert.match(String(res.headers['content-type']), /^multipart\/encrypted/);
    const parts = parseEncrypted(res.body);
    return session.unseal(parts.data, parts.header).toString('utf8');
  }

  const ctx = () => ({ to: mock.url, messageId: `uuid:${randomUUID().toUpperCase()}` });
  const ntlmClient = () => createNtlmClient({ user: 'alice', domain: 'CORP', password: USER.password });

  /** A sealed Delete on the authenticated socket, with no Authorization header. */
  async function deleteShell(session: NtlmSession, shellId: string, port: number | undefined): Promise<void> {
    const c = ctx();
    const res = await sealed(session, buildDeleteShell(c, { shellId }));
    assert.equal(res.localPort, port, 'the same keep-alive socket');
    parseResponse(open(session, res), { relatesTo: c.messageId });
    assert.equal(mock.shells().length, 0);
  }

  it('raw NTLM: CHALLENGE answered raw; sealed Create and Delete', async () => {
    const ntlm = ntlmClient();
    const first = await post(Buffer.alloc(0), {
      Authorization: `Negotiate ${ntlm.negotiate().toString('base64')}`,
    });
    assert.equal(first.status, 401);
    const challenge = negotiateToken(first);
    assert.ok(challenge);
    assert.equal(detectTokenKind(challenge), 'ntlm', 'a raw NTLM offer gets a raw CHALLENGE');
    const { message, session } = ntlm.authenticate(challenge);
    const c = ctx();
    const res = await sealed(session, buildCreateShell(c), message);
    assert.equal(res.localPort, first.localPort);
    assert.equal(negotiateToken(res), undefined, 'raw NTLM ends without a final token');
    const shellId = parseCreateShellResponse(
      parseResponse(open(session, res), { relatesTo: c.messageId }),
    ).shellId;
    assert.equal(mock.shells().length, 1);
    await deleteShell(session, shellId, first.localPort);
  });

  it('SPNEGO: NegTokenResp legs, accept-completed with a mechListMIC; sealed Create and Delete', async () => {
    const ntlm = ntlmClient();
    const sp = new SpnegoInitiator();
    const first = await post(Buffer.alloc(0), {
      Authorization: `Negotiate ${sp.initial(ntlm.negotiate()).toString('base64')}`,
    });
    assert.equal(first.status, 401);
    const answer = negotiateToken(first)!;
    assert.equal(detectTokenKind(answer), 'spnego-resp', 'an SPNEGO offer is answered in SPNEGO');
    const resp = decodeNegTokenResp(answer);
    assert.equal(resp.negState, NegState.acceptIncomplete);
    assert.equal(resp.supportedMech, OID.ntlm);
    assert.equal(detectTokenKind(resp.responseToken!), 'ntlm');

    const { message, session } = ntlm.authenticate(sp.next(answer));
    assert.equal(
      authenticateHasMic(message),
      true,
      "the mock's CHALLENGE has a timestamp, so the MIC is used",
    );
    const c = ctx();
    const res = await sealed(session, buildCreateShell(c), sp.final(message, session, true));
    const final = negotiateToken(res);
    assert.ok(final, 'the 200 carries the final SPNEGO token');
    const done = decodeNegTokenResp(final);
    assert.equal(done.negState, NegState.acceptCompleted);
    assert.equal(done.mechListMIC?.readUInt32LE(12), 0, "the acceptor's mechListMIC uses its sequence 0");
    sp.complete(final, session);
    const shellId = parseCreateShellResponse(
      parseResponse(open(session, res), { relatesTo: c.messageId }),
    ).shellId;
    await deleteShell(session, shellId, first.localPort);
    assert.ok(mock.requestLog.some((e) => e.authScheme === 'Negotiate' && e.status === 200));
  });

  it('SPNEGO, Kerberos first: NTLM counter-proposed with request-mic and no token, then NTLM in NegTokenResp', async () => {
    const mechTypes = [OID.kerberosMs, OID.kerberos, OID.ntlm];
    // An optimistic "Kerberos" token the mock cannot use: it must be dropped, not answered.
    const init = encodeNegTokenInit({ mechTypes, mechToken: Buffer.from([0x60, 0x00]) });
    const { mechTypesDer } = wrapInitial(Buffer.alloc(1), mechTypes);
    const first = await post(Buffer.alloc(0), { Authorization: `Negotiate ${init.toString('base64')}` });
    assert.equal(first.status, 401);
    const counter = decodeNegTokenResp(negotiateToken(first)!);
    assert.deepEqual(counter, { negState: NegState.requestMic, supportedMech: OID.ntlm });

    const ntlm = ntlmClient();
    const second = await post(Buffer.alloc(0), {
      Authorization: `Negotiate ${wrapFinal(ntlm.negotiate()).toString('base64')}`,
    });
    assert.equal(second.status, 401);
    assert.equal(second.localPort, first.localPort);
    const challenge = unwrapResponse(negotiateToken(second)!);
    assert.equal(challenge.negState, NegState.acceptIncomplete);
    const { message, session } = ntlm.authenticate(challenge.responseToken!);

    const res = await post(Buffer.alloc(0), {
      Authorization: `Negotiate ${wrapFinal(message, signMechList(session, mechTypesDer)).toString('base64')}`,
    });
    assert.equal(res.status, 200, 'an empty-bodied last leg is answered 200, as Windows does');
    const done = unwrapResponse(negotiateToken(res)!);
    assert.equal(done.negState, NegState.acceptCompleted);
    verifyMechList(session, mechTypesDer, done.mechListMIC!);
    const identify = await sealed(session, buildIdentify());
    assert.match(open(session, identify), /IdentifyResponse/);
  });

  for (const form of NEGOTIATE_FORMS) {
    it(`negotiateTokens('${form}'), the helper for the client's authenticator, logs in and seals`, async () => {
      const tokens = negotiateTokens(form);
      const ntlm = ntlmClient();
      const first = await post(Buffer.alloc(0), {
        Authorization: `Negotiate ${tokens.initial(ntlm.negotiate()).toString('base64')}`,
      });
      const { message, session } = ntlm.authenticate(tokens.challenge(negotiateToken(first)!));
      const c = ctx();
      const res = await sealed(session, buildCreateShell(c), tokens.final(message, session));
      tokens.complete(negotiateToken(res), session);
      const shellId = parseCreateShellResponse(
        parseResponse(open(session, res), { relatesTo: c.messageId }),
      ).shellId;
      await deleteShell(session, shellId, first.localPort);
    });
  }

  it('refuses a Kerberos-only SPNEGO offer with the normal 401', async () => {
    const init = encodeNegTokenInit({
      mechTypes: [OID.kerberosMs, OID.kerberos],
      mechToken: Buffer.from([0x60, 0]),
    });
    const res = await post(Buffer.alloc(0), { Authorization: `Negotiate ${init.toString('base64')}` });
    assert.equal(res.status, 401);
    assert.deepEqual(res.headers['www-authenticate'], 'Negotiate');
    assert.ok(mock.requestLog.some((e) => e.status === 401 && e.authScheme === 'Negotiate'));
  });

  async function toLastLeg() {
    const ntlm = ntlmClient();
    const { token, mechTypesDer } = wrapInitial(ntlm.negotiate());
    const first = await post(Buffer.alloc(0), { Authorization: `Negotiate ${token.toString('base64')}` });
    return { mechTypesDer, ...ntlm.authenticate(unwrapResponse(negotiateToken(first)!).responseToken!) };
  }

  it('refuses a last leg without the mechListMIC the NTLM MIC makes mandatory', async () => {
    const { message, session } = await toLastLeg();
    const res = await sealed(session, buildIdentify(), wrapFinal(message));
    assert.equal(res.status, 401);
    assert.equal(negotiateToken(res), undefined);
  });

  it('refuses a mechListMIC over another mechanism list (a downgrade)', async () => {
    const { message, session } = await toLastLeg();
    const forged = wrapInitial(Buffer.alloc(1), [OID.kerberos, OID.ntlm]).mechTypesDer;
    const res = await sealed(session, buildIdentify(), wrapFinal(message, signMechList(session, forged)));
    assert.equal(res.status, 401);
  });

  it('refuses a raw AUTHENTICATE in an SPNEGO handshake', async () => {
    const { message, session } = await toLastLeg();
    const res = await sealed(session, buildIdentify(), message);
    assert.equal(res.status, 401);
  });
});
