/**
 * The mock's Kerberos acceptor against a throw-away MIT realm (test/helpers/kdc.ts) and MIT's own initiator
 * (python3-gssapi): the keytab and string-to-key against MIT's ktutil, the AP-REQ checks (replay, skew, an
 * expired, not-yet-valid or altered ticket, an unknown service), the principal mapping, the 401 a refused
 * ticket gets, and the whole exchange over HTTP with MIT checking our AP-REP and unwrapping our sealed answers.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { decodeNegTokenResp, NegState, OID } from '../../src/auth/spnego.ts';
import { decrypt, encrypt, stringToKey } from '../../src/krb5/crypto.ts';
import { KerberosAcceptor, KrbApError } from '../../src/mock/auth/kerberos/acceptor.ts';
import { decodeContextToken, TOK_ID } from '../../src/mock/auth/kerberos/gss.ts';
import { type KeytabEntry, parseKeytab } from '../../src/mock/auth/kerberos/keytab.ts';
import { type MockServer, startMockServer } from '../../src/mock/index.ts';
import { type Kdc, kdcSkip, startKdc } from '../helpers/kdc.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./kerberos_gss_run.py', import.meta.url));
const run = promisify(execFile);

function gssSkip(): string | false {
  const k = kdcSkip();
  if (k) return k;
  const probe = spawnSync(PYTHON, ['-c', 'import gssapi'], { encoding: 'utf8' });
  if (probe.status === 0) return false;
  const reason = `python3-gssapi is not importable by ${PYTHON} (apt-get install -y python3-gssapi)`;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${reason}`);
  process.stderr.write(`\n*** SKIPPING Kerberos acceptor tests: ${reason} ***\n\n`);
  return `SKIPPED: ${reason}`;
}

/** A fresh AP-REQ from MIT's initiator for HTTP@host (a new authenticator each call). */
async function mitApReq(kdc: Kdc, host = 'localhost', delegate = false, ccache?: string): Promise<Buffer> {
  const code = [
    'import base64, gssapi',
    `n = gssapi.Name('HTTP@${host}', gssapi.NameType.hostbased_service)`,
    'f = gssapi.RequirementFlag.mutual_authentication | gssapi.RequirementFlag.confidentiality | gssapi.RequirementFlag.integrity',
    delegate ? 'f |= gssapi.RequirementFlag.delegate_to_peer' : '',
    "c = gssapi.SecurityContext(name=n, mech=gssapi.OID.from_int_seq('1.2.840.113554.1.2.2'), usage='initiate', flags=f)",
    'print(base64.b64encode(c.step()).decode())',
  ].join('\n');
  const env = { ...process.env, ...kdc.env, ...(ccache ? { KRB5CCNAME: `FILE:${ccache}` } : {}) };
  const { stdout } = await run(PYTHON, ['-c', code], { env });
  return Buffer.from(stdout.trim(), 'base64');
}

/** Locates the ticket's EncryptedData cipher in an AP-REQ GSS token (offset and length), by its DER prefix. */
function ticketCipher(token: Buffer, keys: KeytabEntry[]): { at: number; cipher: Buffer; key: KeytabEntry } {
  // The first OCTET STRING of 300+ bytes (04 82 HH LL) is the ticket's cipher; the authenticator's comes later.
  for (let i = 0; i < token.length - 4; i++) {
    if (token[i] === 0x04 && token[i + 1] === 0x82) {
      const len = token.readUInt16BE(i + 2);
      const cipher = token.subarray(i + 4, i + 4 + len);
      for (const key of keys.filter((k) => k.principal === 'HTTP/localhost')) {
        try {
          decrypt(key, 2, cipher);
          return { at: i + 4, cipher, key };
        } catch {}
      }
    }
  }
  throw new Error('ticket cipher not found');
}

/** The AP-REQ with its EncTicketPart edited (re-encrypted with the service key, so it still verifies). */
function forgeTicket(token: Buffer, keys: KeytabEntry[], edit: (plain: Buffer) => void): Buffer {
  const { at, cipher, key } = ticketCipher(token, keys);
  const plain = Buffer.from(decrypt(key, 2, cipher));
  edit(plain);
  const sealed = encrypt(key, 2, plain);
  assert.equal(sealed.length, cipher.length);
  const out = Buffer.from(token);
  sealed.copy(out, at);
  return out;
}

/** Rewrites the KerberosTime of explicit field [n] (a? 11 18 0f YYYYMMDDhhmmssZ) in an EncTicketPart. */
function setTime(plain: Buffer, n: number, when: Date): void {
  const marker = Buffer.from([0xa0 | n, 0x11, 0x18, 0x0f]);
  const i = plain.indexOf(marker);
  assert.ok(i > 0, `field [${n}] not found`);
  const s = when
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  Buffer.from(s, 'latin1').copy(plain, i + 4);
}

describe('Kerberos acceptor (mock) against a throw-away MIT realm', { skip: gssSkip() }, () => {
  let kdc: Kdc;
  let keys: KeytabEntry[];
  before(async () => {
    kdc = await startKdc();
    await kdc.kinit();
    keys = parseKeytab(readFileSync(kdc.keytabPath));
  });
  after(async () => {
    await kdc?.stop();
  });

  it("reads MIT's keytab, and string-to-key agrees with the key ktutil derives from a password", async () => {
    const spns = new Set(keys.map((k) => `${k.principal}@${k.realm}`));
    assert.ok(
      spns.has('HTTP/localhost@WINRM.TEST') && spns.has('WSMAN/localhost@WINRM.TEST'),
      [...spns].join(),
    );
    assert.deepEqual(new Set(keys.map((k) => k.enctype)), new Set([17, 18]));
    const path = join(kdc.dir, 'pw.keytab');
    const script = `addent -password -p bob@WINRM.TEST -k 3 -e aes256-cts-hmac-sha1-96\nS3cret-pw\naddent -password -p bob@WINRM.TEST -k 3 -e aes128-cts-hmac-sha1-96\nS3cret-pw\nwkt ${path}\nquit\n`;
    const r = await kdc.run('ktutil', [], script);
    assert.equal(r.code, 0, r.stderr);
    const pw = parseKeytab(readFileSync(path));
    assert.equal(pw.length, 2);
    for (const e of pw) {
      assert.equal(e.principal, 'bob');
      assert.equal(e.kvno, 3);
      // The default salt is the realm followed by the name components ([RFC 4120] 4).
      assert.equal(
        e.key.toString('hex'),
        stringToKey(e.enctype, 'S3cret-pw', 'WINRM.TESTbob').toString('hex'),
      );
    }
  });

  it('accepts an AP-REQ from MIT, names the client and answers with an AP-REP', async () => {
    const acceptor = new KerberosAcceptor({ keys });
    const ctx = acceptor.accept(await mitApReq(kdc));
    assert.deepEqual(ctx.client, { name: 'alice', realm: 'WINRM.TEST' });
    assert.equal(ctx.service, 'HTTP/localhost');
    assert.equal(ctx.flags & 0x32, 0x32, 'mutual, conf and integ flags');
    assert.ok(ctx.responseToken);
    assert.equal(decodeContextToken(ctx.responseToken).tokId, TOK_ID.apRep);
  });

  it('accepts a delegating AP-REQ (a forwarded TGT after the 0x8003 flags) and reports the deleg flag', async () => {
    const cache = join(kdc.dir, 'forwardable.cc');
    await kdc.kinit(cache, ['-f']);
    const ctx = new KerberosAcceptor({ keys }).accept(await mitApReq(kdc, 'localhost', true, cache));
    assert.equal(ctx.client.name, 'alice');
    assert.equal(ctx.flags & 0x01, 0x01, 'GSS_C_DELEG_FLAG');
  });

  it('refuses a replayed authenticator (KRB_AP_ERR_REPEAT)', async () => {
    const acceptor = new KerberosAcceptor({ keys });
    const token = await mitApReq(kdc);
    acceptor.accept(token);
    assert.throws(
      () => acceptor.accept(token),
      (e: unknown) => e instanceof KrbApError && e.code === 'KRB_AP_ERR_REPEAT',
    );
  });

  it('refuses a client clock 10 minutes off either way (KRB_AP_ERR_SKEW), accepts 4 minutes', async () => {
    for (const offset of [600_000, -600_000]) {
      const acceptor = new KerberosAcceptor({ keys, now: () => Date.now() + offset });
      assert.throws(
        () => acceptor.accept(Buffer.from(token0)),
        (e: unknown) => e instanceof KrbApError && e.code === 'KRB_AP_ERR_SKEW',
      );
    }
    const near = new KerberosAcceptor({ keys, now: () => Date.now() + 240_000 });
    assert.equal(near.accept(await mitApReq(kdc)).client.name, 'alice');
  });
  let token0: Buffer;
  before(async () => {
    token0 = await mitApReq(kdc);
  });

  it('refuses an expired and a not-yet-valid ticket, and an altered one', async () => {
    const acceptor = new KerberosAcceptor({ keys });
    const expired = forgeTicket(await mitApReq(kdc), keys, (p) =>
      setTime(p, 7, new Date(Date.now() - 3_600_000)),
    );
    assert.throws(
      () => acceptor.accept(expired),
      (e: unknown) => e instanceof KrbApError && e.code === 'KRB_AP_ERR_TKT_EXPIRED',
    );
    // A service ticket carries starttime only when it differs from authtime (the TGT's logon time, so it depends
    // on how long after kinit the ticket was fetched); without it, starttime is authtime.
    const future = forgeTicket(await mitApReq(kdc), keys, (p) =>
      setTime(p, p.includes(Buffer.from([0xa6, 0x11, 0x18, 0x0f])) ? 6 : 5, new Date(Date.now() + 3_600_000)),
    );
    assert.throws(
      () => acceptor.accept(future),
      (e: unknown) => e instanceof KrbApError && e.code === 'KRB_AP_ERR_TKT_NYV',
    );
    const token = await mitApReq(kdc);
    const { at } = ticketCipher(token, keys);
    const altered = Buffer.from(token);
    altered[at + 40]! ^= 0x01;
    assert.throws(
      () => acceptor.accept(altered),
      (e: unknown) => e instanceof KrbApError && e.code === 'KRB_AP_ERR_BAD_INTEGRITY',
    );
  });

  it('refuses a ticket for a service the keytab does not hold (KRB_AP_ERR_NOT_US)', async () => {
    const acceptor = new KerberosAcceptor({ keys: keys.filter((k) => k.principal !== 'HTTP/localhost') });
    assert.throws(
      () => acceptor.accept(token0Fresh),
      (e: unknown) => e instanceof KrbApError && e.code === 'KRB_AP_ERR_NOT_US',
    );
  });
  let token0Fresh: Buffer;
  before(async () => {
    token0Fresh = await mitApReq(kdc);
  });

  describe('over HTTP', () => {
    let mock: MockServer;
    let url: string;
    before(async () => {
      mock = await startMockServer({
        users: [
          { name: 'alice@winrm.test', password: 'unused-here' },
          { name: 'svc', password: 'x', kerberos: 'bob@WINRM.TEST' },
        ],
        auth: { negotiate: true, kerberos: { keytab: kdc.keytabPath } },
      });
      url = mock.url.replace('127.0.0.1', 'localhost');
    });
    after(async () => {
      await mock?.close();
    });

    async function gss(mech: string, scheme: string, rrc: number) {
      const { stdout } = await run(PYTHON, [SCRIPT, url, mech, scheme, String(rrc)], {
        env: { ...process.env, ...kdc.env },
        timeout: 30_000,
      });
      return JSON.parse(stdout) as {
        error?: string;
        auth_status: number;
        received: string | null;
        complete?: boolean;
        replay_status?: number;
        answers?: {
          status: number;
          content_type: string;
          header_len: number;
          rrc: number;
          flags: number;
          plain: string;
        }[];
      };
    }

    for (const [mech, scheme, rrc] of [
      ['spnego', 'Negotiate', 28],
      ['krb5', 'Negotiate', 0],
      ['krb5', 'Kerberos', 28],
    ] as const) {
      it(`MIT ${mech} under ${scheme} (our wrap RRC ${rrc}): mutual auth completes, sealed Identify both ways`, async () => {
        const r = await gss(mech, scheme, rrc);
        assert.equal(r.error, undefined);
        assert.equal(r.auth_status, 200);
        assert.equal(r.complete, true, 'MIT accepted the AP-REP');
        const final = Buffer.from(r.received!, 'base64');
        if (mech === 'spnego') {
          const resp = decodeNegTokenResp(final);
          assert.equal(resp.negState, NegState.acceptCompleted);
          assert.equal(resp.supportedMech, OID.kerberos);
          assert.equal(decodeContextToken(resp.responseToken!).tokId, TOK_ID.apRep);
        } else {
          assert.equal(decodeContextToken(final).tokId, TOK_ID.apRep);
        }
        assert.equal(r.answers!.length, 2);
        for (const a of r.answers!) {
          assert.equal(a.status, 200);
          assert.match(
            a.content_type,
            scheme === 'Kerberos' ? /HTTP-Kerberos-session-encrypted/ : /HTTP-SPNEGO-session-encrypted/,
          );
          // Windows' layout: 16-byte header, RRC 28, confounder: a 60-byte WinRM header; flags acceptor|sealed|subkey.
          assert.equal(a.header_len, 60);
          assert.equal(a.rrc, 28);
          assert.equal(a.flags, 0x07);
          assert.match(a.plain, /<wsmid:IdentifyResponse/);
        }
        assert.equal(r.replay_status, 400, 'a replayed sealed message is refused');
        const last = mock.requestLog.at(-2)!;
        assert.equal(last.user, 'alice');
        assert.equal(last.authScheme, scheme);
      });
    }

    it("maps a principal named in a user's kerberos field to that user, and refuses an unmapped one", async () => {
      await kdc.addPrincipal('bob@WINRM.TEST', 'Bob-pw-1');
      await kdc.addPrincipal('carol@WINRM.TEST', 'Carol-pw-1');
      const bobCache = join(kdc.dir, 'bob.cc');
      const carolCache = join(kdc.dir, 'carol.cc');
      await kdc.kinit(bobCache, [], 'bob@WINRM.TEST', 'Bob-pw-1');
      await kdc.kinit(carolCache, [], 'carol@WINRM.TEST', 'Carol-pw-1');
      const bob = await run(PYTHON, [SCRIPT, url, 'spnego', 'Negotiate', '28'], {
        env: { ...process.env, ...kdc.env, KRB5CCNAME: `FILE:${bobCache}` },
      });
      assert.equal(JSON.parse(bob.stdout).complete, true);
      assert.equal(mock.requestLog.at(-1)!.user, 'svc');
      const carol = await run(PYTHON, [SCRIPT, url, 'spnego', 'Negotiate', '28'], {
        env: { ...process.env, ...kdc.env, KRB5CCNAME: `FILE:${carolCache}` },
      });
      assert.equal(JSON.parse(carol.stdout).auth_status, 401);
    });

    it('over HTTPS with channelBinding strict: MIT with tls-server-end-point bindings gets in, without them 401', async () => {
      const tls = await startMockServer({
        https: true,
        users: [{ name: 'alice@winrm.test', password: 'unused-here' }],
        auth: { negotiate: true, kerberos: { keytab: kdc.keytabPath }, channelBinding: 'strict' },
      });
      try {
        const tlsUrl = tls.url.replace('127.0.0.1', 'localhost');
        const gssTls = async (cbt: string) =>
          JSON.parse(
            (
              await run(PYTHON, [SCRIPT, tlsUrl, 'spnego', 'Negotiate', '28', cbt], {
                env: { ...process.env, ...kdc.env },
                timeout: 30_000,
              })
            ).stdout,
          ) as { auth_status: number; complete?: boolean; answers?: { plain: string }[] };
        const bound = await gssTls('cbt');
        assert.equal(bound.auth_status, 200);
        assert.equal(bound.complete, true);
        assert.match(bound.answers![0]!.plain, /IdentifyResponse/);
        const unbound = await gssTls('none');
        assert.equal(unbound.auth_status, 401);
      } finally {
        await tls.close();
      }
    });

    it('answers a refused ticket (a replayed AP-REQ) with 401, the plain challenge list and no token', async () => {
      const token = (await mitApReq(kdc)).toString('base64');
      const post = (auth: string) =>
        new Promise<{ status: number; challenges: string[] }>((resolve, reject) => {
          const req = request(
            url,
            { method: 'POST', agent: false, headers: { Authorization: auth, 'Content-Length': 0 } },
            (res) => {
              res.resume();
              // One WWW-Authenticate header per scheme, as HTTP.sys writes them (rawHeaders keeps them apart).
              const challenges = res.rawHeaders.filter(
                (_, i, a) => i % 2 === 1 && a[i - 1]!.toLowerCase() === 'www-authenticate',
              );
              resolve({ status: res.statusCode!, challenges });
            },
          );
          req.once('error', reject);
          req.end();
        });
      const first = await post(`Kerberos ${token}`);
      assert.equal(first.status, 200);
      assert.ok(first.challenges[0]?.startsWith('Kerberos '), 'AP-REP on the 200');
      const again = await post(`Kerberos ${token}`);
      assert.equal(again.status, 401);
      assert.deepEqual(again.challenges, ['Negotiate', 'Kerberos']);
    });
  });
});
