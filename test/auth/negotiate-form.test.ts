/**
 * negotiateForm: the client sends NTLM raw or wrapped in SPNEGO under `Authorization: Negotiate`, and either form
 * logs in to the mock, over HTTP (sealed) and over HTTPS with channel binding required. A TCP tap between the
 * client and the mock reads the first token on the wire (raw NTLMSSP starts "TlRMTVNTUA", an SPNEGO
 * InitialContextToken starts with 0x60, "Y" in base64).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.ts';
import { connect } from '../../src/index.ts';
import { type MockServer, startMockServer } from '../../src/mock/index.ts';

const USER = { name: 'form-user', password: 'F0rm&Spnego', domain: 'CORP' };

/** A TCP relay to `port` that records what the client sends. */
async function tap(port: number): Promise<{ port: number; sent: () => string; close: () => Promise<void> }> {
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (d) => chunks.push(d));
    client.pipe(upstream).pipe(client);
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    sent: () => Buffer.concat(chunks).toString('latin1'),
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

describe('negotiateForm', () => {
  let http: MockServer;
  let https: MockServer;
  before(async () => {
    http = await startMockServer({ users: [USER], auth: { negotiate: true } });
    https = await startMockServer({
      https: true,
      users: [USER],
      auth: { negotiate: true, channelBinding: 'strict' },
    });
  });
  after(async () => {
    await http.close();
    await https.close();
  });

  for (const form of ['ntlm', 'spnego'] as const) {
    it(`'${form}' over HTTP: the first token has that form, and sealed commands run`, async () => {
      const t = await tap(Number(new URL(http.url).port));
      try {
        const conn = await connect({
          endpoint: `http://127.0.0.1:${t.port}/wsman`,
          username: `${USER.domain}\\${USER.name}`,
          password: USER.password,
          auth: 'ntlm',
          negotiateForm: form,
        });
        try {
          const r = await conn.execute('echo sealed');
          assert.equal(r.stdoutText, 'sealed\r\n');
          assert.equal((await conn.execute('echo again')).stdoutText, 'again\r\n');
        } finally {
          await conn.close();
        }
        const first = /Authorization: Negotiate (\S+)/.exec(t.sent())?.[1] ?? '';
        if (form === 'ntlm') assert.match(first, /^TlRMTVNTUA/);
        else assert.equal(Buffer.from(first, 'base64')[0], 0x60, first.slice(0, 20));
        assert.ok(!t.sent().includes(USER.password), 'the password never crosses the wire');
      } finally {
        await t.close();
      }
    });

    it(`'${form}' over HTTPS with channel binding required`, async () => {
      const conn = await connect({
        endpoint: https.url,
        username: `${USER.domain}\\${USER.name}`,
        password: USER.password,
        auth: 'ntlm',
        negotiateForm: form,
        tls: { fingerprint: https.thumbprints!.sha256 },
      });
      try {
        assert.equal((await conn.execute('echo bound')).stdoutText, 'bound\r\n');
      } finally {
        await conn.close();
      }
    });
  }

  it('an unknown form is an InvalidArgumentError naming the option', async () => {
    await assert.rejects(
      connect({
        endpoint: http.url,
        username: 'CORP\\x',
        password: 'p',
        auth: 'ntlm',
        // @ts-expect-error: checking the run-time refusal
        negotiateForm: 'kerberos',
      }),
      (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'negotiateForm',
    );
  });
});
