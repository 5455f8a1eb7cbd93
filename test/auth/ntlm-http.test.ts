/**
 * NTLM over HTTP with message encryption (NtlmMechanism driven by the HTTP authenticator), against a bare
 * node:http server that uses the same NTLM core on the server side (the mock endpoint reuses it too). Covers the
 * handshake, sealing both ways, socket re-auth, tampering, replay, clear-text answers and secret hygiene.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { encryptedContentType, frameEncrypted, parseEncrypted } from '../../src/auth/message-encryption.ts';
import { createNtlmServer, type NtlmSession } from '../../src/auth/ntlm/index.ts';
import { DebugLog } from '../../src/debug.ts';
import { AuthenticationError, ProtocolError, WinRmError } from '../../src/errors.ts';
import { createHttpTransport } from '../../src/http/transport.ts';
import { resolveOptions } from '../../src/options/index.ts';
import { WsmanClient } from '../../src/winrm/wsman-client.ts';
import { buildIdentify, buildReply, NS } from '../../src/wsman/index.ts';

const PASSWORD = 'N7lm-Pa$$word';
type Mode = 'ok' | 'tamper' | 'replay' | 'clear' | 'ntlm-only';

describe('NTLM over HTTP with encryption', () => {
  let server: http.Server;
  let port: number;
  let mode: Mode = 'ok';
  let handshakes = 0;
  let sealedRequests = 0;
  let lastSealedReply: Buffer | undefined;
  const sockets = new WeakMap<Socket, { ntlm: ReturnType<typeof createNtlmServer>; session?: NtlmSession }>();

  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        let st = sockets.get(req.socket);
        if (!st) {
          st = {
            ntlm: createNtlmServer({
              targetName: 'MOCK',
              lookupPassword: (user) => (/^alice(@corp\.example\.com)?$/i.test(user) ? PASSWORD : undefined),
            }),
          };
          sockets.set(req.socket, st);
        }
        const auth = req.headers.authorization;
        if (mode === 'ntlm-only' && auth && !auth.startsWith('NTLM ')) {
          res.writeHead(401, { 'WWW-Authenticate': 'NTLM' }).end();
          return;
        }
        if (auth) {
          const token = Buffer.from(auth.split(' ')[1] ?? '', 'base64');
          if (token.readUInt32LE(8) === 1) {
            res
              .writeHead(401, {
                'WWW-Authenticate': `Negotiate ${st.ntlm.challenge(token).toString('base64')}`,
              })
              .end();
            return;
          }
          try {
            st.session = st.ntlm.verify(token).session;
            handshakes++;
          } catch {
            res.writeHead(401, { 'WWW-Authenticate': 'Negotiate' }).end();
            return;
          }
        }
        if (!st.session) {
          res.writeHead(401, { 'WWW-Authenticate': 'Negotiate' }).end();
          return;
        }
        const parts = parseEncrypted(body);
        const soap = st.session.unseal(parts.data, parts.header);
        sealedRequests++;
        assert.match(soap.toString(), /Identify/);
        const reply = Buffer.from(
          buildReply(
            { action: 'urn:identify', messageId: 'uuid:1' },
            `<wsmid:IdentifyResponse xmlns:wsmid="${NS.wsmid}"><wsmid:ProductVendor>Mock</wsmid:ProductVendor></wsmid:IdentifyResponse>`,
          ),
        );
        if (mode === 'clear') {
          res.writeHead(200, { 'Content-Type': 'application/soap+xml;charset=UTF-8' }).end(reply);
          return;
        }
        const { signature, sealed: data } = st.session.seal(reply);
        let sealed = frameEncrypted({ header: signature, data }, reply.length);
        if (mode === 'tamper')
          sealed.writeUInt8(sealed.readUInt8(sealed.length - 40) ^ 0x01, sealed.length - 40);
        if (mode === 'replay' && lastSealedReply) sealed = lastSealedReply;
        lastSealedReply = sealed;
        res.writeHead(200, { 'Content-Type': encryptedContentType() }).end(sealed);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());
  beforeEach(() => {
    mode = 'ok';
  });

  function transport(username = 'CORP\\alice', password = PASSWORD, lines?: string[]) {
    const opts = resolveOptions({
      endpoint: `http://127.0.0.1:${port}/wsman`,
      username,
      password,
      auth: 'ntlm',
    });
    const debug = new DebugLog(lines ? (_n, m) => lines.push(m) : undefined);
    debug.addSecret(password);
    return new WsmanClient(opts, createHttpTransport(opts), debug);
  }
  const identify = (t: WsmanClient) =>
    t.send(t.context(), buildIdentify(), { what: 'Identify', checkRelatesTo: false });

  it('authenticates once per socket and seals both ways', async () => {
    const t = transport();
    const h0 = handshakes;
    const s0 = sealedRequests;
    for (let i = 0; i < 5; i++) await identify(t);
    assert.equal(handshakes - h0, 1, 'one handshake for five requests on one socket');
    assert.equal(sealedRequests - s0, 5);
    t.close();
  });

  it('authenticates again on a new socket', async () => {
    const t = transport('alice@corp.example.com');
    const h0 = handshakes;
    await identify(t);
    const channel = await t.http.pool.acquire();
    const before = channel.generation;
    channel.destroy(); // the socket closes; the channel opens a new one
    t.http.pool.release(channel);
    await identify(t);
    const after = await t.http.pool.acquire();
    assert.equal(after.generation, before + 1);
    t.http.pool.release(after);
    assert.equal(handshakes - h0, 2);
    t.close();
  });

  it('falls back to the bare NTLM scheme when that is all the server offers', async () => {
    const t = transport();
    mode = 'ntlm-only';
    await identify(t);
    await identify(t);
    assert.equal(t.http.scheme, 'NTLM');
    t.close();
  });

  it('a wrong password is an AuthenticationError', async () => {
    const t = transport('CORP\\alice', 'wrong-password');
    await assert.rejects(identify(t), AuthenticationError);
    t.close();
  });

  it('a tampered response is refused', async () => {
    const t = transport();
    mode = 'tamper';
    await assert.rejects(identify(t), (e: unknown) => e instanceof ProtocolError && e instanceof WinRmError);
    t.close();
  });

  it('a replayed response is refused', async () => {
    const t = transport();
    await identify(t);
    mode = 'replay';
    await assert.rejects(identify(t), ProtocolError);
    t.close();
  });

  it('a clear-text answer to an encrypted request is refused', async () => {
    const t = transport();
    mode = 'clear';
    await assert.rejects(identify(t), /unencrypted body/);
    t.close();
  });

  it('no password or NTLM secret reaches the debug output or errors', async () => {
    const lines: string[] = [];
    const t = transport('CORP\\alice', PASSWORD, lines);
    await identify(t);
    const bad = transport('CORP\\alice', `${PASSWORD}x`, lines);
    const err = await identify(bad).catch((e: unknown) => e as Error);
    const all = `${lines.join('\n')}\n${String(err)}\n${(err as Error).stack}`;
    assert.ok(lines.length > 0);
    assert.ok(!all.includes(PASSWORD));
    t.close();
    bad.close();
  });
});
