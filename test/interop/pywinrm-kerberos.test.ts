/**
 * Debian's pywinrm 0.3.0 with transport='kerberos' (python3-requests-kerberos 0.12 over python3-kerberos, i.e.
 * pykerberos 1.1.14, over MIT) against the mock's Kerberos acceptor, with a ticket from `kinit` in a throw-away
 * realm. What Debian's packages support, as these tests pin it:
 * - Kerberos authentication with mutual authentication (requests-kerberos checks the AP-REP: REQUIRED);
 * - no WinRM message encryption: pykerberos 1.1.14 lacks authGSSWinRMEncryptMessage, so pywinrm sends plain SOAP
 *   ('auto') or refuses ('always'); over plain HTTP this needs AllowUnencrypted=true, as on Windows;
 * - no channel bindings: pykerberos 1.1.14 lacks channelBindings, so over HTTPS a service with
 *   CbtHardeningLevel=Strict refuses it (401) and one with the default works.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type MockServer, type MockServerOptions, startMockServer } from '../../src/mock/index.ts';
import { type Kdc, kdcSkip, startKdc } from '../helpers/kdc.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./pywinrm_run.py', import.meta.url));
const run = promisify(execFile);

function pywinrmSkip(): string | false {
  const k = kdcSkip();
  if (k) return k;
  const probe = spawnSync(PYTHON, ['-c', 'import winrm, requests_kerberos'], { encoding: 'utf8' });
  if (probe.status === 0) return false;
  const reason = `pywinrm with requests_kerberos is not importable by ${PYTHON} (apt-get install -y python3-winrm python3-requests-kerberos)`;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${reason}`);
  process.stderr.write(`\n*** SKIPPING pywinrm Kerberos tests: ${reason} ***\n\n`);
  return `SKIPPED: ${reason}`;
}

interface Result {
  command: string;
  error?: string;
  stdout_b64?: string;
  status_code?: number;
}

describe('pywinrm 0.3.0 (Debian) over Kerberos against the mock acceptor', { skip: pywinrmSkip() }, () => {
  let kdc: Kdc;
  before(async () => {
    kdc = await startKdc();
    await kdc.kinit();
  });
  after(async () => {
    await kdc?.stop();
  });

  async function withMock(options: MockServerOptions, encryption: string, commands: string[]) {
    const mock: MockServer = await startMockServer({
      users: [{ name: 'alice@winrm.test', password: 'unused' }],
      ...options,
      auth: { negotiate: true, kerberos: { keytab: kdc.keytabPath }, ...options.auth },
    });
    try {
      const url = mock.url.replace('127.0.0.1', 'localhost');
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...kdc.env,
        PYWINRM_TRANSPORT: 'kerberos',
        PYWINRM_ENCRYPTION: encryption,
      };
      delete env.REQUESTS_CA_BUNDLE;
      delete env.CURL_CA_BUNDLE;
      const { stdout } = await run(PYTHON, [SCRIPT, url, kdc.user, '', '20', '30', ...commands], {
        env,
        timeout: 60_000,
      });
      const results = stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Result);
      return { results, log: [...mock.requestLog] };
    } finally {
      await mock.close();
    }
  }

  it('runs commands over HTTP with AllowUnencrypted (Debian pywinrm cannot seal Kerberos messages)', async () => {
    const { results, log } = await withMock({ allowUnencrypted: true }, 'auto', ['echo hello', 'whoami']);
    assert.equal(results[0]!.error, undefined);
    assert.equal(Buffer.from(results[0]!.stdout_b64!, 'base64').toString(), 'hello\r\n');
    assert.equal(results[0]!.status_code, 0);
    assert.match(Buffer.from(results[1]!.stdout_b64!, 'base64').toString().toLowerCase(), /winrm\\alice/);
    assert.ok(log.length >= 10 && log.every((e) => e.status === 200 && e.user === 'alice'));
    assert.deepEqual(new Set(log.map((e) => e.authScheme)), new Set(['Negotiate']));
  });

  it('is refused over HTTP at AllowUnencrypted=false (plain SOAP), and refuses message_encryption=always itself', async () => {
    const plain = await withMock({ allowUnencrypted: false }, 'auto', ['echo hello']);
    assert.match(plain.results[0]!.error ?? '', /InvalidCredentialsError/);
    assert.ok(plain.log.length > 0 && plain.log.every((e) => e.status === 401));
    const always = await withMock({ allowUnencrypted: false }, 'always', ['echo hello']);
    assert.match(
      always.results[0]!.error ?? '',
      /message encryption is set to 'always' but .* kerberos does not support it/,
    );
  });

  it('runs a command over HTTPS, and is refused (401) where channel bindings are strict', async () => {
    const ok = await withMock({ https: true }, 'auto', ['echo over tls']);
    assert.equal(ok.results[0]!.error, undefined);
    assert.equal(Buffer.from(ok.results[0]!.stdout_b64!, 'base64').toString(), 'over tls\r\n');
    const strict = await withMock({ https: true, auth: { channelBinding: 'strict' } }, 'auto', [
      'echo over tls',
    ]);
    assert.match(strict.results[0]!.error ?? '', /InvalidCredentialsError/);
    assert.ok(strict.log.every((e) => e.status === 401));
  });
});
