import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Kdc, kdcSkip, startKdc } from '../helpers/kdc.js';

describe('throw-away MIT realm (test/helpers/kdc.ts)', { skip: kdcSkip() }, () => {
  let kdc: Kdc;
  before(async () => {
    kdc = await startKdc();
  });
  after(async () => {
    await kdc?.stop();
  });

  it('kinit gets a TGT for the user and klist shows it', async () => {
    const cc = join(kdc.dir, 'cc-kinit');
    await kdc.kinit(cc);
    const r = await kdc.run('klist', ['-c', `FILE:${cc}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Default principal: ${kdc.user.replace('.', '\\.')}`));
    assert.match(r.stdout, /krbtgt\/WINRM\.TEST@WINRM\.TEST/);
  });

  it('the keytab holds WSMAN/ and HTTP/ keys that kvno matches', async () => {
    const cc = join(kdc.dir, 'cc-kvno');
    await kdc.kinit(cc);
    const r = await kdc.run('kvno', [
      '-c',
      `FILE:${cc}`,
      '-k',
      kdc.keytabPath,
      'WSMAN/localhost',
      'HTTP/127.0.0.1',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /WSMAN\/localhost@WINRM\.TEST: kvno = \d+, keytab entry valid/);
    assert.match(r.stdout, /HTTP\/127\.0\.0\.1@WINRM\.TEST: kvno = \d+, keytab entry valid/);
  });

  it('a wrong password is refused by the KDC', async () => {
    await assert.rejects(
      kdc.kinit(join(kdc.dir, 'cc-bad'), [], kdc.user, 'not-the-password'),
      /kinit failed/,
    );
  });
});
