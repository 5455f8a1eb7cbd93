/**
 * Interop over NTLM with message encryption: Debian's pywinrm 0.3.0 (transport='ntlm', which uses
 * python3-requests-ntlm and pywinrm's own encryption code) against the mock left at AllowUnencrypted=false over
 * plain HTTP. Debian's OpenSSL 3 disables MD4, which NTLM needs, so the Python child runs with an OPENSSL_CONF
 * that activates the default and legacy providers (INTEROP.md).
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startMockServer } from '../../src/mock/index.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./pywinrm_run.py', import.meta.url));
const USER = { name: 'interop', password: 'N7lm!Interop', domain: 'WIN-MOCK' };
const run = promisify(execFile);

const probe = spawnSync(PYTHON, ['-c', 'import winrm, requests_ntlm'], { encoding: 'utf8' });
const skip =
  probe.status === 0 || process.env.CI
    ? false
    : `pywinrm with requests_ntlm is not importable by ${PYTHON} (apt-get install -y python3-winrm); skipped outside CI`;

const OPENSSL_LEGACY = `openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
`;

describe('pywinrm 0.3.0 over NTLM with message encryption', { skip }, () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'winrm-interop-'));
    writeFileSync(join(dir, 'openssl.cnf'), OPENSSL_LEGACY);
    env = { ...process.env, OPENSSL_CONF: join(dir, 'openssl.cnf'), PYWINRM_TRANSPORT: 'ntlm' };
    delete env.REQUESTS_CA_BUNDLE;
    delete env.CURL_CA_BUNDLE;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function pywinrm(
    url: string,
    user: string,
    password: string,
    commands: string[],
    extra: NodeJS.ProcessEnv = {},
  ) {
    const { stdout } = await run(PYTHON, [SCRIPT, url, user, password, '20', '30', ...commands], {
      env: { ...env, ...extra },
      timeout: 60_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            command: string;
            error?: string;
            stdout_b64?: string;
            stderr_b64?: string;
            status_code?: number;
          },
      );
  }

  it('is importable (CI installs python3-winrm and python3-requests-ntlm)', () => {
    assert.equal(probe.status, 0, probe.stderr);
  });

  for (const encryption of ['auto', 'always'] as const) {
    it(`runs commands over HTTP with AllowUnencrypted=false (message_encryption='${encryption}')`, async () => {
      const mock = await startMockServer({ auth: { negotiate: true }, users: [USER] });
      try {
        const results = await pywinrm(
          mock.url,
          `${USER.domain}\\${USER.name}`,
          USER.password,
          ['echo sealed both ways', 'echo oops>&2& exit /b 5', 'mock-output 300000'],
          { PYWINRM_ENCRYPTION: encryption },
        );
        for (const r of results) assert.equal(r.error, undefined, r.error);
        const [echo, err, big] = results;
        assert.equal(Buffer.from(echo!.stdout_b64!, 'base64').toString(), 'sealed both ways\r\n');
        assert.equal(Buffer.from(err!.stderr_b64!, 'base64').toString(), 'oops\r\n');
        assert.equal(err!.status_code, 5);
        assert.equal(Buffer.from(big!.stdout_b64!, 'base64').length, 300_000);
        const soap = mock.requestLog.filter((e) => e.action !== undefined);
        assert.ok(soap.length >= 15, 'every SOAP request reached the service');
        assert.ok(soap.every((e) => e.authScheme === 'Negotiate' || e.authScheme === undefined));
        assert.equal(mock.shells().length, 0);
      } finally {
        await mock.close();
      }
    });
  }

  it('a wrong password gets HTTP 401 (pywinrm reports it), not a crash of the mock', async () => {
    const mock = await startMockServer({ auth: { negotiate: true }, users: [USER] });
    try {
      const [r] = await pywinrm(mock.url, `${USER.domain}\\${USER.name}`, 'wrong-password', ['echo never']);
      assert.match(r!.error ?? '', /InvalidCredentialsError|401|Unauthorized/i);
      assert.ok(mock.requestLog.some((e) => e.status === 401));
      // The mock is still serving.
      const [ok] = await pywinrm(mock.url, `${USER.domain}\\${USER.name}`, USER.password, ['echo still up']);
      assert.equal(Buffer.from(ok!.stdout_b64!, 'base64').toString(), 'still up\r\n');
    } finally {
      await mock.close();
    }
  });

  it('a plaintext request on an HTTP connection is refused as Windows refuses it', async () => {
    const mock = await startMockServer({ auth: { negotiate: true }, users: [USER] });
    try {
      const [r] = await pywinrm(mock.url, `${USER.domain}\\${USER.name}`, USER.password, ['echo clear'], {
        PYWINRM_ENCRYPTION: 'never',
      });
      assert.match(r!.error ?? '', /401|InvalidCredentials|Unauthorized/i);
    } finally {
      await mock.close();
    }
  });
});
