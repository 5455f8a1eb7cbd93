/** Domain accounts on the mock's command line (`--user 'CORP\alice:pw'`, `--user 'alice@corp.example:pw'`). */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connect } from '../../src/index.ts';
import { parseMockArgs } from '../../src/mock/cli.ts';
import { type MockServer, startMockServer } from '../../src/mock/index.ts';
import { RawClient } from './helpers.ts';

const ALICE_PW = 'Dom4in-Alice!';
const BOB_PW = 'Dom4in-Bob!';

describe('mock CLI --user with domain accounts', () => {
  let mock: MockServer;
  before(async () => {
    const options = parseMockArgs([
      '--auth',
      'ntlm,basic',
      '--allow-unencrypted',
      '--user',
      `CORP\\alice:${ALICE_PW}`,
      '--user',
      `bob@corp.example:${BOB_PW}`,
      '--user',
      'vagrant:vagrant',
    ]);
    mock = await startMockServer(options);
  });
  after(() => mock.close());

  it('parses the names into users with a domain', () => {
    const options = parseMockArgs([
      '--user',
      `CORP\\alice:${ALICE_PW}`,
      '--user',
      `bob@corp.example:${BOB_PW}`,
    ]);
    assert.deepEqual(
      options.users?.map((u) => [u.name, u.domain]),
      [
        ['alice', 'CORP'],
        ['bob', 'CORP'],
      ],
    );
  });

  for (const [username, password] of [
    ['CORP\\alice', ALICE_PW],
    ['alice@corp.example', ALICE_PW],
    ['corp.example\\alice', ALICE_PW],
    ['CORP\\bob', BOB_PW],
    ['bob@corp.example', BOB_PW],
  ] as const) {
    it(`NTLM as ${username} logs in (our client)`, async () => {
      const conn = await connect({ endpoint: mock.url, username, password, auth: 'ntlm' });
      try {
        const r = await conn.execute('whoami');
        assert.equal(r.stdoutText, `corp\\${username.includes('alice') ? 'alice' : 'bob'}\r\n`);
      } finally {
        await conn.close();
      }
    });
  }

  it('NTLM with the wrong domain or password is refused', async () => {
    for (const [username, password] of [
      ['OTHER\\alice', ALICE_PW],
      ['alice@other.example', ALICE_PW],
      ['CORP\\alice', 'wrong'],
    ] as const) {
      await assert.rejects(
        (async () => {
          const conn = await connect({ endpoint: mock.url, username, password, auth: 'ntlm' });
          try {
            await conn.execute('whoami');
          } finally {
            await conn.close();
          }
        })(),
        (e: Error) => /401|authenticat|credentials/i.test(e.message),
        username,
      );
    }
  });

  it('Basic refuses the domain accounts (WinRM Basic is for local accounts) and takes the local one', async () => {
    for (const name of ['CORP\\alice', 'alice', 'alice@corp.example']) {
      const c = new RawClient(mock.url, { user: { name, password: ALICE_PW } });
      try {
        const res = await c.post(c.ctx().messageId);
        assert.equal(res.status, 401, name);
      } finally {
        c.close();
      }
    }
    const local = new RawClient(mock.url, { user: { name: 'vagrant', password: 'vagrant' } });
    try {
      const shellId = await local.createShell();
      await local.deleteShell(shellId);
    } finally {
      local.close();
    }
  });

  it('a name the account parser refuses is a usage error naming --user, without the password', () => {
    assert.throws(
      () => parseMockArgs(['--user', 'a\\b\\c:Secret-Pw']),
      (e: Error) => /--user/.test(e.message) && !e.message.includes('Secret-Pw'),
    );
  });
});

const PYTHON = '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import winrm, requests_ntlm'], { encoding: 'utf8' });
const skip = probe.status === 0 ? false : `pywinrm with requests_ntlm is not importable by ${PYTHON}`;

describe('pywinrm NTLM as CORP\\alice against `--user CORP\\alice:pw`', { skip }, () => {
  it('runs a command', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'winrm-domain-'));
    // Debian's OpenSSL 3 disables MD4, which NTLM needs (see test/interop/pywinrm-ntlm.test.ts).
    writeFileSync(
      join(dir, 'openssl.cnf'),
      'openssl_conf = openssl_init\n[openssl_init]\nproviders = provider_sect\n[provider_sect]\n' +
        'default = default_sect\nlegacy = legacy_sect\n[default_sect]\nactivate = 1\n[legacy_sect]\nactivate = 1\n',
    );
    const mock = await startMockServer(
      parseMockArgs(['--auth', 'ntlm', '--user', `CORP\\alice:${ALICE_PW}`]),
    );
    try {
      const script = fileURLToPath(new URL('../interop/pywinrm_run.py', import.meta.url));
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        OPENSSL_CONF: join(dir, 'openssl.cnf'),
        PYWINRM_TRANSPORT: 'ntlm',
      };
      const { stdout } = await promisify(execFile)(
        PYTHON,
        [script, mock.url, 'CORP\\alice', ALICE_PW, '20', '30', 'whoami'],
        { env, timeout: 60_000 },
      );
      const [r] = stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { error?: string; stdout_b64?: string });
      assert.equal(r?.error, undefined, r?.error);
      assert.equal(Buffer.from(r!.stdout_b64!, 'base64').toString(), 'corp\\alice\r\n');
    } finally {
      await mock.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
