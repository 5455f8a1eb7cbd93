import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseChallenges } from '../../src/auth/www-authenticate.ts';

describe('WWW-Authenticate parsing', () => {
  it('reads several headers, comma lists, tokens and quoted parameters with commas', () => {
    const got = parseChallenges([
      'Negotiate TlRMTVNTUAACAAAA==, Basic realm="WSMAN, the service", charset=UTF-8',
      'Kerberos',
      'NTLM',
    ]);
    assert.deepEqual(
      got.map((c) => [c.scheme, c.token68 ?? '', { ...c.params }]),
      [
        ['Negotiate', 'TlRMTVNTUAACAAAA==', {}],
        ['Basic', '', { realm: 'WSMAN, the service', charset: 'UTF-8' }],
        ['Kerberos', '', {}],
        ['NTLM', '', {}],
      ],
    );
  });

  it('reads a joined header as Node delivers repeated ones, and ignores empty items', () => {
    assert.deepEqual(
      parseChallenges('Negotiate, , Basic realm=WSMAN,Kerberos').map((c) => c.scheme),
      ['Negotiate', 'Basic', 'Kerberos'],
    );
    assert.deepEqual(parseChallenges(undefined), []);
    assert.equal(parseChallenges('Basic realm=WSMAN')[0]?.params.realm, 'WSMAN');
    assert.equal(parseChallenges('Basic realm=WSMAN')[0]?.token68, undefined);
  });
});
