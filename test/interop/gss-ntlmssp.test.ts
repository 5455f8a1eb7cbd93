/**
 * Interop with an independent SPNEGO/NTLM initiator: MIT's SPNEGO (python3-gssapi) wrapping Debian's gss-ntlmssp,
 * credentials from an NTLM_USER_FILE. The script authenticates under `Negotiate`, then seals an Identify with GSS
 * wrap in the [MS-WSMV] multipart/encrypted framing and unwraps the mock's sealed answer, which proves both sides
 * agree on the keys, the mechListMIC and the RC4 state after it.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { authenticateHasMic, peekMessageType } from '../../src/auth/ntlm/messages.ts';
import { decodeNegTokenInit, decodeNegTokenResp, NegState, OID } from '../../src/auth/spnego.ts';
import { type MockServer, startMockServer } from '../../src/mock/index.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./gss_ntlmssp_run.py', import.meta.url));
const USER = { name: 'gssuser', password: 'Gss!Ntlm-Interop1', domain: 'WINMOCK' };
const run = promisify(execFile);

const probe = spawnSync(
  PYTHON,
  [
    '-c',
    "import gssapi, gssapi.raw as r; assert '1.3.6.1.4.1.311.2.2.10' in {m.dotted_form for m in r.indicate_mechs()}",
  ],
  { encoding: 'utf8' },
);
const skip =
  probe.status === 0 || process.env.CI
    ? false
    : `gss-ntlmssp with python3-gssapi is not available to ${PYTHON} (apt-get install -y gss-ntlmssp python3-gssapi); skipped outside CI`;

interface RunResult {
  sent: string[];
  received: (string | null)[];
  statuses: number[];
  complete?: boolean;
  identify_status?: number;
  identify?: string;
  error?: string;
}

describe('gss-ntlmssp through MIT SPNEGO (python3-gssapi)', { skip }, () => {
  let dir: string;
  let mock: MockServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'winrm-gss-'));
    writeFileSync(join(dir, 'users'), `${USER.domain}:${USER.name}:${USER.password}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'wrong'), `${USER.domain}:${USER.name}:not-the-password\n`, { mode: 0o600 });
    mock = await startMockServer({ users: [USER], auth: { negotiate: true } });
  });
  after(async () => {
    await mock.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function gss(userFile: string): Promise<RunResult> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NTLM_USER_FILE: join(dir, userFile),
      GSS_USE_PROXY: 'no',
    };
    delete env.KRB5CCNAME;
    try {
      const { stdout } = await run(PYTHON, [SCRIPT, mock.url, `${USER.domain}\\${USER.name}`], {
        env,
        timeout: 60_000,
      });
      return JSON.parse(stdout) as RunResult;
    } catch (err) {
      const stderr = String((err as { stderr?: string }).stderr ?? '');
      const last = stderr.trim().split('\n').pop() ?? '';
      if (last.startsWith('{')) return JSON.parse(last) as RunResult;
      throw err;
    }
  }

  it('is available (CI installs gss-ntlmssp and python3-gssapi)', () => {
    assert.equal(probe.status, 0, probe.stderr);
  });

  it('authenticates with NTLM in SPNEGO and exchanges a sealed Identify', async () => {
    const r = await gss('users');
    assert.deepEqual(r.statuses, [401, 200], JSON.stringify(r));
    assert.equal(r.complete, true);

    const init = decodeNegTokenInit(Buffer.from(r.sent[0]!, 'base64'));
    assert.deepEqual(init.mechTypes, [OID.ntlm]);
    assert.equal(peekMessageType(init.mechToken!), 1);
    const challenge = decodeNegTokenResp(Buffer.from(r.received[0]!, 'base64'));
    assert.equal(challenge.negState, NegState.acceptIncomplete);
    assert.equal(challenge.supportedMech, OID.ntlm);
    assert.equal(peekMessageType(challenge.responseToken!), 2);

    const last = decodeNegTokenResp(Buffer.from(r.sent[1]!, 'base64'));
    assert.equal(peekMessageType(last.responseToken!), 3);
    assert.equal(authenticateHasMic(last.responseToken!), true, 'gss-ntlmssp sends a MIC');
    assert.equal(last.mechListMIC?.length, 16, 'so MIT SPNEGO sends the mechListMIC');
    const done = decodeNegTokenResp(Buffer.from(r.received[1]!, 'base64'));
    assert.equal(done.negState, NegState.acceptCompleted);
    assert.equal(done.mechListMIC?.length, 16);

    assert.equal(r.identify_status, 200, JSON.stringify(r));
    assert.match(r.identify ?? '', /<wsmid:IdentifyResponse/);
    assert.ok(
      mock.requestLog.some((e) => e.authScheme === 'Negotiate' && e.status === 200 && e.user === USER.name),
    );
  });

  it('a wrong password stops at the 401', async () => {
    const r = await gss('wrong');
    assert.match(r.error ?? '', /HTTP 401/);
    assert.equal(r.identify, undefined);
  });
});
