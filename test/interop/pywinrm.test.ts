/**
 * Interop with an independent client: Debian's pywinrm 0.3.0 (`python3-winrm`, /usr/bin/python3) runs
 * Session.run_cmd against the mock over HTTP (Basic, allowUnencrypted) and HTTPS. Skipped with a reason when
 * pywinrm is missing on a developer machine; under CI a missing pywinrm fails.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type MockServer, runMockCli, startMockServer } from '../../src/mock/index.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./pywinrm_run.py', import.meta.url));
const USER = { name: 'vagrant', password: 'vagrant' };
const run = promisify(execFile);

const probe = spawnSync(PYTHON, ['-c', 'import winrm'], { encoding: 'utf8' });
const available = probe.status === 0;
const skip = available
  ? false
  : process.env.CI
    ? false
    : `pywinrm is not importable by ${PYTHON} (apt-get install -y python3-winrm); skipped outside CI`;

interface PyResult {
  command: string;
  stdout: Buffer;
  stderr: Buffer;
  status_code: number;
}

/** pywinrm 0.3.0 lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override server_cert_validation='ignore'. */
function pythonEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.REQUESTS_CA_BUNDLE;
  delete env.CURL_CA_BUNDLE;
  return env;
}

async function pywinrm(
  url: string,
  commands: string[],
  timeouts: [number, number] = [20, 30],
): Promise<PyResult[]> {
  const { stdout } = await run(
    PYTHON,
    [SCRIPT, url, USER.name, USER.password, String(timeouts[0]), String(timeouts[1]), ...commands],
    { env: pythonEnv(), timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout
    .trim()
    .split('\n')
    .map((line) => {
      const r = JSON.parse(line) as {
        command: string;
        error?: string;
        stdout_b64: string;
        stderr_b64: string;
        status_code: number;
      };
      if (r.error) throw new Error(`pywinrm failed on "${r.command}": ${r.error}`);
      return {
        command: r.command,
        stdout: Buffer.from(r.stdout_b64, 'base64'),
        stderr: Buffer.from(r.stderr_b64, 'base64'),
        status_code: r.status_code,
      };
    });
}

function receiveTimeouts(mock: MockServer): number {
  return mock.requestLog.filter(
    (e) => e.action === 'Receive' && e.status === 500 && e.faultCode === 2150858793,
  ).length;
}

describe('pywinrm 0.3.0 against the mock', { skip }, () => {
  it('is importable (CI installs python3-winrm)', () => {
    assert.equal(probe.status, 0, `${PYTHON} -c "import winrm" failed: ${probe.stderr}`);
  });

  for (const https of [false, true]) {
    it(`run_cmd over ${https ? 'HTTPS' : 'HTTP (allowUnencrypted)'}: stdout, stderr, exit codes, large output`, async () => {
      const mock = await startMockServer({
        auth: { basic: true },
        allowUnencrypted: !https,
        https,
        users: [USER],
      });
      try {
        const results = await pywinrm(mock.url, [
          'echo hello world',
          'nosuchcommand',
          'echo to stderr>&2& exit /b 3',
          'mock-output 400000',
          'echo é½',
        ]);
        const [echo, missing, stderr, big, oem] = results;
        assert.equal(echo!.stdout.toString(), 'hello world\r\n');
        assert.equal(echo!.status_code, 0);
        assert.equal(
          missing!.stderr.toString(),
          "'nosuchcommand' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n",
        );
        assert.equal(missing!.status_code, 1);
        assert.equal(stderr!.stderr.toString(), 'to stderr\r\n');
        assert.equal(stderr!.status_code, 3);
        assert.equal(big!.stdout.length, 400_000, 'output split over pywinrm’s 153600-byte MaxEnvelopeSize');
        // pywinrm asks for WINRS_CODEPAGE 437.
        assert.deepEqual(oem!.stdout, Buffer.from([0x82, 0xab, 0x0d, 0x0a]));
        const receives = mock.requestLog.filter((e) => e.action === 'Receive');
        assert.ok(receives.every((e) => e.responseBytes <= 153_600));
        assert.equal(mock.shells().length, 0, 'run_cmd deleted its shells');
        assert.equal(mock.stats.byAction.Signal, 5, 'one terminate per command');
      } finally {
        await mock.close();
      }
    });
  }

  it('a command silent longer than OperationTimeout: pywinrm sees TimedOut and polls again', async () => {
    const mock = await startMockServer({ auth: { basic: true }, allowUnencrypted: true, users: [USER] });
    try {
      const [r] = await pywinrm(mock.url, ['mock-sleep 3000 & echo awake'], [1, 2]);
      assert.equal(r!.stdout.toString(), 'awake\r\n');
      assert.equal(r!.status_code, 0);
      assert.ok(receiveTimeouts(mock) >= 2, `${receiveTimeouts(mock)} TimedOut faults`);
    } finally {
      await mock.close();
    }
  });

  it('the local host (/bin/sh): a real 3 s sleep across OperationTimeout polls', async () => {
    const mock = await startMockServer({
      auth: { basic: true },
      allowUnencrypted: true,
      users: [USER],
      commandHost: 'local',
    });
    try {
      const [r] = await pywinrm(mock.url, ['sleep 3; echo slept; echo oops >&2; exit 4'], [1, 2]);
      assert.equal(r!.stdout.toString(), 'slept\n');
      assert.equal(r!.stderr.toString(), 'oops\n');
      assert.equal(r!.status_code, 4);
      assert.ok(receiveTimeouts(mock) >= 2);
    } finally {
      await mock.close();
    }
  });

  it('Basic over HTTP without allowUnencrypted is refused as Windows refuses it (401 → InvalidCredentialsError)', async () => {
    const mock = await startMockServer({ auth: { basic: true }, users: [USER] });
    try {
      await assert.rejects(pywinrm(mock.url, ['echo x']), /InvalidCredentialsError/);
    } finally {
      await mock.close();
    }
  });

  it('`winrm-connection mock --port 0 ...` prints a URL pywinrm can use', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => {
      text += c.toString();
    });
    const stop = new AbortController();
    const done = runMockCli(['--port', '0', '--auth', 'basic', '--allow-unencrypted'], {
      stdout: out,
      stderr: new PassThrough(),
      signal: stop.signal,
    });
    for (let i = 0; i < 200 && !text.includes('\n'); i++) await new Promise((r) => setTimeout(r, 25));
    const url = text.split('\n')[0]!;
    try {
      const [r] = await pywinrm(url, ['hostname']);
      assert.equal(r!.stdout.toString(), 'WIN-MOCK\r\n');
    } finally {
      stop.abort();
      assert.equal(await done, 0);
    }
  });
});
