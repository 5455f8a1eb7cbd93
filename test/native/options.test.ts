/** WINRM_NATIVE options, Overthere's option names, the Winrs error table, the local runner's check at connect. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { connect } from '../../src/connect.ts';
import {
  AuthenticationError,
  ConnectionError,
  InvalidArgumentError,
  type WinRmError,
} from '../../src/errors.ts';
import { winrsFailure, winrsFailureKind } from '../../src/native/errors.ts';
import { resolveNative } from '../../src/options/native.ts';
import { closestOption, fromOverthere, parseXsDuration } from '../../src/options/overthere.ts';

const NATIVE = {
  connectionType: 'WINRM_NATIVE' as const,
  host: 'win1',
  username: 'CORP\\deployer',
  password: 'pw&1',
};

describe('WINRM_NATIVE options', () => {
  it('resolves host, port, https and the winrs switches with their defaults', () => {
    const c = resolveNative(NATIVE, 'win32');
    assert.deepEqual(
      [
        c.host,
        c.port,
        c.https,
        c.noEcho,
        c.allowDelegate,
        c.compression,
        c.unencrypted,
        c.proxyProtocol,
        c.winrsPath,
      ],
      ['win1', 5985, false, false, false, false, false, 'local', 'winrs.exe'],
    );
    const s = resolveNative({ ...NATIVE, https: true, winrsNoecho: true, winrsNoprofile: true }, 'linux');
    assert.deepEqual(
      [s.port, s.https, s.noEcho, s.noProfile, s.winrsPath],
      [5986, true, true, true, undefined],
    );
  });

  it('accepts DOMAIN\\USER, USER@FULL.DOMAIN and local accounts', () => {
    for (const username of ['CORP\\deployer', 'deployer@CORP.EXAMPLE.COM', 'deployer', '.\\deployer']) {
      assert.equal(resolveNative({ ...NATIVE, username }, 'win32').username, username);
    }
  });

  it('refuses a password with a quotation mark with the seed explanation and WINRM_INTERNAL', () => {
    for (const password of ["o'brien", 'a"b']) {
      assert.throws(
        () => resolveNative({ ...NATIVE, password }, 'win32'),
        (e: unknown) =>
          e instanceof InvalidArgumentError &&
          e.argument === 'password' &&
          /limitation of the winrs command/.test(e.message) &&
          /WINRM_INTERNAL/.test(e.message) &&
          !e.message.includes(password),
      );
    }
  });

  it('keeps the password out of inspect and JSON', () => {
    const c = resolveNative({ ...NATIVE, password: 'Sup3rS3cret' }, 'win32');
    assert.ok(!inspect(c, { depth: 5 }).includes('Sup3rS3cret'));
    assert.ok(!JSON.stringify(c).includes('Sup3rS3cret'));
  });

  it('a proxy protocol needs its connection options', () => {
    assert.throws(
      () => resolveNative({ ...NATIVE, winrsProxyProtocol: 'ssh' }),
      /winrsProxyConnectionOptions/,
    );
    assert.throws(
      () => resolveNative({ ...NATIVE, winrsProxyProtocol: 'telnet' as never }),
      /Unknown winrsProxyProtocol/,
    );
  });

  it('connect() on a machine without winrs and no proxy fails at connect, naming the options', async (t) => {
    if (process.platform === 'win32') return t.skip('Windows has winrs.exe');
    await assert.rejects(
      connect(NATIVE),
      (e: unknown) =>
        e instanceof InvalidArgumentError &&
        e.argument === 'winrsPath' &&
        /winrsProxyProtocol/.test(e.message) &&
        /winrs-emulator/.test(e.message),
    );
    await assert.rejects(
      connect({ ...NATIVE, winrsPath: '/nonexistent/winrs.exe' }),
      (e: unknown) => e instanceof InvalidArgumentError && /was not found/.test(e.message),
    );
  });
});

describe("Overthere's option names", () => {
  it('maps a WINRM_NATIVE definition onto ours', () => {
    const o = fromOverthere({
      os: 'WINDOWS',
      connectionType: 'WINRM_NATIVE',
      address: 'win1',
      port: 5986,
      username: 'CORP\\deployer',
      password: 'pw',
      winrmEnableHttps: true,
      winrsAllowDelegate: true,
      winrsCompression: true,
      winrsNoecho: true,
      winrsNoprofile: true,
      winrsUnencrypted: false,
      winrsProxyProtocol: 'ssh',
      winrsProxyConnectionOptions: { address: 'proxy1', port: 22, username: 'admin' },
      connectionTimeoutMillis: 5000,
    }) as unknown as Record<string, unknown>;
    assert.deepEqual(o, {
      connectionType: 'WINRM_NATIVE',
      host: 'win1',
      port: 5986,
      username: 'CORP\\deployer',
      password: 'pw',
      https: true,
      winrsAllowDelegate: true,
      winrsCompression: true,
      winrsNoecho: true,
      noProfile: true,
      winrsUnencrypted: false,
      winrsProxyProtocol: 'ssh',
      winrsProxyConnectionOptions: { host: 'proxy1', port: 22, username: 'admin' },
      connectTimeout: 5000,
    });
  });

  it('maps the WINRM_INTERNAL ones (context, envelope, locale, timeout, TLS strategies, proxy jumpstation)', () => {
    const o = fromOverthere({
      address: 'win1',
      username: 'u',
      password: 'p',
      winrmContext: '/wsman',
      winrmEnvelopSize: 153600,
      winrmLocale: 'de-DE',
      winrmTimeout: 'PT60.000S',
      winrmHttpsCertificateTrustStrategy: 'ALLOW_ALL',
      winrmHttpsHostnameVerificationStrategy: 'ALLOW_ALL',
      winrmKerberosUseHttpSpn: false,
      winrmKerberosAddPortToSpn: false,
      jumpstation: { protocol: 'proxy', address: 'proxy', port: 3128 },
    }) as unknown as Record<string, unknown>;
    assert.deepEqual(o, {
      host: 'win1',
      username: 'u',
      password: 'p',
      path: '/wsman',
      maxEnvelopeSize: 153600,
      locale: 'de-DE',
      operationTimeout: 60_000,
      tls: { insecureAcceptAnyCertificate: true, verifyHostname: false },
      proxy: 'http://proxy:3128',
      kerberosUseHttpSpn: false,
      kerberosAddPortToSpn: false,
    });
  });

  it('an unknown name is an InvalidArgumentError naming the closest known option', () => {
    assert.throws(
      () => fromOverthere({ address: 'h', username: 'u', winrsNoEcho: true }),
      (e: unknown) =>
        e instanceof InvalidArgumentError && e.argument === 'winrsNoEcho' && /"winrsNoecho"/.test(e.message),
    );
    assert.equal(closestOption('winrmEnvelopeSize'), 'winrmEnvelopSize');
    assert.equal(closestOption('conectionTimeoutMilis'), 'connectionTimeoutMillis');
  });

  it('Kerberos options map onto ours; USER@FULL.DOMAIN on WINRM_INTERNAL means Kerberos, as in Overthere', () => {
    const o = fromOverthere({
      address: 'h',
      username: 'deploy@CORP.EXAMPLE.COM',
      winrmKerberosUseHttpSpn: true,
      winrmKerberosAddPortToSpn: 'true',
      winrmKerberosDebug: false,
      winrmKerberosTicketCache: true,
    }) as Record<string, unknown>;
    assert.equal(o.auth, 'kerberos');
    assert.equal(o.kerberosUseHttpSpn, true);
    assert.equal(o.kerberosAddPortToSpn, true);
    assert.equal(
      (
        fromOverthere({
          address: 'h',
          username: 'CORP\\deploy',
          password: 'p',
          winrmEnableHttps: true,
        }) as Record<string, unknown>
      ).auth,
      undefined,
    );
    assert.equal(
      (
        fromOverthere({
          address: 'h',
          username: 'a@B.C',
          password: 'p',
          connectionType: 'WINRM_NATIVE',
          winrsNoecho: true,
        }) as Record<string, unknown>
      ).auth,
      undefined,
    );
    assert.throws(
      () => fromOverthere({ address: 'h', username: 'a@B.C', winrmKerberosTicketCache: false }),
      (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'winrmKerberosTicketCache',
    );
    assert.throws(
      () => fromOverthere({ address: 'h', username: 'u', winrmKerberosDebug: 'yes' }),
      /true or false/,
    );
  });

  it('xs:duration values become milliseconds', () => {
    assert.equal(parseXsDuration('t', 'PT1M30.5S'), 90_500);
    assert.equal(parseXsDuration('t', 'P1DT1H'), 90_000_000);
    assert.throws(() => parseXsDuration('t', '60'), /xs:duration/);
  });

  it('connect() translates an Overthere definition by itself', async () => {
    await assert.rejects(
      connect({ address: 'h', username: 'u', winrmEnvelopSize: 'big' } as never),
      (e: unknown) => e instanceof InvalidArgumentError && e.argument === 'maxEnvelopeSize',
    );
  });
});

describe('Winrs error table', () => {
  const cases: Array<[string, new (...a: never[]) => WinRmError, string, RegExp]> = [
    [
      'Winrs error:WinRM cannot complete the operation. Verify that the specified computer name is valid, that the computer is accessible over the network',
      ConnectionError,
      'unreachable',
      /winrm quickconfig/,
    ],
    ['Winrs error:Access is denied.', AuthenticationError, 'access-denied', /Remote Management Users/],
    [
      'Winrs error:The WinRM client cannot process the request. Unencrypted traffic is currently disabled in the client configuration. Change the client configuration and try the request again.',
      ConnectionError,
      'unencrypted-client',
      /winrm set winrm\/config\/client @\{AllowUnencrypted="true"\}/,
    ],
    [
      'Winrs error:The WinRM client cannot process the request. The authentication mechanism requested by the client is not supported by the server or unencrypted traffic is disabled in the service configuration.',
      AuthenticationError,
      'auth-scheme',
      /winrm set winrm\/config\/service\/Auth @\{Basic="true"\}/,
    ],
    [
      'Winrs error:The WinRM client cannot process the request. If the authentication scheme is different from Kerberos, or if the client computer is not joined to a domain, then HTTPS transport must be used or the destination machine must be added to the TrustedHosts configuration setting.',
      AuthenticationError,
      'trusted-hosts',
      /TrustedHosts="HOST"/,
    ],
    [
      'Winrs error:Invalid use of command line. Type "winrs -?" for help.',
      InvalidArgumentError,
      'usage',
      /report it/,
    ],
  ];
  for (const [stderr, type, kind, remedy] of cases) {
    it(kind, () => {
      const err = winrsFailure(`some output\r\n${stderr}\r\n`, 1);
      assert.ok(err instanceof type, String(err));
      assert.equal(winrsFailureKind(err), kind);
      assert.match(err.message, remedy);
    });
  }
  it('no Winrs error line: no winrs failure (the remote command failed on its own)', () => {
    assert.equal(winrsFailure('The system cannot find the file specified.\r\n', 1), undefined);
  });
});
