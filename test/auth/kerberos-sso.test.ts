/**
 * Single sign-on as the second seed describes it: "If no credentials are specified, then the logged-on
 * credentials are used". After kinit, `auth: 'kerberos'` needs neither a username nor a password: the account is
 * the ticket cache's default principal. Without a readable cache, the error says to run kinit.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.ts';
import { connect } from '../../src/index.ts';
import { type MockServer, startMockServer } from '../../src/mock/index.ts';
import { type Kdc, kdcSkip, startKdc } from '../helpers/kdc.ts';

describe('Kerberos single sign-on: no username, no password', { skip: kdcSkip() }, () => {
  let kdc: Kdc;
  let mock: MockServer;
  before(async () => {
    kdc = await startKdc();
    kdc.applyEnv();
    const user = { name: kdc.user.split('@')[0]!, password: kdc.password, domain: kdc.realm };
    mock = await startMockServer({
      users: [user],
      auth: { negotiate: true, kerberos: { keytab: kdc.keytabPath } },
    });
  });
  after(async () => {
    await mock?.close();
    await kdc?.stop();
  });

  it('without a ticket cache: InvalidArgumentError on username, naming kinit', async () => {
    // Before the first kinit, the realm's cache file does not exist.
    await assert.rejects(
      connect({ endpoint: mock.url, auth: 'kerberos' }),
      (err: unknown) =>
        err instanceof InvalidArgumentError &&
        err.argument === 'username' &&
        /no readable ticket cache/.test(err.message) &&
        /kinit USER@FULL\.DOMAIN/.test(err.remedy ?? ''),
    );
  });

  it('after kinit: the cache principal is the account; commands run sealed over HTTP as that user', async () => {
    await kdc.kinit();
    await using conn = await connect({ endpoint: mock.url, auth: 'kerberos' });
    const r = await conn.execute('whoami');
    assert.equal(r.exitCode, 0, r.stderrText);
    // The mock user's domain is the realm's name; whoami prints DOMAIN\\user in lower case as Windows does.
    assert.equal(r.stdoutText.trim(), `${kdc.realm}\\${kdc.user.split('@')[0]}`.toLowerCase());
  });

  it('with a password, close() removes the private ticket cache the connection made (no temp file left)', async () => {
    // os.tmpdir() follows TMPDIR: a directory of this test's own, so no other test's caches are counted.
    const previous = process.env.TMPDIR;
    const own = mkdtempSync(join(tmpdir(), 'krb-close-'));
    process.env.TMPDIR = own;
    try {
      const caches = () => readdirSync(own).filter((f) => f.startsWith('winrm-krb5cc-'));
      const conn = await connect({
        endpoint: mock.url,
        username: kdc.user,
        password: kdc.password,
        auth: 'kerberos',
      });
      assert.equal((await conn.execute('whoami')).exitCode, 0);
      assert.equal(
        caches().length,
        1,
        'the password path keeps one private cache while the connection is open',
      );
      await conn.close();
      assert.deepEqual(caches(), [], 'close() removed it');
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
      rmSync(own, { recursive: true, force: true });
    }
  });
});
