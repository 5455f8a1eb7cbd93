/** HTTP transport behaviour against bare node:http(s) servers: TLS trust, status mapping, redaction. */
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DebugLog } from '../src/debug.ts';
import { AuthenticationError, ConnectionError, HttpError } from '../src/errors.ts';
import { createHttpTransport } from '../src/http/transport.ts';
import { generateSelfSignedCertificate } from '../src/mock/tls/certificate.ts';
import { type ConnectionOptions, resolveOptions } from '../src/options/index.ts';
import { WsmanClient } from '../src/winrm/wsman-client.ts';
import { buildIdentify } from '../src/wsman/actions/identify.ts';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function listen(server: http.Server | https.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

function transportFor(o: Partial<ConnectionOptions> & { endpoint: string }, lines?: string[]) {
  const opts = resolveOptions({ username: 'admin', password: 'Sup3r-Secret', ...o });
  const debug = new DebugLog(lines ? (_ns, m) => lines.push(m) : undefined);
  debug.addSecret(opts.password);
  return new WsmanClient(opts, createHttpTransport(opts), debug);
}

async function send(t: WsmanClient) {
  const ctx = t.context();
  try {
    return await t.send(ctx, buildIdentify(), { what: 'Identify', checkRelatesTo: false });
  } finally {
    t.close();
  }
}

describe('TLS trust', () => {
  let server: https.Server;
  let port: number;
  let thumb: { sha1: string; sha256: string };
  let requests = 0;
  before(async () => {
    const cert = await generateSelfSignedCertificate({
      commonName: 'localhost',
      altNames: ['localhost', '127.0.0.1'],
    });
    thumb = cert.thumbprints;
    server = https.createServer({ key: cert.keyPem, cert: cert.certPem }, (_req, res) => {
      requests++;
      res.writeHead(401, { 'WWW-Authenticate': 'Negotiate' }).end();
    });
    port = await listen(server);
  });
  after(() => server.close());

  it('refuses a self-signed certificate by default, naming the fix', async () => {
    const n = requests;
    await assert.rejects(
      send(transportFor({ endpoint: `https://localhost:${port}/wsman` })),
      (e: unknown) => {
        assert.ok(e instanceof ConnectionError, String(e));
        assert.match(e.message, /TLS verification/);
        assert.match(e.remedy ?? '', /tls\.fingerprint/);
        return true;
      },
    );
    assert.equal(requests, n, 'no request may reach an untrusted server');
  });

  for (const alg of ['sha1', 'sha256'] as const) {
    it(`accepts the certificate pinned by its ${alg} thumbprint`, async () => {
      await assert.rejects(
        send(transportFor({ endpoint: `https://localhost:${port}/wsman`, tls: { fingerprint: thumb[alg] } })),
        AuthenticationError,
      );
    });
  }

  it('refuses a different pinned thumbprint before sending anything', async () => {
    const n = requests;
    const wrong = 'AA'.repeat(20);
    await assert.rejects(
      send(transportFor({ endpoint: `https://localhost:${port}/wsman`, tls: { fingerprint: wrong } })),
      (e: unknown) =>
        e instanceof ConnectionError && /does not match/.test(e.message) && e.message.includes(thumb.sha1),
    );
    assert.equal(requests, n);
  });

  it('accepts anything only with the explicit insecure opt-in', async () => {
    await assert.rejects(
      send(
        transportFor({
          endpoint: `https://localhost:${port}/wsman`,
          tls: { insecureAcceptAnyCertificate: true },
        }),
      ),
      AuthenticationError,
    );
  });
});

describe('HTTP status mapping', () => {
  let server: http.Server;
  let port: number;
  let handler: Handler = () => undefined;
  before(async () => {
    server = http.createServer((req, res) => handler(req, res));
    port = await listen(server);
  });
  after(() => server.close());
  const endpoint = () => `http://127.0.0.1:${port}/wsman`;

  it('401 without Basic offered → AuthenticationError quoting the Basic and AllowUnencrypted fixes', async () => {
    handler = (_q, r) => r.writeHead(401, { 'WWW-Authenticate': ['Negotiate', 'Kerberos'] }).end();
    await assert.rejects(
      send(transportFor({ endpoint: endpoint(), allowUnencrypted: true })),
      (e: unknown) => {
        assert.ok(e instanceof AuthenticationError);
        assert.deepEqual(e.offeredSchemes, ['Negotiate', 'Kerberos']);
        assert.match(e.remedy ?? '', /winrm set winrm\/config\/service\/Auth @\{Basic="true"\}/);
        assert.match(e.remedy ?? '', /AllowUnencrypted="true"/);
        assert.match(e.message, /local account "admin"/);
        return true;
      },
    );
  });

  it('404 → HttpError pointing at the path and listener', async () => {
    handler = (_q, r) => r.writeHead(404).end('not here');
    await assert.rejects(
      send(transportFor({ endpoint: endpoint(), allowUnencrypted: true })),
      (e: unknown) => e instanceof HttpError && e.status === 404 && /listener/.test(e.remedy ?? ''),
    );
  });

  it('500 with a non-fault SOAP body is an HttpError, not a success', async () => {
    handler = (_q, r) =>
      r
        .writeHead(500, { 'Content-Type': 'application/soap+xml' })
        .end('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>');
    await assert.rejects(send(transportFor({ endpoint: endpoint(), allowUnencrypted: true })), HttpError);
  });

  it('connection refused names host and port and the listener check', async () => {
    const closed = http.createServer();
    const p = await listen(closed);
    closed.close();
    await assert.rejects(
      send(transportFor({ endpoint: `http://127.0.0.1:${p}/wsman`, allowUnencrypted: true })),
      (e: unknown) =>
        e instanceof ConnectionError &&
        e.message.includes(`127.0.0.1:${p}`) &&
        /winrm e winrm\/config\/listener/.test(e.remedy ?? ''),
    );
  });

  it('debug output never shows the password or the Authorization value', async () => {
    let seenAuth = '';
    handler = (q, r) => {
      seenAuth = q.headers.authorization ?? '';
      r.writeHead(401, { 'WWW-Authenticate': 'Basic realm="WSMAN"' }).end();
    };
    const lines: string[] = [];
    await assert.rejects(
      send(transportFor({ endpoint: endpoint(), allowUnencrypted: true }, lines)),
      AuthenticationError,
    );
    const all = lines.join('\n');
    assert.ok(lines.length > 0);
    assert.ok(seenAuth.startsWith('Basic '));
    assert.ok(!all.includes('Sup3r-Secret'));
    assert.ok(!all.includes(seenAuth.slice(6)));
  });
});
