/**
 * Kerberos message encryption over plain HTTP, the client's own RFC 4121 wrap (src/auth/kerberos/wrap.ts) with
 * keys recovered from the tokens and the FILE ticket cache (session-keys.ts, ccache.ts), byte by byte against
 * two independent acceptors: MIT's (python3-gssapi behind test/helpers/krb-server.ts) and the mock's pure-TS one
 * (src/mock/auth/kerberos). Several messages per context, so the sequence numbers are checked both ways.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { KerberosMechanism } from '../../src/auth/kerberos/mechanism.ts';
import type { AsyncSecurityContext } from '../../src/auth/mechanism.ts';
import { decodeNegTokenInit, encodeNegTokenResp, NegState, OID } from '../../src/auth/spnego.ts';
import { InvalidArgumentError, ProtocolError } from '../../src/errors.ts';
import { HttpTransport } from '../../src/http/transport.ts';
import { KerberosAcceptor } from '../../src/mock/auth/kerberos/acceptor.ts';
import { readKeytab } from '../../src/mock/auth/kerberos/keytab.ts';
import { type ConnectionOptions, resolveOptions } from '../../src/options/index.ts';
import { type Kdc, kdcSkip, startKdc } from '../helpers/kdc.ts';
import { type KrbServer, startKrbServer } from '../helpers/krb-server.ts';

const skip = kdcSkip();
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The fields of an RFC 4121 wrap token header. */
function header(h: Buffer) {
  return {
    tokId: h.readUInt16BE(0),
    flags: h[2],
    ec: h.readUInt16BE(4),
    rrc: h.readUInt16BE(6),
    seq: h.readBigUInt64BE(8),
  };
}

describe('Kerberos message encryption over HTTP (client wrap in TypeScript)', { skip }, () => {
  let kdc: Kdc;
  let srv: KrbServer;
  before(async () => {
    kdc = await startKdc();
    kdc.applyEnv();
    await kdc.kinit();
    srv = await startKrbServer(kdc);
  });
  after(async () => {
    await srv?.close();
    await kdc?.stop();
  });

  function transport(extra: Partial<ConnectionOptions> = {}) {
    const opts = resolveOptions({ endpoint: srv.url, username: kdc.user, auth: 'kerberos', ...extra });
    return new HttpTransport(opts, new KerberosMechanism({ ...opts, password: extra.password }));
  }

  it("MIT's acceptor unwraps every message the client seals, in order, and the client unwraps its answers", async () => {
    for (const scheme of ['Negotiate', 'Kerberos'] as const) {
      srv.seen.length = 0;
      const t = transport({ kerberosScheme: scheme });
      try {
        const bodies = ['<s:Envelope>one</s:Envelope>', 'two: é€', 'x'.repeat(5000), '3'];
        for (const b of bodies) {
          assert.equal((await t.post(Buffer.from(b))).body.toString(), `echo:${b}`, `${scheme}: ${b.length}`);
        }
        const sealed = srv.seen.filter((s) => s.sealedHeader);
        assert.equal(sealed.length, bodies.length, 'every body went sealed');
        const first = header(sealed[0]!.sealedHeader!).seq;
        sealed.forEach((s, i) => {
          const h = header(s.sealedHeader!);
          assert.equal(s.sealedHeader!.length, 60, 'WinRM header: 16 + RRC 28 + confounder 16');
          assert.equal(h.tokId, 0x0504);
          assert.equal(h.flags, 0x06, 'Sealed | AcceptorSubkey, not SentByAcceptor');
          assert.equal(h.ec, 0);
          assert.equal(h.rrc, 28);
          assert.equal(h.seq, first + BigInt(i), 'consecutive sequence numbers');
          assert.equal(s.sealedData!.length, Buffer.byteLength(bodies[i]!), 'data as long as the plaintext');
          assert.equal(s.declaredLength, Buffer.byteLength(bodies[i]!));
          assert.equal(s.plaintext!.toString(), bodies[i]);
        });
      } finally {
        t.close();
      }
    }
  });

  it('password: keys from the private ticket cache, sealed both ways', async () => {
    await kdc.addPrincipal(`carol@${kdc.realm}`, 'Carol-Secret-1');
    srv.logins.length = 0;
    const t = transport({ username: `carol@${kdc.realm}`, password: 'Carol-Secret-1' });
    try {
      assert.equal((await t.post(Buffer.from('pw one'))).body.toString(), 'echo:pw one');
      assert.equal((await t.post(Buffer.from('pw two'))).body.toString(), 'echo:pw two');
    } finally {
      t.close();
    }
    assert.equal(srv.logins.at(-1)!.initiator, `carol@${kdc.realm}`);
  });

  it("the mock's acceptor unwraps the client's tokens and the client unwraps the mock's, several each way", async () => {
    const acceptor = new KerberosAcceptor({ keys: readKeytab(kdc.keytabPath) });
    for (const scheme of ['Kerberos', 'Negotiate'] as const) {
      const opts = resolveOptions({
        endpoint: 'http://localhost:5985/wsman',
        username: kdc.user,
        auth: 'kerberos',
        kerberosScheme: scheme,
      });
      const ctx = new KerberosMechanism({ ...opts, password: undefined }).begin();
      const first = await ctx.init();
      assert.equal(first.done, false);
      const mechToken = scheme === 'Kerberos' ? first.token! : decodeNegTokenInit(first.token!).mechToken!;
      const accepted = acceptor.accept(mechToken);
      const reply =
        scheme === 'Kerberos'
          ? accepted.responseToken!
          : encodeNegTokenResp({
              negState: NegState.acceptCompleted,
              supportedMech: OID.kerberos,
              responseToken: accepted.responseToken!,
            });
      assert.equal((await ctx.step(reply)).done, true);
      const sec = ctx.securityContext() as AsyncSecurityContext;
      assert.ok(sec && 'asynchronous' in sec);
      for (let i = 0; i < 3; i++) {
        const body = Buffer.from(`<s:Envelope>${scheme} request ${i}</s:Envelope>`);
        const w = await sec.wrap(body);
        assert.equal(w.header.length, 60);
        assert.deepEqual(accepted.context.unwrap(Buffer.concat([w.header, w.data])), body);
        const answer = Buffer.from(`answer ${i} ${'y'.repeat(i * 100)}`);
        const token = accepted.context.wrap(answer);
        assert.deepEqual(await sec.unwrap(token.subarray(0, 60), token.subarray(60)), answer);
      }
      // A replayed answer (an old sequence number) and a flipped bit are ProtocolErrors.
      const again = accepted.context.wrap(Buffer.from('later'));
      assert.deepEqual(await sec.unwrap(again.subarray(0, 60), again.subarray(60)), Buffer.from('later'));
      await assert.rejects(sec.unwrap(again.subarray(0, 60), again.subarray(60)), /sequence number/);
      const bad = accepted.context.wrap(Buffer.from('tampered'));
      bad[bad.length - 1]! ^= 1;
      await assert.rejects(sec.unwrap(bad.subarray(0, 60), bad.subarray(60)), ProtocolError);
    }
  });

  it('a ticket cache that lost the service ticket is an InvalidArgumentError when the context completes', async () => {
    const path = join(kdc.dir, 'replaced-ccache');
    await kdc.kinit(path);
    const previous = process.env.KRB5CCNAME;
    process.env.KRB5CCNAME = `FILE:${path}`;
    try {
      const acceptor = new KerberosAcceptor({ keys: readKeytab(kdc.keytabPath) });
      const opts = resolveOptions({
        endpoint: 'http://localhost:5985/wsman',
        username: kdc.user,
        auth: 'kerberos',
        kerberosScheme: 'Kerberos',
      });
      const ctx = new KerberosMechanism({ ...opts, password: undefined }).begin();
      const first = await ctx.init();
      const reply = acceptor.accept(first.token!).responseToken!;
      await kdc.kinit(path); // a fresh TGT only: the service ticket is no longer in the cache
      await assert.rejects(
        async () => ctx.step(reply),
        (e: unknown) => {
          assert.ok(e instanceof InvalidArgumentError, String(e));
          assert.match(e.message, /does not hold the ticket that was used/);
          assert.match(e.remedy ?? '', /HTTPS/);
          assert.match(e.remedy ?? '', /KRB5CCNAME=FILE:/);
          return true;
        },
      );
    } finally {
      if (previous === undefined) delete process.env.KRB5CCNAME;
      else process.env.KRB5CCNAME = previous;
    }
  });

  it('the keys never show in inspect output, JSON or errors', async () => {
    const opts = resolveOptions({ endpoint: srv.url, username: kdc.user, auth: 'kerberos' });
    const { InitiatorWrap } = await import('../../src/auth/kerberos/wrap.ts');
    const key = Buffer.alloc(32, 0xab);
    const w = new InitiatorWrap({
      key: { enctype: 18, key },
      acceptorSubkey: true,
      initiatorSeq: 5n,
      acceptorSeq: 9n,
    });
    const hex = key.toString('hex');
    for (const text of [inspect(w, { depth: 5 }), JSON.stringify(w), inspect(opts)]) {
      assert.doesNotMatch(text, new RegExp(`${hex.slice(0, 16)}|171,\\s*171`));
    }
    await assert.rejects(
      async () => w.unwrap(Buffer.alloc(60), Buffer.alloc(10)),
      (e: unknown) => e instanceof ProtocolError && !e.message.includes(hex.slice(0, 8)),
    );
  });
});

describe('ticket caches whose keys cannot be read', () => {
  it('KEYRING:, KCM:, MEMORY: and API: are an InvalidArgumentError naming HTTPS and KRB5CCNAME=FILE:', async () => {
    const { ccacheFile, ccacheName } = await import('../../src/auth/kerberos/ccache.ts');
    for (const name of ['KEYRING:persistent:1000', 'KCM:1000', 'MEMORY:x', 'API:y']) {
      assert.throws(
        () => ccacheFile(name),
        (e: unknown) => {
          assert.ok(e instanceof InvalidArgumentError, String(e));
          assert.equal(e.argument, 'encryption');
          assert.match(e.message, new RegExp(`${name.split(':')[0]}: keeps its keys`));
          assert.match(e.remedy ?? '', /HTTPS/);
          assert.match(e.remedy ?? '', /KRB5CCNAME=FILE:/);
          return true;
        },
      );
    }
    assert.equal(ccacheFile('FILE:/tmp/x'), '/tmp/x');
    assert.equal(ccacheFile('/tmp/y'), '/tmp/y');
    assert.equal(ccacheFile('DIR::/tmp/dir/tkt1'), '/tmp/dir/tkt1');
    assert.equal(ccacheName({ KRB5CCNAME: 'FILE:/a', KRB5_CONFIG: '/nonexistent' }), 'FILE:/a');
    assert.match(ccacheName({ KRB5_CONFIG: '/nonexistent' }), /^FILE:\/tmp\/krb5cc_\d+$/);
  });

  it('default_ccache_name comes from [libdefaults] of the first krb5.conf that sets it (one reader with the KDCs)', async () => {
    const { ccacheName } = await import('../../src/auth/kerberos/ccache.ts');
    const { readKrb5Conf } = await import('../../src/auth/kerberos/krb5-conf.ts');
    const dir = mkdtempSync(join(tmpdir(), 'wrc-krb5conf-'));
    try {
      const a = join(dir, 'a.conf');
      const b = join(dir, 'b.conf');
      writeFileSync(
        a,
        '# comment\n[realms]\n EXAMPLE.TEST = {\n  default_ccache_name = FILE:/not/here\n  kdc = kdc1:8888\n }\n' +
          '[libdefaults]\n default_realm = EXAMPLE.TEST\n default_ccache_name = FILE:/tmp/first_%{uid}\n',
      );
      writeFileSync(b, '[libdefaults]\n default_ccache_name = FILE:/tmp/second\n');
      const env = { KRB5_CONFIG: `${a}:${b}` };
      assert.equal(ccacheName(env), `FILE:/tmp/first_${process.getuid?.() ?? 0}`);
      assert.equal(ccacheName({ KRB5_CONFIG: b }), 'FILE:/tmp/second');
      const conf = readKrb5Conf(env);
      assert.equal(conf.defaultRealm, 'EXAMPLE.TEST');
      assert.deepEqual(conf.kdcs.get('EXAMPLE.TEST'), [{ host: 'kdc1', port: 8888 }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('src/krb5 (shared by client and mock) imports nothing but node: modules and itself', () => {
    const dir = join(root, 'src/krb5');
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    assert.ok(files.includes('crypto.ts') && files.includes('der.ts'));
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const m of text.matchAll(/\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]/g)) {
        const spec = (m[1] ?? m[2])!;
        assert.ok(spec.startsWith('node:') || /^\.\/[\w-]+\.ts$/.test(spec), `${f} imports ${spec}`);
      }
    }
  });
});

/** A synthetic FILE ccache, written from MIT's "ccache file format" description. */
function ccacheBytes(version: 3 | 4, creds: Array<{ server: string[]; realm: string; key: Buffer }>): Buffer {
  const u16 = (v: number) => Buffer.from([v >> 8, v & 0xff]);
  const u32 = (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    return b;
  };
  const data = (b: Buffer | string) => Buffer.concat([u32(Buffer.byteLength(b)), Buffer.from(b)]);
  const principal = (realm: string, parts: string[]) =>
    Buffer.concat([u32(1), u32(parts.length), data(realm), ...parts.map(data)]);
  const out: Buffer[] = [u16(0x0500 | version)];
  if (version === 4) out.push(u16(12), u16(1), u16(8), Buffer.alloc(8)); // one header tag: KDC time offset
  out.push(principal('R.TEST', ['alice']));
  for (const c of creds) {
    out.push(principal('R.TEST', ['alice']), principal(c.realm, c.server), u16(18));
    if (version === 3) out.push(u16(18));
    out.push(data(c.key), u32(1), u32(2), u32(3), u32(4), Buffer.from([0]), u32(0));
    out.push(u32(1), u16(2), data(Buffer.from([127, 0, 0, 1]))); // one address
    out.push(u32(0)); // no authdata
    out.push(data(Buffer.from(`ticket of ${c.server.join('/')}`)), data(''));
  }
  return Buffer.concat(out);
}

describe('FILE ccache reader', () => {
  it('reads formats 3 and 4, skips configuration entries, refuses others', async () => {
    const { parseCcache, CcacheFormatError } = await import('../../src/auth/kerberos/ccache.ts');
    for (const version of [3, 4] as const) {
      const creds = parseCcache(
        ccacheBytes(version, [
          { server: ['krbtgt', 'R.TEST'], realm: 'R.TEST', key: Buffer.alloc(32, 1) },
          { server: ['krb5_ccache_conf_data', 'pa_type'], realm: 'X-CACHECONF:', key: Buffer.alloc(0) },
          { server: ['WSMAN', 'host'], realm: 'R.TEST', key: Buffer.alloc(32, 2) },
        ]),
      );
      assert.deepEqual(
        creds.map((c) => [c.server.components.join('/'), c.key.enctype, c.key.key[0], c.endtime]),
        [
          ['krbtgt/R.TEST', 18, 1, 3000],
          ['WSMAN/host', 18, 2, 3000],
        ],
      );
      assert.equal(creds[1]!.ticket.toString(), 'ticket of WSMAN/host');
    }
    assert.throws(() => parseCcache(Buffer.from([5, 2, 0, 0])), CcacheFormatError);
    assert.throws(
      () =>
        parseCcache(ccacheBytes(4, [{ server: ['a'], realm: 'R', key: Buffer.alloc(16) }]).subarray(0, 60)),
      /truncated/,
    );
  });
});
