/**
 * Each Kerberos failure provoked for real in a throw-away MIT realm and asserted by type and remedy: no ticket,
 * expired ticket, unknown SPN, clock skew, wrong password, KDC unreachable; plus DOMAIN\USER syntax and a missing
 * addon. Expiry and skew are made by editing the credential cache (the end times of its tickets, its KDC time
 * offset, which MIT applies with kdc_timesync = 1), not by waiting. One realm per file.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setKerberosImporter } from '../../src/auth/kerberos/addon.ts';
import { kerberosFailureKind } from '../../src/auth/kerberos/errors.ts';
import { KerberosMechanism } from '../../src/auth/kerberos/mechanism.ts';
import {
  AuthenticationError,
  ConnectionError,
  InvalidArgumentError,
  type WinRmError,
} from '../../src/errors.ts';
import { type ConnectionOptions, resolveOptions } from '../../src/options/index.ts';
import { type Kdc, kdcSkip, startKdc } from '../helpers/kdc.ts';

/** Rewrite a v4 (0x0504) FILE credential cache: every ticket's times, and/or the KDC time offset header tag. */
function editCcache(path: string, edit: { endTimeDelta?: number; kdcOffsetSeconds?: number }): void {
  const b = readFileSync(path);
  assert.equal(b.readUInt16BE(0), 0x0504, 'ccache version 4');
  const headerLength = b.readUInt16BE(2);
  let p = 4 + headerLength;
  const skipPrincipal = () => {
    const count = b.readUInt32BE(p + 4);
    p += 8;
    for (let i = 0; i <= count; i++) p += 4 + b.readUInt32BE(p); // realm, then each component
  };
  skipPrincipal(); // default principal
  const body = [b.subarray(4 + headerLength, p)];
  while (p < b.length) {
    const start = p;
    skipPrincipal();
    skipPrincipal();
    p += 2; // enctype
    p += 4 + b.readUInt32BE(p); // key
    if (edit.endTimeDelta !== undefined) {
      for (const field of [0, 4, 8]) {
        const t = b.readUInt32BE(p + field);
        if (t > -edit.endTimeDelta) b.writeUInt32BE(t + edit.endTimeDelta, p + field); // 0 in config entries
      }
    }
    p += 16 + 1 + 4; // times, is_skey, flags
    for (let list = 0; list < 2; list++) {
      const n = b.readUInt32BE(p);
      p += 4;
      for (let i = 0; i < n; i++) p += 2 + 4 + b.readUInt32BE(p + 2); // addresses, then authdata
    }
    p += 4 + b.readUInt32BE(p); // ticket
    p += 4 + b.readUInt32BE(p); // second ticket
    body.push(b.subarray(start, p));
  }
  let header = b.subarray(4, 4 + headerLength);
  if (edit.kdcOffsetSeconds !== undefined) {
    header = Buffer.alloc(12);
    header.writeUInt16BE(1, 0); // tag 1: KDC time offset
    header.writeUInt16BE(8, 2);
    header.writeInt32BE(edit.kdcOffsetSeconds, 4);
    header.writeInt32BE(0, 8);
  }
  const top = Buffer.alloc(4);
  top.writeUInt16BE(0x0504, 0);
  top.writeUInt16BE(header.length, 2);
  writeFileSync(path, Buffer.concat([top, header, ...body]));
}

describe('Kerberos failures, provoked, typed, with the fix', { skip: kdcSkip() }, () => {
  let kdc: Kdc;
  let good: string;
  before(async () => {
    kdc = await startKdc();
    kdc.applyEnv();
    good = join(kdc.dir, 'good-cc');
    await kdc.kinit(good);
  });
  after(async () => {
    await kdc?.stop();
  });

  /** A fresh cache file (a copy of the good one) as KRB5CCNAME, for tests that edit it. */
  function useCache(name: string, from: string | null = good): string {
    const path = join(kdc.dir, name);
    if (from) copyFileSync(from, path);
    process.env.KRB5CCNAME = `FILE:${path}`;
    return path;
  }

  async function firstToken(extra: Partial<ConnectionOptions> = {}): Promise<Buffer | undefined> {
    const opts = resolveOptions({
      endpoint: 'http://localhost:5985/wsman',
      username: kdc.user,
      auth: 'kerberos',
      ...extra,
    });
    const mech = new KerberosMechanism({ ...opts, password: extra.password });
    return (await mech.begin().init()).token;
  }

  async function fails(
    p: Promise<unknown>,
    kind: string,
    type: new (...a: never[]) => WinRmError,
    remedy: RegExp,
  ) {
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof type, `${type.name} expected, got ${String(e)}`);
      assert.equal(kerberosFailureKind(e), kind, e.message);
      assert.match(e.remedy ?? '', remedy);
      assert.doesNotMatch(e.message, /Bob-Wrong|Pw-/, 'no password in the message');
      return true;
    });
  }

  it('works with a good ticket (the baseline the other cases break)', async () => {
    useCache('baseline');
    assert.ok((await firstToken())!.length > 100);
  });

  it('no ticket: AuthenticationError telling to kinit USER@REALM', async () => {
    useCache('empty', null);
    await fails(firstToken(), 'no-ticket', AuthenticationError, /kinit alice@WINRM\.TEST/);
  });

  it('expired ticket: AuthenticationError telling to renew with kinit', async () => {
    const path = useCache('expired');
    editCcache(path, { endTimeDelta: -11 * 3600 });
    await fails(firstToken(), 'expired', AuthenticationError, /kinit alice@WINRM\.TEST/);
  });

  it('unknown SPN: AuthenticationError naming the SPN and the service-class / explicit SPN options', async () => {
    useCache('spn');
    await assert.rejects(
      firstToken({ endpoint: 'http://nohost.winrm.test:5985/wsman' }),
      /KDC knows no service principal WSMAN\/nohost\.winrm\.test/,
    );
    await fails(
      firstToken({ endpoint: 'http://nohost.winrm.test:5985/wsman' }),
      'unknown-spn',
      AuthenticationError,
      /kerberosUseHttpSpn: true.*kerberosSpn/,
    );
  });

  it('clock skew: AuthenticationError telling to synchronise the time', async () => {
    const path = useCache('skew');
    editCcache(path, { kdcOffsetSeconds: 3600 });
    await fails(firstToken(), 'clock-skew', AuthenticationError, /synchronise the time/);
  });

  it('wrong password: AuthenticationError telling to check the password (never showing it)', async () => {
    useCache('pw', null);
    await fails(
      firstToken({ password: 'Bob-Wrong-1' }),
      'wrong-password',
      AuthenticationError,
      /check the password/,
    );
  });

  it('password: an expired TGT in the private cache is renewed (a new AS exchange) once, not reported', async () => {
    await kdc.addPrincipal(`carol@${kdc.realm}`, 'Carol-Secret-1');
    useCache('carol-user-cache', null);
    const opts = resolveOptions({
      endpoint: 'http://localhost:5985/wsman',
      username: `carol@${kdc.realm}`,
      password: 'Carol-Secret-1',
      auth: 'kerberos',
    });
    const mech = new KerberosMechanism({ ...opts, password: 'Carol-Secret-1' });
    assert.ok((await mech.begin().init()).token);
    const cache = mech.passwordTicketCache!;
    assert.match(cache, /^FILE:/);
    editCcache(cache.slice(5), { endTimeDelta: -11 * 3600 });
    assert.ok((await mech.begin().init()).token, 'renewed');
    const list = await kdc.run('klist', ['-c', cache]);
    assert.match(list.stdout, /carol@WINRM\.TEST/);
  });

  it('DOMAIN\\USER with Kerberos: InvalidArgumentError explaining USER@FULL.DOMAIN', () => {
    assert.throws(
      () => resolveOptions({ endpoint: 'http://h:5985/wsman', username: 'WINRM\\alice', auth: 'kerberos' }),
      (e: unknown) =>
        e instanceof InvalidArgumentError &&
        e.argument === 'username' &&
        /DOMAIN\\USER name does not tell the Kerberos realm/.test(e.message) &&
        /USER@FULL\.DOMAIN/.test(e.remedy ?? ''),
    );
  });

  it('a missing addon: InvalidArgumentError with npm install kerberos and libkrb5-dev', async () => {
    const restore = setKerberosImporter(() =>
      Promise.reject(
        new Error("Cannot find package 'kerberos' imported from /app/dist/auth/kerberos/addon.js"),
      ),
    );
    try {
      await assert.rejects(firstToken(), (e: unknown) => {
        assert.ok(e instanceof InvalidArgumentError, String(e));
        assert.match(e.message, /needs the optional npm package kerberos, which is not installed/);
        assert.match(e.remedy ?? '', /npm install kerberos/);
        assert.match(e.remedy ?? '', /libkrb5-dev/);
        return true;
      });
    } finally {
      restore();
    }
  });

  // Last: it stops the KDC.
  it('KDC unreachable: ConnectionError naming the realm and krb5.conf', async () => {
    useCache('unreachable');
    await kdc.killKdc();
    await fails(
      firstToken({ endpoint: 'http://127.0.0.1:5985/wsman' }),
      'kdc-unreachable',
      ConnectionError,
      /krb5\.conf/,
    );
  });
});
