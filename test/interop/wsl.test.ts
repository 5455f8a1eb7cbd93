/**
 * Interop with an independent client: Debian's `wsl` ("whistle", a bash WS-Management client by Dell, package
 * `wsl`) sends Identify (`wslid check`) to the mock over HTTP (Basic, allowUnencrypted) and HTTPS (self-signed
 * certificate, not verified), through both of its drivers: curl (Basic sent preemptively) and wget (Basic sent
 * after the 401 challenge). Evidence that the mock's HTTP layer answers an unrelated client as Windows does.
 *
 * wsl is configured without prompts: HOME is a fresh directory holding `~/.wsl-config` (a shell fragment sourced
 * by /usr/share/wsl/wsl-functions) that sets the endpoint, credentials, HTTP vs HTTPS, the driver, no history
 * file and no interactive questions. It runs in its own working directory, where it writes request-1.xml,
 * response-1.xml, response.xml and log.txt, and with stdin closed. Not installed → the test fails (CI installs it).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MOCK_DEFAULTS, type MockServer, startMockServer } from '../../src/mock/index.ts';

const WSLID = '/usr/bin/wslid';
const USER = { name: 'vagrant', password: 'vagrant' };
const installed = existsSync(WSLID);

type Driver = 'curl' | 'wget';

interface WslResult {
  /** wslid's exit status: the status of curl or wget. */
  status: number | null;
  /** stdout without the ANSI colour codes wsl wraps its output in. */
  stdout: string;
  stderr: string;
  /** log.txt: curl's `-D -` response headers (OUTLEVEL 3) or wget's progress log. */
  log: string;
  /** response.xml, the answer as wsl saved it (reformatted by xmllint). */
  response: string;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences
const ANSI = /\u001b\[[0-9;]*m/g;

/** Runs `wslid check` against 127.0.0.1:<mock port>, configured only through ~/.wsl-config. */
async function wslid(mock: MockServer, opts: { driver: Driver; password?: string }): Promise<WslResult> {
  const dir = await mkdtemp(join(tmpdir(), 'wsl-interop-'));
  try {
    const home = join(dir, 'home');
    const work = join(dir, 'work');
    await mkdir(home);
    await mkdir(work);
    const config = [
      `WSENDPOINT=127.0.0.1:${mock.port}`, // host:port; without a port wsl appends :443
      `WSUSER=${USER.name}`,
      `WSPASS=${opts.password ?? USER.password}`,
      'WSAUTOMATED=1', // never ask for endpoint or credentials
      'IPINTERACTIVE=0',
      'KEEPHISTORY=0', // no .wslrun history file (it would hold the password)
      'OUTLEVEL=3', // curl gets -D -: response headers land in log.txt
      'WGETTIMEOUTSECS=20',
      'WGETTRYNUM=1',
      ...(mock.https ? [] : ['WSNOSSL=true']), // HTTPS (--insecure / --no-check-certificate) unless this is set
      ...(opts.driver === 'wget' ? ['USEWGET=true'] : []),
      '',
    ].join('\n');
    await writeFile(join(home, '.wsl-config'), config, { mode: 0o600 });
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LANG: 'C.UTF-8' };
    const { status, stdout, stderr } = await new Promise<{
      status: number | null;
      stdout: string;
      stderr: string;
    }>((resolve) => {
      const child = execFile(
        WSLID,
        ['check'],
        { cwd: work, env, timeout: 60_000, killSignal: 'SIGKILL', encoding: 'utf8' },
        (err, out, errOut) => {
          const code = err && typeof err.code === 'number' ? err.code : err ? null : 0;
          resolve({ status: code, stdout: out, stderr: errOut });
        },
      );
      child.stdin?.end(); // a prompt would read EOF, not hang on a terminal
    });
    const read = (name: string) => readFile(join(work, name), 'utf8').catch(() => '');
    return {
      status,
      stdout: stdout.replace(ANSI, ''),
      stderr,
      log: await read('log.txt'),
      response: await read('response.xml'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function identifyValues(productVersion: string, https: boolean): string[] {
  return [
    '<wsmid:ProtocolVersion>http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd</wsmid:ProtocolVersion>',
    '<wsmid:ProductVendor>Microsoft Corporation</wsmid:ProductVendor>',
    `<wsmid:ProductVersion>OS: ${productVersion} SP: 0.0 Stack: 3.0</wsmid:ProductVersion>`,
    `<wsmid:SecurityProfileName>http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/${https ? 'https' : 'http'}/basic</wsmid:SecurityProfileName>`,
  ];
}

function describeRun(r: WslResult): string {
  return `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}\n--- log.txt\n${r.log}`;
}

describe('Debian wsl (wslid) against the mock', () => {
  it(`is installed at ${WSLID}`, () => {
    assert.ok(installed, `${WSLID} not found: run \`apt-get install wsl\` (CI installs it)`);
  });

  for (const driver of ['curl', 'wget'] as const) {
    for (const https of [false, true]) {
      const productVersion = https ? '10.0.20348' : MOCK_DEFAULTS.productVersion;
      it(`${driver}: Identify over ${https ? 'HTTPS (certificate not verified)' : 'HTTP (Basic, allowUnencrypted)'}`, {
        skip: !installed && 'wsl is not installed (see the failure above)',
      }, async () => {
        const mock = await startMockServer({
          auth: { basic: true },
          allowUnencrypted: !https,
          https,
          users: [USER],
          productVersion,
        });
        try {
          const r = await wslid(mock, { driver });
          assert.equal(r.status, 0, describeRun(r));
          for (const v of identifyValues(productVersion, https)) {
            assert.ok(r.stdout.includes(v), `stdout lacks ${v}\n${describeRun(r)}`);
            assert.ok(r.response.includes(v), `response.xml lacks ${v}`);
          }
          assert.match(r.stdout, /<wsmid:IdentifyResponse /);
          assert.doesNotMatch(r.stdout, /is empty|not in SOAP format/);

          if (driver === 'curl') {
            // Basic sent with the first request: one 200, with Windows' Server header and content type.
            assert.match(r.log, /HTTP\/1\.1 200 OK\r$/m, r.log);
            assert.match(r.log, /^Server: Microsoft-HTTPAPI\/2\.0\r$/m);
            assert.match(r.log, /^Content-Type: application\/soap\+xml;charset=UTF-8\r$/m);
            assert.equal(mock.stats.requests, 1);
            assert.equal(mock.stats.authChallenges, 0);
          } else {
            // wget sends credentials only after a challenge: 401 (Basic realm="WSMAN"), then 200 on the same socket.
            assert.match(r.log, /awaiting response\.\.\. 401 \n/, r.log);
            assert.match(r.log, /Authentication selected: Basic realm="WSMAN"/);
            assert.match(r.log, /Reusing existing connection/);
            assert.match(r.log, /awaiting response\.\.\. 200 OK/);
            assert.match(r.log, /Length: \d+ \[application\/soap\+xml\]/);
            assert.equal(mock.stats.requests, 2);
            assert.equal(mock.stats.authChallenges, 1);
            assert.equal(mock.stats.connections, 1, 'keep-alive across the 401');
            const [challenged] = mock.requestLog;
            assert.equal(challenged!.status, 401);
            assert.equal(challenged!.authScheme, undefined);
          }
          assert.ok((mock.stats.byAction.Identify ?? 0) >= 1, JSON.stringify(mock.stats));
          const identify = mock.requestLog.filter((e) => e.action === 'Identify');
          assert.equal(identify.length, 1, JSON.stringify(mock.requestLog));
          assert.equal(identify[0]!.status, 200);
          assert.equal(identify[0]!.authScheme, 'Basic');
          assert.equal(identify[0]!.user, USER.name);
          assert.equal(identify[0]!.method, 'POST');
          assert.equal(identify[0]!.path, '/wsman');
          assert.equal(mock.stats.faults, 0);
        } finally {
          await mock.close();
        }
      });
    }
  }

  it('curl, wrong password: 401, wsl reports an empty response and prints no IdentifyResponse', {
    skip: !installed && 'wsl is not installed (see the failure above)',
  }, async () => {
    const mock = await startMockServer({ auth: { basic: true }, allowUnencrypted: true, users: [USER] });
    try {
      const r = await wslid(mock, { driver: 'curl', password: 'wrong' });
      // curl runs without --fail, so its status (and wslid's) stays 0; wsl says so in words instead.
      assert.equal(r.status, 0, describeRun(r));
      assert.match(
        r.stdout,
        /file \.\/response-1\.xml is empty, verify credentials and check \.\/log\.txt\./,
      );
      for (const v of ['IdentifyResponse', 'Microsoft Corporation', 'ProductVersion', 'ProtocolVersion']) {
        assert.ok(!r.stdout.includes(v), `stdout shows ${v}\n${describeRun(r)}`);
      }
      assert.equal(r.response, '');
      assert.match(r.log, /HTTP\/1\.1 401 \r$/m, r.log);
      assert.match(r.log, /^WWW-Authenticate: Basic realm="WSMAN"\r$/m);
      assert.match(r.log, /^Content-Length: 0\r$/m);
      assert.equal(mock.stats.byAction.Identify, undefined, 'refused before the body is read');
      assert.deepEqual(
        mock.requestLog.map((e) => [e.status, e.authScheme, e.user]),
        [[401, 'Basic', undefined]],
      );
      assert.equal(mock.stats.authChallenges, 1);
    } finally {
      await mock.close();
    }
  });

  it('wget, wrong password: exit 6 (authentication failure) and no IdentifyResponse', {
    skip: !installed && 'wsl is not installed (see the failure above)',
  }, async () => {
    const mock = await startMockServer({ auth: { basic: true }, allowUnencrypted: true, users: [USER] });
    try {
      const r = await wslid(mock, { driver: 'wget', password: 'wrong' });
      assert.equal(r.status, 6, describeRun(r));
      assert.match(r.log, /Username\/Password Authentication Failed\./);
      for (const v of ['IdentifyResponse', 'Microsoft Corporation', 'ProductVersion', 'ProtocolVersion']) {
        assert.ok(!r.stdout.includes(v), `stdout shows ${v}\n${describeRun(r)}`);
      }
      assert.equal(mock.stats.byAction.Identify, undefined);
      assert.deepEqual(
        mock.requestLog.map((e) => [e.status, e.authScheme]),
        [
          [401, undefined],
          [401, 'Basic'],
        ],
      );
    } finally {
      await mock.close();
    }
  });

  it('Basic over HTTP without allowUnencrypted is refused as Windows refuses it (401, no IdentifyResponse)', {
    skip: !installed && 'wsl is not installed (see the failure above)',
  }, async () => {
    const mock = await startMockServer({ auth: { basic: true }, users: [USER] });
    try {
      const r = await wslid(mock, { driver: 'curl' });
      assert.match(r.log, /HTTP\/1\.1 401 \r$/m, r.log);
      assert.match(r.stdout, /is empty, verify credentials/);
      assert.ok(!r.stdout.includes('IdentifyResponse'), describeRun(r));
      assert.deepEqual(
        mock.requestLog.map((e) => e.status),
        [401],
      );
    } finally {
      await mock.close();
    }
  });
});
