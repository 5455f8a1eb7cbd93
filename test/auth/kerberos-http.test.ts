/**
 * The Kerberos client end to end against MIT's acceptor (python3-gssapi behind test/helpers/krb-server.ts) in a
 * throw-away realm: ticket cache (single sign-on) and password, Negotiate and Kerberos schemes, WinRM's sealed
 * layout byte by byte in both directions, mutual authentication, delegation. One realm per file (the addon reads
 * KRB5_CONFIG at first use).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KerberosMechanism } from '../../src/auth/kerberos/mechanism.ts';
import { ENCRYPTED_PROTOCOLS } from '../../src/auth/message-encryption.ts';
import { AuthenticationError } from '../../src/errors.ts';
import { HttpTransport } from '../../src/http/transport.ts';
import { generateSelfSignedCertificate } from '../../src/mock/tls/certificate.ts';
import { type ConnectionOptions, resolveOptions } from '../../src/options/index.ts';
import { type Kdc, kdcSkip, startKdc } from '../helpers/kdc.ts';
import { type KrbServer, startKrbServer } from '../helpers/krb-server.ts';

const skip = kdcSkip();

describe('Kerberos client against MIT acceptor', { skip }, () => {
  let kdc: Kdc;
  let srv: KrbServer;
  before(async () => {
    kdc = await startKdc();
    kdc.applyEnv();
    await kdc.kinit(kdc.ccachePath, ['-f']);
    srv = await startKrbServer(kdc);
  });
  after(async () => {
    await srv?.close();
    await kdc?.stop();
  });

  function transport(extra: Partial<ConnectionOptions> = {}) {
    const opts = resolveOptions({
      endpoint: srv.url,
      username: kdc.user,
      auth: 'kerberos',
      ...extra,
    });
    return new HttpTransport(
      opts,
      new KerberosMechanism({ ...opts, password: extra.password, kerberos: opts.kerberos }),
    );
  }

  /** Options for the clear-body path (what HTTPS uses: encryption 'auto' seals nothing inside TLS). */
  const clear = { encryption: 'never', allowUnencrypted: true } as const;

  it('ticket cache (single sign-on): Negotiate/SPNEGO, one leg, the mutual token checked', async () => {
    srv.seen.length = 0;
    srv.logins.length = 0;
    const t = transport(clear);
    const soap = Buffer.from('<s:Envelope>héllo</s:Envelope>');
    assert.equal((await t.post(soap)).body.toString(), `echo:${soap.toString()}`);
    assert.equal((await t.post(Buffer.from('second'))).body.toString(), 'echo:second');
    t.close();
    assert.match(srv.seen[0]!.authorization ?? '', /^Negotiate /);
    const token = Buffer.from(srv.seen[0]!.authorization!.split(' ')[1]!, 'base64');
    assert.ok(token.includes(Buffer.from('06062b0601050502', 'hex')), 'SPNEGO OID 1.3.6.1.5.5.2');
    assert.deepEqual(srv.seen[0]!.plaintext, soap, 'the token went with the first message');
    assert.equal(srv.seen[1]!.authorization, undefined, 'the socket stays authenticated');
    assert.equal(srv.logins.length, 1);
    assert.equal(srv.logins[0]!.initiator, kdc.user);
    assert.equal(srv.logins[0]!.target, 'WSMAN/localhost@WINRM.TEST');
    assert.equal(srv.logins[0]!.mutual, true);
    assert.equal(srv.logins[0]!.delegated, false);
  });

  it("scheme 'Kerberos': raw krb5 tokens (no SPNEGO)", async () => {
    srv.seen.length = 0;
    const t = transport({ ...clear, kerberosScheme: 'Kerberos' });
    assert.equal((await t.post(Buffer.from('raw'))).body.toString(), 'echo:raw');
    t.close();
    assert.match(srv.seen[0]!.authorization ?? '', /^Kerberos /);
    const token = Buffer.from(srv.seen[0]!.authorization!.split(' ')[1]!, 'base64');
    assert.ok(
      token.includes(Buffer.from('06092a864886f712010202', 'hex')),
      'krb5 mech OID 1.2.840.113554.1.2.2',
    );
    assert.ok(!token.includes(Buffer.from('06062b0601050502', 'hex')), 'no SPNEGO OID');
  });

  it('HTTP SPN, port in the SPN, explicit SPN and delegation reach the acceptor', async () => {
    srv.logins.length = 0;
    let t = transport({ ...clear, kerberosUseHttpSpn: true, kerberosDelegate: true });
    assert.equal((await t.post(Buffer.from('d'))).body.toString(), 'echo:d');
    t.close();
    assert.equal(srv.logins[0]!.target, 'HTTP/localhost@WINRM.TEST');
    assert.equal(srv.logins[0]!.delegated, true, 'forwarded TGT (kinit -f, GSS_C_DELEG_FLAG)');
    t = transport({ ...clear, kerberosSpn: 'WSMAN/127.0.0.1' });
    assert.equal((await t.post(Buffer.from('e'))).body.toString(), 'echo:e');
    t.close();
    assert.equal(srv.logins[1]!.target, 'WSMAN/127.0.0.1@WINRM.TEST');
    const withPort = `WSMAN/localhost:${srv.port}@${kdc.realm}`;
    for (const q of [`addprinc -randkey ${withPort}`, `ktadd -k ${kdc.keytabPath} ${withPort}`]) {
      assert.equal((await kdc.run('kadmin.local', ['-r', kdc.realm, '-q', q])).code, 0);
    }
    t = transport({ ...clear, kerberosAddPortToSpn: true });
    assert.equal((await t.post(Buffer.from('f'))).body.toString(), 'echo:f');
    t.close();
    assert.equal(srv.logins[2]!.target, withPort);
  });

  it('with encryption (plain HTTP): the token goes first with an empty body, then bodies are sealed both ways', async () => {
    srv.seen.length = 0;
    const t = transport();
    const soap = Buffer.from('<s:Envelope>sealed</s:Envelope>');
    try {
      const res = await t.post(soap);
      assert.equal(res.body.toString(), `echo:${soap.toString()}`);
      const sealed = srv.seen[1]!;
      assert.equal(sealed.protocol, ENCRYPTED_PROTOCOLS.spnego);
      assert.equal(sealed.sealedHeader!.length, 60);
      assert.equal(sealed.sealedHeader!.readUInt16BE(6), 28, 'RRC 28');
      assert.deepEqual(sealed.plaintext, soap);
    } finally {
      t.close();
    }
    assert.match(srv.seen[0]!.authorization ?? '', /^Negotiate /);
    assert.equal(srv.seen[0]!.plaintext, undefined, 'empty body with the token');
  });

  it("over HTTPS: encryption 'auto' seals nothing, the token goes with the message (no channel bindings)", async () => {
    const cert = await generateSelfSignedCertificate({ commonName: 'localhost', altNames: ['localhost'] });
    const tlsSrv = await startKrbServer(kdc, cert);
    try {
      const opts = resolveOptions({
        endpoint: tlsSrv.url,
        username: kdc.user,
        auth: 'kerberos',
        tls: { insecureAcceptAnyCertificate: true },
      });
      assert.equal(opts.encrypt, false);
      const t = new HttpTransport(opts, new KerberosMechanism({ ...opts, password: undefined }));
      assert.equal((await t.post(Buffer.from('over tls'))).body.toString(), 'echo:over tls');
      t.close();
      assert.equal(tlsSrv.seen.length, 1);
      assert.deepEqual(tlsSrv.seen[0]!.plaintext, Buffer.from('over tls'));
      assert.equal(tlsSrv.logins[0]!.initiator, kdc.user);
    } finally {
      await tlsSrv.close();
    }
  });

  it('a missing mutual-authentication token is an AuthenticationError (sealed and clear)', async () => {
    srv.mutual = 'omit';
    try {
      for (const extra of [{}, clear]) {
        const t = transport(extra);
        await assert.rejects(t.post(Buffer.from('x')), (e: unknown) => {
          assert.ok(e instanceof AuthenticationError, String(e));
          assert.match(
            e.message,
            /Mutual authentication with WSMAN\/localhost failed: the server sent no token/,
          );
          assert.match(e.remedy ?? '', /SPN belongs to this server/);
          return true;
        });
        t.close();
      }
    } finally {
      srv.mutual = 'send';
    }
  });

  it('a bad mutual-authentication token is an AuthenticationError', async () => {
    srv.mutual = 'garbage';
    try {
      for (const extra of [{}, clear]) {
        const t = transport(extra);
        await assert.rejects(t.post(Buffer.from('x')), (e: unknown) => {
          assert.ok(e instanceof AuthenticationError, String(e));
          assert.match(
            e.message,
            /Mutual authentication with WSMAN\/localhost failed: the server token did not verify/,
          );
          return true;
        });
        t.close();
      }
    } finally {
      srv.mutual = 'send';
    }
  });

  it('password: a TGT is acquired in a private cache (in-process AS exchange), never from the ticket cache', async () => {
    await kdc.addPrincipal(`bob@${kdc.realm}`, 'Bob-Secret-1');
    srv.logins.length = 0;
    const t = transport({ ...clear, username: `bob@${kdc.realm}`, password: 'Bob-Secret-1' });
    assert.equal((await t.post(Buffer.from('pw'))).body.toString(), 'echo:pw');
    t.close();
    assert.equal(srv.logins[0]!.initiator, `bob@${kdc.realm}`);
    // The user's own cache still holds only alice.
    const list = await kdc.run('klist', ['-c', `FILE:${kdc.ccachePath}`]);
    assert.doesNotMatch(list.stdout, /bob@/);
  });
});
