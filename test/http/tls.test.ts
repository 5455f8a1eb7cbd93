/**
 * TLS trust on the axios channel: checked on every connection before a request byte is written (no session
 * resumption), pinning by SHA-1 / SHA-256 thumbprint, the insecure opt-in, and the peer certificate known
 * before the first request (channel bindings need it for the first token).
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { ConnectionError } from '../../src/errors.ts';
import { generateSelfSignedCertificate } from '../../src/mock/tls/certificate.ts';
import { channelFor } from './helpers.ts';

describe('TLS on every connection', () => {
  let server: https.Server;
  let port: number;
  let thumb: { sha1: string; sha256: string };
  let der: Buffer;
  let requests = 0;
  const handshakes: boolean[] = [];
  before(async () => {
    const cert = await generateSelfSignedCertificate({
      commonName: 'localhost',
      altNames: ['localhost', '127.0.0.1'],
    });
    thumb = cert.thumbprints;
    server = https.createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
      requests++;
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end(`hello ${req.headers['content-length']}`);
    });
    server.on('secureConnection', (s: TLSSocket) => {
      handshakes.push(s.isSessionReused());
      der ??= Buffer.from((s.getCertificate() as { raw: Buffer }).raw);
    });
    server.keepAliveTimeout = 100;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());
  const endpoint = () => `https://localhost:${port}/wsman`;

  it('refuses a self-signed certificate by default, naming the fix, before any request', async () => {
    const n = requests;
    const ch = channelFor(endpoint());
    await assert.rejects(ch.post(Buffer.from('x'), { headers: {} }), (e: unknown) => {
      assert.ok(e instanceof ConnectionError, String(e));
      assert.match(e.message, /TLS verification/);
      assert.match(e.remedy ?? '', /tls\.fingerprint/);
      return true;
    });
    assert.equal(requests, n, 'no request may reach an untrusted server');
    ch.destroy();
  });

  for (const alg of ['sha1', 'sha256'] as const) {
    it(`checks the ${alg} pin on every new connection, with no TLS session reuse`, async () => {
      const ch = channelFor(endpoint(), { tls: { fingerprint: thumb[alg] } }, { maxIdleReuseMs: 0 });
      const h0 = handshakes.length;
      for (let i = 0; i < 3; i++) {
        const res = await ch.post(Buffer.from('abc'), { headers: {} });
        assert.equal(res.body.toString(), 'hello 3');
        assert.equal(res.generation, i + 1, 'each request on a new connection (idle limit 0)');
      }
      assert.deepEqual(handshakes.slice(h0), [false, false, false], 'three full handshakes');
      ch.destroy();
    });
  }

  it('refuses a different pinned thumbprint on a later connection too, before sending anything', async () => {
    const ch = channelFor(endpoint(), { tls: { fingerprint: 'AA'.repeat(20) } });
    const n = requests;
    for (let i = 0; i < 3; i++) {
      await assert.rejects(
        ch.post(Buffer.from('x'), { headers: {} }),
        (e: unknown) =>
          e instanceof ConnectionError && /does not match/.test(e.message) && e.message.includes(thumb.sha1),
      );
    }
    assert.equal(requests, n);
    ch.destroy();
  });

  it('accepts anything only with the explicit insecure opt-in', async () => {
    const ch = channelFor(endpoint(), { tls: { insecureAcceptAnyCertificate: true } });
    assert.equal((await ch.post(Buffer.from('x'), { headers: {} })).status, 200);
    ch.destroy();
  });

  it('knows the peer certificate after open(), before any request', async () => {
    const ch = channelFor(endpoint(), { tls: { fingerprint: thumb.sha256 } });
    const n = requests;
    const info = await ch.open();
    assert.equal(requests, n);
    assert.equal(info.generation, 1);
    assert.ok(info.peerCertificate?.raw.equals(der));
    await ch.post(Buffer.from('x'), { headers: {} });
    assert.equal(ch.generation, 1, 'the request used the socket open() made');
    ch.destroy();
  });
});
