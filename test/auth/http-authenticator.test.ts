/**
 * The HTTP authenticator with a mechanism that is neither Basic nor NTLM: a Kerberos-like one whose first token
 * must carry the channel bindings of the certificate (so the certificate must be known before the token is
 * made), finished by a mutual-auth token on a 200, then messages sealed by a context that pads. Also: re-auth on
 * a new socket, one fresh handshake after a 401 on an authenticated socket, re-auth after a 400 to a sealed
 * message, and unauthenticated requests.
 */
import assert from 'node:assert/strict';
import { X509Certificate as X509 } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { channelBindingsFor } from '../../src/auth/channel-bindings.ts';
import type { AuthMechanism, SecurityContext } from '../../src/auth/mechanism.ts';
import {
  decryptMessage,
  encryptedContentType,
  encryptMessage,
  isEncryptedContentType,
} from '../../src/auth/message-encryption.ts';
import { AuthenticationError } from '../../src/errors.ts';
import { HttpTransport } from '../../src/http/transport.ts';
import { generateSelfSignedCertificate } from '../../src/mock/tls/certificate.ts';
import { resolveOptions } from '../../src/options/index.ts';

function padding(): SecurityContext {
  return {
    encrypts: true,
    wrap(plain) {
      const pad = 8 - (plain.length % 8);
      const data = Buffer.from(Buffer.concat([plain, Buffer.alloc(pad, pad)]).map((b) => b ^ 0x33));
      return { header: Buffer.from('HDR!'), data };
    },
    unwrap(header, data) {
      assert.equal(header.toString(), 'HDR!');
      const clear = Buffer.from(data.map((b) => b ^ 0x33));
      return clear.subarray(0, clear.length - clear[clear.length - 1]!);
    },
  };
}

/** Kerberos-like: one token bound to the connection, a mutual token back, a padding context. */
const krbLike: AuthMechanism = {
  schemes: ['Negotiate'],
  connectionBound: true,
  encrypts: true,
  begin(connection) {
    let done = false;
    return {
      init: () => ({
        token: Buffer.concat([Buffer.from('AP-REQ:'), connection.channelBindings ?? Buffer.alloc(0)]),
        done: false,
      }),
      step: (server) => {
        assert.equal(server.toString(), 'AP-REP');
        done = true;
        return { done: true };
      },
      securityContext: () => (done ? padding() : undefined),
    };
  },
  describeAccount: () => 'domain account "alice@CORP.EXAMPLE"',
  refusedRemedy: () => 'check the ticket',
};

describe('HTTP authenticator with a Kerberos-like mechanism over HTTPS', () => {
  let server: https.Server;
  let port: number;
  let expectedBindings: Buffer;
  const authed = new WeakSet<Socket>();
  const log: Array<{ auth?: string; sealed: boolean; identify?: string }> = [];
  let forgetNext = false;
  let reject400Next = false;
  before(async () => {
    const cert = await generateSelfSignedCertificate({ commonName: 'localhost', altNames: ['localhost'] });
    expectedBindings = channelBindingsFor({ raw: new X509(cert.certPem).raw } as never)!;
    server = https.createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const sealed = isEncryptedContentType(req.headers['content-type']);
        log.push({
          auth: req.headers.authorization,
          sealed,
          identify: req.headers.wsmanidentify as string | undefined,
        });
        if (req.headers.wsmanidentify === 'unauthenticated' && !req.headers.authorization) {
          res.writeHead(200, { 'Content-Type': 'application/soap+xml' }).end('<identify/>');
          return;
        }
        const auth = req.headers.authorization;
        if (auth) {
          const token = Buffer.from(auth.replace(/^Negotiate /, ''), 'base64');
          assert.deepEqual(
            token,
            Buffer.concat([Buffer.from('AP-REQ:'), expectedBindings]),
            'bindings in the first token',
          );
          authed.add(req.socket);
          res
            .writeHead(200, { 'WWW-Authenticate': `Negotiate ${Buffer.from('AP-REP').toString('base64')}` })
            .end();
          return;
        }
        if (!authed.has(req.socket) || forgetNext) {
          forgetNext = false;
          authed.delete(req.socket);
          res.writeHead(401, { 'WWW-Authenticate': 'Negotiate' }).end();
          return;
        }
        if (reject400Next) {
          reject400Next = false;
          res.writeHead(400).end();
          return;
        }
        const plain = decryptMessage(padding(), body);
        const answer = Buffer.from(`echo:${plain.toString()}`);
        res.writeHead(200, { 'Content-Type': encryptedContentType() }).end(encryptMessage(padding(), answer));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  function transport() {
    const opts = resolveOptions({
      endpoint: `https://localhost:${port}/wsman`,
      username: 'u',
      password: 'p',
      tls: { insecureAcceptAnyCertificate: true },
    });
    return new HttpTransport(opts, krbLike);
  }

  it('binds the first token to the certificate, seals with a padding context, and authenticates once per socket', async () => {
    const t = transport();
    log.length = 0;
    for (let i = 0; i < 3; i++) {
      const res = await t.post(Buffer.from(`m${i}`));
      assert.equal(res.body.toString(), `echo:m${i}`);
    }
    assert.deepEqual(
      log.map((e) => [Boolean(e.auth), e.sealed]),
      [
        [true, false],
        [false, true],
        [false, true],
        [false, true],
      ],
    );
    t.close();
  });

  it('authenticates again on a new socket, and once afresh after a 401 on an authenticated one', async () => {
    const t = transport();
    await t.post(Buffer.from('a'));
    const ch = await t.pool.acquire();
    ch.destroy();
    t.pool.release(ch);
    log.length = 0;
    assert.equal((await t.post(Buffer.from('b'))).body.toString(), 'echo:b');
    assert.deepEqual(
      log.map((e) => Boolean(e.auth)),
      [true, false],
    );
    log.length = 0;
    forgetNext = true;
    assert.equal((await t.post(Buffer.from('c'))).body.toString(), 'echo:c');
    assert.deepEqual(
      log.map((e) => Boolean(e.auth)),
      [false, true, false],
    );
    t.close();
  });

  it('after a 400 to a sealed message the next message authenticates afresh', async () => {
    const t = transport();
    await t.post(Buffer.from('a'));
    reject400Next = true;
    assert.equal((await t.post(Buffer.from('b'))).status, 400);
    log.length = 0;
    assert.equal((await t.post(Buffer.from('c'))).body.toString(), 'echo:c');
    assert.deepEqual(
      log.map((e) => Boolean(e.auth)),
      [true, false],
    );
    t.close();
  });

  it('authenticate: false sends no Authorization, in the clear, with the extra headers', async () => {
    const t = transport();
    log.length = 0;
    const res = await t.post(Buffer.from('<Identify/>'), {
      authenticate: false,
      headers: { WSMANIDENTIFY: 'unauthenticated' },
    });
    assert.equal(res.body.toString(), '<identify/>');
    assert.deepEqual(log, [{ auth: undefined, sealed: false, identify: 'unauthenticated' }]);
    await assert.rejects(t.post(Buffer.from('x'), { authenticate: false }), (e: unknown) => {
      return e instanceof AuthenticationError && /unauthenticated request was refused/.test(e.message);
    });
    t.close();
  });
});
