/**
 * The `proxy` option: one CONNECT tunnel per channel, TLS with pinning inside the tunnel, proxy credentials only
 * in Proxy-Authorization, and refusals as ConnectionErrors naming the proxy and the fix.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ConnectionError, InvalidArgumentError } from '../../src/errors.ts';
import { generateSelfSignedCertificate } from '../../src/mock/tls/certificate.ts';
import { resolveOptions } from '../../src/options/index.ts';
import { type ConnectProxy, channelFor, connectProxy, ok, type RawServer, rawServer } from './helpers.ts';

const x = Buffer.from('x');

describe('proxy option', () => {
  let proxy: ConnectProxy;
  let srv: RawServer;
  let tlsServer: https.Server;
  let tlsPort: number;
  let thumb: string;
  before(async () => {
    proxy = await connectProxy();
    srv = await rawServer((n) => ok(`via ${n}`));
    const cert = await generateSelfSignedCertificate({ commonName: 'localhost', altNames: ['localhost'] });
    thumb = cert.thumbprints.sha256;
    tlsServer = https.createServer({ key: cert.keyPem, cert: cert.certPem }, (_q, r) => r.end('tls ok'));
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
    tlsPort = (tlsServer.address() as AddressInfo).port;
  });
  after(async () => {
    await proxy.close();
    await srv.close();
    tlsServer.close();
  });

  it('opens one tunnel per channel and keeps using it', async () => {
    proxy.tunnels.length = 0;
    const a = channelFor(`http://127.0.0.1:${srv.port}/wsman`, { proxy: proxy.url });
    const b = channelFor(`http://127.0.0.1:${srv.port}/wsman`, { proxy: proxy.url });
    for (let i = 0; i < 3; i++) assert.match((await a.post(x, { headers: {} })).body.toString(), /^via/);
    await b.post(x, { headers: {} });
    assert.deepEqual(
      proxy.tunnels.map((t) => t.target),
      [`127.0.0.1:${srv.port}`, `127.0.0.1:${srv.port}`],
    );
    assert.equal(a.generation, 1);
    a.destroy();
    b.destroy();
  });

  it('sends proxy credentials as Proxy-Authorization only', async () => {
    proxy.tunnels.length = 0;
    const ch = channelFor(`http://127.0.0.1:${srv.port}/wsman`, {
      proxy: `http://pxuser:px%40secret@127.0.0.1:${proxy.port}`,
    });
    await ch.post(x, { headers: {} });
    assert.equal(
      proxy.tunnels[0]?.authorization,
      `Basic ${Buffer.from('pxuser:px@secret').toString('base64')}`,
    );
    ch.destroy();
  });

  it('runs TLS inside the tunnel with the same pinning', async () => {
    const good = channelFor(`https://localhost:${tlsPort}/wsman`, {
      proxy: proxy.url,
      tls: { fingerprint: thumb },
    });
    assert.equal((await good.post(x, { headers: {} })).body.toString(), 'tls ok');
    assert.ok(good.peerCertificate?.raw);
    good.destroy();
    const bad = channelFor(`https://localhost:${tlsPort}/wsman`, {
      proxy: proxy.url,
      tls: { fingerprint: 'BB'.repeat(32) },
    });
    await assert.rejects(
      bad.post(x, { headers: {} }),
      (e: unknown) => e instanceof ConnectionError && /does not match/.test(e.message),
    );
    bad.destroy();
    const unpinned = channelFor(`https://localhost:${tlsPort}/wsman`, { proxy: proxy.url });
    await assert.rejects(unpinned.post(x, { headers: {} }), /TLS verification/);
    unpinned.destroy();
  });

  for (const [status, fix] of [
    [407, /USER:PASSWORD@HOST:PORT/],
    [403, /allow the WinRM ports/],
    [502, /allows CONNECT/],
  ] as const) {
    it(`a proxy answering ${status} is a ConnectionError naming the proxy and the fix, without its password`, async () => {
      proxy.refuse = status;
      try {
        const ch = channelFor(`http://127.0.0.1:${srv.port}/wsman`, {
          proxy: `http://u:Pr0xy-Secret@127.0.0.1:${proxy.port}`,
        });
        const err = await ch.post(x, { headers: {} }).catch((e: unknown) => e);
        assert.ok(err instanceof ConnectionError, String(err));
        assert.ok(err.message.includes(`http://127.0.0.1:${proxy.port}`), err.message);
        assert.ok(err.message.includes(String(status)));
        assert.match(err.remedy ?? '', fix);
        assert.ok(!`${err.message} ${err.stack}`.includes('Pr0xy-Secret'));
        ch.destroy();
      } finally {
        proxy.refuse = undefined;
      }
    });
  }

  it('a proxy that is not running is a ConnectionError naming the proxy', async () => {
    const ch = channelFor(`http://127.0.0.1:${srv.port}/wsman`, { proxy: 'http://127.0.0.1:9' });
    await assert.rejects(ch.post(x, { headers: {} }), (e: unknown) => {
      return e instanceof ConnectionError && /proxy http:\/\/127\.0\.0\.1:9/.test(e.message);
    });
    ch.destroy();
  });

  it('refuses a proxy value that is not an http: URL, without echoing it', () => {
    const base = { endpoint: 'http://h:5985/wsman', username: 'u', password: 'p', allowUnencrypted: true };
    for (const proxyValue of ['not a url :secret', 'socks5://u:s3cret@h:1080', 'https://h:3128']) {
      assert.throws(
        () => resolveOptions({ ...base, proxy: proxyValue }),
        (e: unknown) =>
          e instanceof InvalidArgumentError &&
          e.argument === 'proxy' &&
          !e.message.includes('s3cret') &&
          !e.message.includes(':secret'),
      );
    }
    assert.equal(resolveOptions({ ...base }).proxy, undefined);
  });
});
