import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Account,
  type AccountAuth,
  type AccountKind,
  type AccountStrategy,
  checkWinrsPassword,
  forBasic,
  forKerberos,
  forNtlm,
  forWinrs,
  parseAccount,
  validateForStrategy,
} from '../src/account.ts';
import { InvalidArgumentError } from '../src/errors.ts';

const FORMS = ['USER', '.\\USER', 'DOMAIN\\USER', 'USER@FULL.DOMAIN'];

/** Asserts an InvalidArgumentError for `argument`, whose message matches `pattern` (if given). */
function assertInvalid(fn: () => unknown, argument: string, pattern?: RegExp): InvalidArgumentError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(caught)}`);
  assert.equal(caught.code, 'WINRM_INVALID_ARGUMENT');
  assert.equal(caught.argument, argument);
  if (pattern) assert.match(caught.message, pattern);
  return caught;
}

/** Asserts parseAccount rejects `input` with the accepted forms quoted and no raw control character. */
function assertRejected(input: string, pattern: RegExp): void {
  const err = assertInvalid(() => parseAccount(input), 'username', pattern);
  for (const form of FORMS) assert.ok(err.message.includes(form), `message lacks ${form}: ${err.message}`);
  assert.doesNotMatch(err.message, /[\p{Cc}\p{Cf}\u2028\u2029]/u);
}

type Row = [input: string, expected: Omit<Account, 'original'> | RegExp];

const long = (n: number) => 'a'.repeat(n);
const TABLE: Row[] = [
  // Valid
  ['alice', { kind: 'local', user: 'alice' }],
  ['Administrator', { kind: 'local', user: 'Administrator' }],
  ['.\\Administrator', { kind: 'local', user: 'Administrator' }],
  ['John Smith', { kind: 'local', user: 'John Smith' }],
  ['svc_deploy-01$', { kind: 'local', user: 'svc_deploy-01$' }],
  ['jörg', { kind: 'local', user: 'jörg' }],
  ['CORP\\alice', { kind: 'downlevel', user: 'alice', domain: 'CORP' }],
  ['corp\\Alice', { kind: 'downlevel', user: 'Alice', domain: 'corp' }],
  ['corp.example.com\\alice', { kind: 'downlevel', user: 'alice', domain: 'corp.example.com' }],
  ['VERYLONGDOMAINNAME42\\bob', { kind: 'downlevel', user: 'bob', domain: 'VERYLONGDOMAINNAME42' }],
  ['alice@corp.example.com', { kind: 'upn', user: 'alice', domain: 'corp.example.com' }],
  ['Alice@Corp.Example.COM', { kind: 'upn', user: 'Alice', domain: 'Corp.Example.COM' }],
  ['first.last@sub-1.example.org', { kind: 'upn', user: 'first.last', domain: 'sub-1.example.org' }],
  ['alice@CORP', { kind: 'upn', user: 'alice', domain: 'CORP' }],
  [long(104), { kind: 'local', user: long(104) }],
  [`a@${long(63)}.com`, { kind: 'upn', user: 'a', domain: `${long(63)}.com` }],
  // Invalid: empty parts
  ['', /is empty/],
  ['\\alice', /domain is empty/],
  ['CORP\\', /user name is empty/],
  ['.\\', /user name is empty/],
  ['@corp.example.com', /user name is empty/],
  ['alice@', /domain is empty/],
  // Invalid: several separators
  ['a\\b\\c', /2 separators/],
  ['a@b@c', /2 separators/],
  ['a\\b@c', /2 separators/],
  ['a@b\\c', /2 separators/],
  // Invalid: whitespace and control characters
  [' alice', /whitespace/],
  ['alice ', /whitespace/],
  ['al\tice', /\\t/],
  ['alice\0', /\\u0000/],
  ['alice\n', /\\n/],
  ['ali\u200bce', /\\u200b/],
  ['ali\u00a0ce', /\\u00a0/],
  ['ali\u007fce', /\\u007f/],
  ['al\u202eice', /\\u202e/],
  ['ali\u2028ce', /\\u2028/],
  ['CORP\\ alice', /user name begins or ends with whitespace/],
  ['alice @corp.example.com', /user name begins or ends with whitespace/],
  // Invalid: forbidden characters
  ['ali"ce', /forbids/],
  ['ali/ce', /forbids/],
  ['ali[ce]', /forbids/],
  ['ali:ce', /forbids/],
  ['ali;ce', /forbids/],
  ['ali|ce', /forbids/],
  ['ali=ce', /forbids/],
  ['ali,ce', /forbids/],
  ['ali+ce', /forbids/],
  ['ali*ce', /forbids/],
  ['ali?ce', /forbids/],
  ['<alice>', /forbids/],
  ['CO:RP\\alice', /domain contains/],
  ['...', /only of periods/],
  ['..\\alice', /domain consists only of periods/],
  // Invalid: length
  [long(105), /longer than 104/],
  [`CORP\\${long(105)}`, /longer than 104/],
  [`${long(256)}\\alice`, /domain is longer than 255/],
  // Invalid: UPN domain not a DNS name
  ['alice@corp..example.com', /not a DNS name/],
  ['alice@.corp.example.com', /not a DNS name/],
  ['alice@corp.example.com.', /not a DNS name/],
  ['alice@corp_example.com', /not a DNS name/],
  ['alice@-corp.example.com', /not a DNS name/],
  ['alice@corp example.com', /not a DNS name/],
  [`alice@${long(64)}.com`, /not a DNS name/],
];

describe('parseAccount table', () => {
  it('has at least 35 rows', () => assert.ok(TABLE.length >= 35));
  for (const [input, expected] of TABLE) {
    it(`${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}...` : input)}`, () => {
      if (expected instanceof RegExp) {
        assertRejected(input, expected);
      } else {
        const account = parseAccount(input);
        assert.deepEqual(account, { ...expected, original: input });
        assert.ok(Object.isFrozen(account));
      }
    });
  }
  it('rejects a non-string at runtime', () => {
    assertInvalid(() => parseAccount(42 as unknown as string), 'username', /must be a string/);
  });
  it('clips a very long input in the message', () => {
    const err = assertInvalid(() => parseAccount(long(5000)), 'username');
    assert.ok(err.message.length < 400);
  });
});

const local = parseAccount('alice');
const dotLocal = parseAccount('.\\alice');
const upn = parseAccount('Alice@corp.Example.com');
const downlevel = parseAccount('CORP\\Alice');

describe('forBasic', () => {
  it('returns the user of a local account', () => {
    assert.equal(forBasic(local), 'alice');
    assert.equal(forBasic(dotLocal), 'alice');
  });
  for (const account of [upn, downlevel]) {
    it(`rejects the domain account ${account.original}`, () => {
      const err = assertInvalid(() => forBasic(account), 'username', /local accounts/);
      assert.match(err.message, /'ntlm'/);
      assert.match(err.message, /'kerberos'/);
      assert.ok(err.message.includes('winrm set winrm/config/service/Auth @{Basic="true"}'));
    });
  }
});

describe('forNtlm', () => {
  it('gives a local account an empty domain', () => {
    assert.deepEqual(forNtlm(local), { user: 'alice', domain: '' });
    assert.deepEqual(forNtlm(dotLocal), { user: 'alice', domain: '' });
  });
  it('splits DOMAIN\\USER', () => assert.deepEqual(forNtlm(downlevel), { user: 'Alice', domain: 'CORP' }));
  it('sends a UPN whole as the user with an empty domain', () => {
    assert.deepEqual(forNtlm(upn), { user: 'Alice@corp.Example.com', domain: '' });
  });
});

describe('forKerberos', () => {
  it('upper-cases the realm of a UPN and keeps the user case', () => {
    assert.equal(forKerberos(upn), 'Alice@CORP.EXAMPLE.COM');
    assert.equal(forKerberos(upn, 'OTHER.ORG'), 'Alice@CORP.EXAMPLE.COM');
  });
  it('rejects DOMAIN\\USER with the USER@FULL.DOMAIN fix', () => {
    assertInvalid(() => forKerberos(downlevel), 'username', /USER@FULL\.DOMAIN/);
    assertInvalid(() => forKerberos(downlevel, 'CORP.EXAMPLE.COM'), 'username', /Alice@<DNS name of CORP>/);
    const dotted = parseAccount('corp.example.com\\bob');
    assertInvalid(() => forKerberos(dotted), 'username', /bob@corp\.example\.com/);
  });
  it('gives a plain local user the default realm', () => {
    assert.equal(forKerberos(local, 'corp.example.com'), 'alice@CORP.EXAMPLE.COM');
  });
  it('rejects a local user without a default realm', () => {
    assertInvalid(() => forKerberos(local), 'username', /needs a domain account/);
  });
  it('never gives an explicit .\\USER a realm', () => {
    assertInvalid(() => forKerberos(dotLocal, 'CORP.EXAMPLE.COM'), 'username', /needs a domain account/);
  });
  it('rejects a default realm that is not a DNS name', () => {
    assertInvalid(() => forKerberos(local, 'corp..com'), 'defaultRealm', /realm/);
    assertInvalid(() => forKerberos(local, 'CORP\n'), 'defaultRealm', /\\n/);
  });
});

describe('forWinrs', () => {
  it('formats each kind', () => {
    assert.equal(forWinrs(local), 'alice');
    assert.equal(forWinrs(dotLocal), 'alice');
    assert.equal(forWinrs(upn), 'Alice@corp.Example.com');
    assert.equal(forWinrs(downlevel), 'CORP\\Alice');
  });
});

describe('validateForStrategy matrix', () => {
  const kinds: Record<AccountKind, Account> = { local, upn, downlevel };
  // [strategy, auth, kind] -> error pattern, or null when accepted.
  const expected: Record<AccountStrategy, Record<AccountAuth, Record<AccountKind, RegExp | null>>> = {
    WINRM_INTERNAL: {
      basic: { local: null, upn: /Basic/, downlevel: /Basic/ },
      ntlm: { local: null, upn: null, downlevel: null },
      negotiate: { local: null, upn: null, downlevel: null },
      kerberos: { local: /needs a domain account/, upn: null, downlevel: /USER@FULL\.DOMAIN/ },
    },
    WINRM_NATIVE: {
      basic: { local: null, upn: /Basic/, downlevel: /Basic/ },
      ntlm: { local: null, upn: null, downlevel: null },
      negotiate: { local: null, upn: null, downlevel: null },
      kerberos: { local: /needs a domain account/, upn: null, downlevel: null },
    },
  };
  for (const [strategy, byAuth] of Object.entries(expected) as [
    AccountStrategy,
    typeof expected.WINRM_NATIVE,
  ][]) {
    for (const [auth, byKind] of Object.entries(byAuth) as [
      AccountAuth,
      Record<AccountKind, RegExp | null>,
    ][]) {
      for (const [kind, outcome] of Object.entries(byKind) as [AccountKind, RegExp | null][]) {
        it(`${strategy} + ${auth} + ${kind}: ${outcome ? 'rejected' : 'accepted'}`, () => {
          const run = () => validateForStrategy(kinds[kind], strategy, auth);
          if (outcome) assertInvalid(run, 'username', outcome);
          else assert.doesNotThrow(run);
        });
      }
    }
  }
  it('WINRM_INTERNAL + kerberos accepts a plain USER when a default realm is given', () => {
    assert.doesNotThrow(() => validateForStrategy(local, 'WINRM_INTERNAL', 'kerberos', 'CORP.EXAMPLE.COM'));
    assertInvalid(
      () => validateForStrategy(dotLocal, 'WINRM_INTERNAL', 'kerberos', 'CORP.EXAMPLE.COM'),
      'username',
    );
  });
});

describe('checkWinrsPassword', () => {
  it('accepts passwords without quotation marks', () => {
    for (const pw of ['', 'S3cr3t!', 'a b\\c$%^&()`', 'pässwörd'])
      assert.doesNotThrow(() => checkWinrsPassword(pw));
  });
  for (const pw of ["it's-Secret9", 'say"hi"Secret9', '\'"']) {
    it(`rejects a quotation mark without echoing the password (${pw.length} chars)`, () => {
      const err = assertInvalid(() => checkWinrsPassword(pw), 'password', /winrs/);
      assert.match(err.message, /WINRM_INTERNAL/);
      assert.ok(!err.message.includes('Secret9'));
      assert.ok(!err.message.includes(pw));
    });
  }
  it('rejects a NUL character without echoing the password', () => {
    const err = assertInvalid(() => checkWinrsPassword('Secret9\0x'), 'password', /NUL/);
    assert.ok(!err.message.includes('Secret9'));
  });
});
