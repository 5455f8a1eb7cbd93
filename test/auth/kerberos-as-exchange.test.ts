/**
 * The password path's in-process AS exchange (src/auth/kerberos/as-exchange.ts) and FILE ccache writer against a
 * throw-away MIT realm: MIT's klist reads the cache we wrote, the mechanism works with no kinit on PATH, and the
 * KDC's refusals (wrong password, unknown client, clock skew, no KDC) come out typed with their remedy, without
 * the password anywhere. One realm per file; the KDC-down case runs last (it stops the KDC).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import { findKdcs, requestTgt } from '../../src/auth/kerberos/as-exchange.ts';
import { encodeCcache } from '../../src/auth/kerberos/ccache.ts';
import { tgtCcache } from '../../src/auth/kerberos/credentials.ts';
import { kerberosError, kerberosFailureKind } from '../../src/auth/kerberos/errors.ts';
import { KerberosMechanism } from '../../src/auth/kerberos/mechanism.ts';
import { AuthenticationError, ConnectionError, type WinRmError } from '../../src/errors.ts';
import { resolveOptions } from '../../src/options/index.ts';
import { type Kdc, kdcSkip, startKdc } from '../helpers/kdc.ts';

const DAVE_PW = 'Dave-Secret-7';

describe('Kerberos password path: in-process AS exchange', { skip: kdcSkip() }, () => {
  let kdc: Kdc;
  let savedPath: string | undefined;
  let noKinit: string;
  before(async () => {
    kdc = await startKdc();
    kdc.applyEnv();
    await kdc.addPrincipal(`dave@${kdc.realm}`, DAVE_PW, ['+requires_preauth']);
    // The user's own cache does not exist: the password path must not need it.
    process.env.KRB5CCNAME = `FILE:${join(kdc.dir, 'no-such-cache')}`;
    noKinit = mkdtempSync(join(tmpdir(), 'no-kinit-'));
    savedPath = process.env.PATH;
  });
  after(async () => {
    process.env.PATH = savedPath;
    rmSync(noKinit, { recursive: true, force: true });
    await kdc?.stop();
  });

  const ctx = (principal: string) => ({
    principal,
    spn: 'WSMAN/localhost',
    realm: kdc.realm,
    phase: 'acquire' as const,
  });

  function mechanism(username: string, password: string, delegate = false) {
    const opts = resolveOptions({
      endpoint: 'http://localhost:5985/wsman',
      username,
      password,
      auth: 'kerberos',
      kerberosDelegate: delegate,
    });
    return new KerberosMechanism({ ...opts, password });
  }

  async function fails(p: unknown, kind: string, type: new (...a: never[]) => WinRmError, remedy: RegExp) {
    await assert.rejects(Promise.resolve(p), (e: unknown) => {
      assert.ok(e instanceof type, `${type.name} expected, got ${String(e)}`);
      assert.equal(kerberosFailureKind(e), kind, e.message);
      assert.match(e.remedy ?? '', remedy);
      const all = `${e.message} ${e.remedy} ${String((e as { cause?: unknown }).cause)} ${inspect(e, { depth: 5 })}`;
      assert.doesNotMatch(all, /Dave-Secret|Wrong-Pw|Erin-Secret|Fred-Secret/, 'no password in the error');
      return true;
    });
  }

  it('MIT klist reads the ccache written from our AS-REP (TGT, forwardable when asked)', async () => {
    const tgt = await requestTgt({ principal: `dave@${kdc.realm}`, password: DAVE_PW, forwardable: true });
    assert.deepEqual(tgt.server, ['krbtgt', kdc.realm]);
    assert.equal(tgt.sessionKey.enctype, 18);
    const file = join(kdc.dir, 'ours-cc');
    // The very bytes the password path writes for the addon.
    writeFileSync(file, tgtCcache(tgt, kdc.realm), { mode: 0o600 });
    const list = await kdc.run('klist', ['-f', '-e', '-c', `FILE:${file}`]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /Default principal: dave@WINRM\.TEST/);
    assert.match(list.stdout, /krbtgt\/WINRM\.TEST@WINRM\.TEST/);
    assert.match(list.stdout, /Flags: [A-Za-z]*F/, 'forwardable');
    assert.match(list.stdout, /aes256-cts-hmac-sha1-96/);
    // MIT uses the TGT: a service ticket from our cache (kvno does a TGS exchange with it).
    const kvno = await kdc.run('kvno', ['-c', `FILE:${file}`, `WSMAN/localhost@${kdc.realm}`]);
    assert.equal(kvno.code, 0, kvno.stderr);
  });

  it('the mechanism works with no kinit on PATH; the private cache is 0600 in 0700 and holds no password', async () => {
    process.env.PATH = noKinit;
    try {
      const mech = mechanism(`dave@${kdc.realm}`, DAVE_PW);
      const first = await mech.begin().init();
      assert.ok(first.token && first.token.length > 100, 'an AP-REQ');
      const cache = mech.passwordTicketCache!;
      assert.match(cache, /^FILE:/);
      const file = cache.slice(5);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(statSync(dirname(file)).mode & 0o777, 0o700);
      const pw = Buffer.from(DAVE_PW, 'utf8');
      for (const f of readdirSync(dirname(file))) {
        assert.equal(readFileSync(join(dirname(file), f)).indexOf(pw), -1, `password in ${f}`);
      }
      for (const [k, v] of Object.entries(process.env))
        assert.ok(!v?.includes(DAVE_PW), `password in env ${k}`);
      assert.doesNotMatch(inspect(mech, { depth: 5 }), /Dave-Secret/);
      process.env.PATH = savedPath;
      const list = await kdc.run('klist', ['-c', cache]);
      assert.match(list.stdout, /dave@WINRM\.TEST/);
      assert.match(
        list.stdout,
        /WSMAN\/localhost@WINRM\.TEST/,
        'the addon got its service ticket with our TGT',
      );
      mech.close();
      assert.throws(() => statSync(dirname(file)), /ENOENT/, 'close() removes the private cache directory');
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it('wrong password: AuthenticationError "check the password", no password shown', async () => {
    process.env.PATH = noKinit;
    try {
      await fails(
        mechanism(`dave@${kdc.realm}`, 'Wrong-Pw-1').begin().init(),
        'wrong-password',
        AuthenticationError,
        /check the password/,
      );
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it('unknown principal: AuthenticationError naming USER@FULL.DOMAIN', async () => {
    await fails(
      mechanism(`nobody@${kdc.realm}`, 'Wrong-Pw-2').begin().init(),
      'unknown-client',
      AuthenticationError,
      /USER@FULL\.DOMAIN/,
    );
  });

  it('disabled account (KDC_ERR_CLIENT_REVOKED) and expired password (KDC_ERR_KEY_EXPIRED): typed, with remedy', async () => {
    await kdc.addPrincipal(`erin@${kdc.realm}`, 'Erin-Secret-3', ['+requires_preauth']);
    await kdc.addPrincipal(`fred@${kdc.realm}`, 'Fred-Secret-4', ['+requires_preauth']);
    const kadmin = async (q: string) => {
      const r = await kdc.run('kadmin.local', ['-r', kdc.realm, '-q', q]);
      assert.equal(r.code, 0, r.stderr);
    };
    await kadmin(`modprinc -allow_tix erin@${kdc.realm}`);
    await kadmin(`modprinc -pwexpire "2000-01-01 00:00:00 UTC" fred@${kdc.realm}`);
    await fails(
      mechanism(`erin@${kdc.realm}`, 'Erin-Secret-3').begin().init(),
      'client-revoked',
      AuthenticationError,
      /enable or unlock the account/,
    );
    await fails(
      mechanism(`fred@${kdc.realm}`, 'Fred-Secret-4').begin().init(),
      'password-expired',
      AuthenticationError,
      /kpasswd fred@WINRM\.TEST/,
    );
  });

  it('clock skew (our clock an hour ahead): AuthenticationError telling to synchronise the time', async () => {
    await fails(
      requestTgt({
        principal: `dave@${kdc.realm}`,
        password: DAVE_PW,
        now: () => Date.now() + 3600_000,
      }).catch((e: unknown) => {
        throw kerberosError(e, ctx(`dave@${kdc.realm}`));
      }),
      'clock-skew',
      AuthenticationError,
      /synchronise the time/,
    );
  });

  it('several kdc lines: a dead one first, then the realm KDC', async () => {
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadPort = (dead.address() as { port: number }).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const conf = join(kdc.dir, 'two-kdcs.conf');
    writeFileSync(
      conf,
      `[libdefaults]\n  default_realm = ${kdc.realm}\n  dns_lookup_kdc = false\n[realms]\n  ${kdc.realm} = {\n` +
        `    kdc = 127.0.0.1:${deadPort}\n    kdc = 127.0.0.1:${kdc.kdcPort}\n  }\n`,
    );
    const env = { ...process.env, KRB5_CONFIG: conf };
    assert.deepEqual(await findKdcs(kdc.realm, env), [
      { host: '127.0.0.1', port: deadPort },
      { host: '127.0.0.1', port: kdc.kdcPort },
    ]);
    const tgt = await requestTgt({ principal: 'dave', password: DAVE_PW, env });
    assert.equal(tgt.crealm, kdc.realm, 'default_realm used for a bare user name');
  });

  it('a KDC that accepts but never answers: bounded by the timeout, typed as KDC unreachable', async () => {
    const held: Socket[] = [];
    const silent: Server = createServer((s) => held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const started = Date.now();
    try {
      await fails(
        requestTgt({
          principal: `dave@${kdc.realm}`,
          password: DAVE_PW,
          kdcs: [{ host: '127.0.0.1', port }],
          timeoutMs: 300,
        }).catch((e: unknown) => {
          throw kerberosError(e, ctx(`dave@${kdc.realm}`));
        }),
        'kdc-unreachable',
        ConnectionError,
        /kdc entries for the realm in krb5\.conf/,
      );
      assert.ok(Date.now() - started < 20_000, 'does not hang');
    } finally {
      for (const s of held) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('KDC down: ConnectionError naming krb5.conf kdc entries (runs last: stops the KDC)', async () => {
    await kdc.killKdc();
    await fails(
      mechanism(`dave@${kdc.realm}`, DAVE_PW).begin().init(),
      'kdc-unreachable',
      ConnectionError,
      /kdc entries for the realm in krb5\.conf/,
    );
  });
});

describe('krb5.conf KDC lookup and the ccache writer (no realm needed)', () => {
  it('kdc lines in order per realm, default port 88, tcp/ prefix, https proxies skipped; SRV only if allowed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'krb5conf-'));
    try {
      const conf = join(dir, 'krb5.conf');
      writeFileSync(
        conf,
        [
          '# comment',
          '[libdefaults]',
          '  default_realm = CORP.EXAMPLE.COM',
          '[realms]',
          '  CORP.EXAMPLE.COM = {',
          '    kdc = dc1.corp.example.com',
          '    kdc = tcp/dc2.corp.example.com:1088',
          '    kdc = https://proxy.example.com/KdcProxy',
          '    admin_server = dc1.corp.example.com',
          '  }',
          '  OTHER.TEST = {',
          '    kdc = [::1]:8888',
          '  }',
          '',
        ].join('\n'),
      );
      const env = { KRB5_CONFIG: conf };
      const srvAsked: string[] = [];
      const resolver = {
        resolveSrv: async (n: string) => {
          srvAsked.push(n);
          return [{ name: 'dc9.nodns.test', port: 88, priority: 0, weight: 0 }];
        },
      };
      assert.deepEqual(await findKdcs('CORP.EXAMPLE.COM', env, resolver), [
        { host: 'dc1.corp.example.com', port: 88 },
        { host: 'dc2.corp.example.com', port: 1088 },
      ]);
      assert.deepEqual(await findKdcs('OTHER.TEST', env, resolver), [{ host: '::1', port: 8888 }]);
      assert.deepEqual(srvAsked, [], 'no DNS when krb5.conf lists the KDCs');
      assert.deepEqual(await findKdcs('NODNS.TEST', env, resolver), [{ host: 'dc9.nodns.test', port: 88 }]);
      assert.deepEqual(srvAsked, ['_kerberos._tcp.NODNS.TEST']);
      writeFileSync(conf, '[libdefaults]\n  dns_lookup_kdc = false\n');
      assert.deepEqual(await findKdcs('NODNS.TEST', env, resolver), [], 'dns_lookup_kdc = false: no SRV');
      assert.equal(srvAsked.length, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('encodeCcache writes format 4 that the ccache reader parses back (principals, key, end time, ticket)', async () => {
    const { parseCcache } = await import('../../src/auth/kerberos/ccache.ts');
    const client = { nameType: 1, realm: 'R.TEST', components: ['alice'] };
    const server = { nameType: 2, realm: 'R.TEST', components: ['krbtgt', 'R.TEST'] };
    const key = { enctype: 18, key: Buffer.alloc(32, 7) };
    const ticket = Buffer.from('6103020100', 'hex');
    const bytes = encodeCcache(client, [
      {
        client,
        server,
        key,
        authtime: 1e12,
        starttime: 1e12,
        endtime: 1e12 + 36e6,
        renewTill: 0,
        flags: 0x40e10000,
        ticket,
      },
    ]);
    assert.equal(bytes.readUInt16BE(0), 0x0504);
    const [cred, ...rest] = parseCcache(bytes);
    assert.equal(rest.length, 0);
    assert.deepEqual(cred!.client, client);
    assert.deepEqual(cred!.server, server);
    assert.deepEqual(cred!.key, key);
    assert.equal(cred!.endtime, 1e12 + 36e6);
    assert.deepEqual(cred!.ticket, ticket);
  });
});
