/** The winrs argv builder: a table of every switch and account form, and property tests against the reference. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseAccount } from '../../src/account.ts';
import { argvToCmdLine } from '../../src/cmdline.ts';
import { Secret } from '../../src/debug.ts';
import { InvalidArgumentError } from '../../src/errors.ts';
import { buildWinrsArgv, maskWinrsArgv, type WinrsArgvSettings } from '../../src/native/argv.ts';
import { parseWinrsArgs } from '../../src/native/emulator/args.ts';
import { throughWinrs } from './reference.ts';

const BASE: WinrsArgvSettings = {
  host: 'win1.corp.example.com',
  port: 5985,
  https: false,
  noEcho: false,
  noProfile: false,
  allowDelegate: false,
  compression: false,
  unencrypted: false,
};

const HOST_ENV = { OS: 'Windows_NT', PATH: 'C:\\Windows', A: 'x', USERNAME: 'deployer' };

describe('buildWinrsArgv: table', () => {
  const cases: Array<[string, Partial<WinrsArgvSettings>, string[]]> = [
    ['plain host, single sign-on', {}, ['-remote:win1.corp.example.com:5985']],
    ['https', { https: true, port: 5986 }, ['-remote:https://win1.corp.example.com:5986', '-usessl']],
    ['IPv6', { host: '::1' }, ['-remote:[::1]:5985']],
    [
      'local account',
      { account: parseAccount('deployer'), password: new Secret('pw') },
      ['-remote:win1.corp.example.com:5985', '-username:deployer', '-password:pw'],
    ],
    [
      '.\\USER is a local account, written plain',
      { account: parseAccount('.\\deployer'), password: new Secret('pw') },
      ['-remote:win1.corp.example.com:5985', '-username:deployer', '-password:pw'],
    ],
    [
      'DOMAIN\\USER',
      { account: parseAccount('CORP\\deployer'), password: new Secret('pw') },
      ['-remote:win1.corp.example.com:5985', '-username:CORP\\deployer', '-password:pw'],
    ],
    [
      'USER@FULL.DOMAIN',
      { account: parseAccount('deployer@CORP.EXAMPLE.COM'), password: new Secret('pw') },
      ['-remote:win1.corp.example.com:5985', '-username:deployer@CORP.EXAMPLE.COM', '-password:pw'],
    ],
    [
      'password with cmd metacharacters, blanks and Unicode, unchanged',
      { account: parseAccount('u'), password: new Secret('a&b|c<d>e^f%g h €') },
      ['-remote:win1.corp.example.com:5985', '-username:u', '-password:a&b|c<d>e^f%g h €'],
    ],
    [
      'directory',
      { cwd: 'C:\\Program Files\\App\\' },
      ['-remote:win1.corp.example.com:5985', '-directory:C:\\Program Files\\App\\'],
    ],
    [
      'environment, repeated',
      { env: { A: '1', B_C: 'x y=z' } },
      ['-remote:win1.corp.example.com:5985', '-env:A=1', '-env:B_C=x y=z'],
    ],
    ['noecho', { noEcho: true }, ['-remote:win1.corp.example.com:5985', '-noecho']],
    ['noprofile', { noProfile: true }, ['-remote:win1.corp.example.com:5985', '-noprofile']],
    ['allowdelegate', { allowDelegate: true }, ['-remote:win1.corp.example.com:5985', '-allowdelegate']],
    ['compression', { compression: true }, ['-remote:win1.corp.example.com:5985', '-compression']],
    ['unencrypted', { unencrypted: true }, ['-remote:win1.corp.example.com:5985', '-unencrypted']],
    ['codepage', { codepage: 437 }, ['-remote:win1.corp.example.com:5985', '-codepage:437']],
  ];
  for (const [name, settings, expected] of cases) {
    it(name, () => {
      assert.deepEqual(buildWinrsArgv({ ...BASE, ...settings }, 'ipconfig /all'), [
        ...expected,
        'ipconfig /all',
      ]);
    });
  }

  it('every switch together, in order, and the emulator reads them back', () => {
    const args = buildWinrsArgv(
      {
        ...BASE,
        https: true,
        port: 5986,
        account: parseAccount('CORP\\deployer'),
        password: new Secret('s3cr&t'),
        cwd: 'C:\\work',
        env: { A: '1' },
        noEcho: true,
        noProfile: true,
        allowDelegate: true,
        compression: true,
        unencrypted: true,
        codepage: 65001,
      },
      'echo hi',
    );
    const inv = parseWinrsArgs(args);
    assert.deepEqual(
      [inv.remote, inv.username, inv.password, inv.directory, inv.env, inv.command, inv.codepage],
      [
        'https://win1.corp.example.com:5986',
        'CORP\\deployer',
        's3cr&t',
        'C:\\work',
        { A: '1' },
        'echo hi',
        65001,
      ],
    );
    assert.ok(
      inv.noEcho && inv.noProfile && inv.allowDelegate && inv.compression && inv.unencrypted && inv.useSsl,
    );
  });

  it('refuses a password with a quotation mark before anything runs, without showing it', () => {
    for (const pw of ["it's", 'say "hi"']) {
      assert.throws(
        () => buildWinrsArgv({ ...BASE, account: parseAccount('u'), password: new Secret(pw) }, 'echo'),
        (e: unknown) =>
          e instanceof InvalidArgumentError &&
          e.argument === 'password' &&
          /WINRM_INTERNAL/.test(e.message) &&
          !e.message.includes(pw),
      );
    }
  });

  it('refuses a command winrs would read as a switch, env names with "=", line breaks', () => {
    assert.throws(() => buildWinrsArgv(BASE, '-help'), /winrs.exe would read as one of its own switches/);
    assert.throws(() => buildWinrsArgv(BASE, '/c dir'), InvalidArgumentError);
    assert.throws(() => buildWinrsArgv({ ...BASE, env: { 'A=B': '1' } }, 'echo'), /contains "="/);
    assert.throws(() => buildWinrsArgv({ ...BASE, cwd: 'C:\\a\nb' }, 'echo'), /line break/);
  });

  it('masks the password element for logs', () => {
    const args = buildWinrsArgv(
      { ...BASE, account: parseAccount('u'), password: new Secret('hunter2') },
      'echo',
    );
    assert.deepEqual(maskWinrsArgv(args), [
      '-remote:win1.corp.example.com:5985',
      '-username:u',
      '-password:********',
      'echo',
    ]);
  });
});

describe('buildWinrsArgv: properties against the reference (CommandLineToArgvW, winrs, cmd.exe)', () => {
  // Printable text without quotes (winrs cannot pass them), NUL or line breaks; blanks, tabs, backslashes,
  // cmd metacharacters, percent signs and non-ASCII included.
  const passwordChar = fc.constantFrom(...'aZ09 \t\\&|<>^%!()=;,*?@#$~`[]{}+-/.:€äß'.split(''));
  const password = fc.array(passwordChar, { minLength: 1, maxLength: 24 }).map((a) => a.join(''));
  const argChar = fc.constantFrom(...'aZ09 \t\\"&|<>^%!()=;,*?@#$~`[]{}+-/.:€äß'.split(''));
  const arg = fc.array(argChar, { maxLength: 16 }).map((a) => a.join(''));

  it('random passwords without quotes reach winrs.exe unchanged', () => {
    fc.assert(
      fc.property(password, (pw) => {
        const args = buildWinrsArgv(
          { ...BASE, account: parseAccount('CORP\\u'), password: new Secret(pw) },
          'echo x',
        );
        const { switches } = throughWinrs(args, HOST_ENV);
        assert.deepEqual(parseWinrsArgs([...switches, 'echo x']).password, pw);
      }),
      { numRuns: 500 },
    );
  });

  it('random arguments reach the remote program unchanged', () => {
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 6 }), (rest) => {
        const argv = ['prog.exe', ...rest];
        const args = buildWinrsArgv(
          { ...BASE, env: { A: 'x' }, cwd: 'C:\\Program Files\\' },
          argvToCmdLine(argv),
        );
        const { remoteArgv, switches } = throughWinrs(args, HOST_ENV);
        assert.deepEqual(remoteArgv, argv);
        assert.deepEqual(parseWinrsArgs([...switches, 'x']).directory, 'C:\\Program Files\\');
      }),
      { numRuns: 500 },
    );
  });
});
