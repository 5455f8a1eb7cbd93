/**
 * `doctor` (src/doctor/checks.ts, src/cli/doctor.ts) against the mock made healthy, and made to fail one step at a
 * time: each failure names its step and the seed's remedy, and the steps after it are skipped.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { main } from '../src/cli/main.ts';
import { type DoctorReport, runDoctor } from '../src/doctor/checks.ts';
import { connect } from '../src/index.ts';
import { type MockServer, type MockServerOptions, startMockServer } from '../src/mock/index.ts';

const USER = { name: 'doctoradmin', password: 'Doc-Pass-2026' };

async function withMock<T>(opts: MockServerOptions, fn: (mock: MockServer) => Promise<T>): Promise<T> {
  const mock = await startMockServer({ users: [USER], ...opts });
  try {
    return await fn(mock);
  } finally {
    await mock.close();
  }
}

function step(report: DoctorReport, id: string) {
  const s = report.steps.find((x) => x.id === id);
  assert.ok(s, `no step ${id} in ${JSON.stringify(report.steps)}`);
  return s;
}

/** The first non-pass, non-skip step, and that every step after it was skipped. */
function firstFailure(report: DoctorReport) {
  const i = report.steps.findIndex((s) => s.status === 'fail');
  assert.ok(i >= 0, `no failed step: ${JSON.stringify(report.steps)}`);
  for (const later of report.steps.slice(i + 1)) assert.equal(later.status, 'skip', later.id);
  return report.steps[i]!;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function capture() {
  let text = '';
  return {
    stream: {
      write: (c: string | Buffer) => {
        text += String(c);
        return true;
      },
    } as unknown as NodeJS.WritableStream,
    text: () => text,
  };
}

describe('doctor', () => {
  it('a healthy mock passes every step', async () => {
    await withMock({ auth: { basic: true }, allowUnencrypted: true }, async (mock) => {
      const report = await runDoctor({
        endpoint: mock.url,
        username: USER.name,
        password: USER.password,
        allowUnencrypted: true,
      });
      for (const s of report.steps) {
        // TLS has nothing to check over plain HTTP.
        assert.ok(
          s.status === 'pass' || (s.id === 'tls' && s.status === 'skip'),
          `${s.id}: ${s.status} ${s.detail}`,
        );
      }
      assert.deepEqual(
        report.steps.map((s) => s.id),
        [
          'dns',
          'tcp',
          'tls',
          'identify',
          'schemes',
          'authenticate',
          'config',
          'listeners',
          'service',
          'command',
        ],
      );
      assert.equal(report.worst, 'pass');
    });
  });

  it('a healthy HTTPS mock shows the SHA-1 thumbprint as Windows does, and a matching pin passes', async () => {
    await withMock({ https: true, auth: { basic: true } }, async (mock) => {
      const sha1 = mock.thumbprints!.sha1;
      const report = await runDoctor({
        endpoint: mock.url,
        username: USER.name,
        password: USER.password,
        tls: { fingerprint: sha1.toLowerCase() },
      });
      assert.equal(step(report, 'tls').status, 'pass');
      assert.match(step(report, 'tls').detail, new RegExp(`SHA-1 thumbprint ${sha1}\\b`));
      assert.equal(report.worst, 'pass', JSON.stringify(report.steps));
    });
  });

  it('a name that cannot resolve fails at name resolution, and every later step is skipped', async () => {
    // .invalid never resolves (RFC 6761 6.4); a resolver that does not answer hits the step deadline instead.
    const report = await runDoctor({
      host: 'winrm-doctor.invalid',
      username: USER.name,
      password: USER.password,
      allowUnencrypted: true,
      stepTimeoutMs: 5000,
    });
    const failed = firstFailure(report);
    assert.equal(failed.id, 'dns');
    assert.match(failed.detail, /winrm-doctor\.invalid does not resolve/);
    assert.equal(report.steps.length, 10);
  });

  it('a closed port fails at TCP connect', async () => {
    const port = await freePort();
    const report = await runDoctor({
      host: '127.0.0.1',
      port,
      username: USER.name,
      password: USER.password,
      allowUnencrypted: true,
    });
    const failed = firstFailure(report);
    assert.equal(failed.id, 'tcp');
    assert.match(failed.detail, /ECONNREFUSED/);
    assert.match(failed.remedy ?? '', /winrm quickconfig/);
    assert.equal(report.worst, 'fail');
  });

  it('a wrong password fails at authenticated Identify, naming the credentials', async () => {
    await withMock({ auth: { basic: true }, allowUnencrypted: true }, async (mock) => {
      const report = await runDoctor({
        endpoint: mock.url,
        username: USER.name,
        password: 'not-the-password',
        allowUnencrypted: true,
      });
      const failed = firstFailure(report);
      assert.equal(failed.id, 'authenticate');
      assert.match(failed.detail, /offers Basic/);
      assert.match(failed.remedy ?? '', /user name and password/);
      assert.doesNotMatch(JSON.stringify(report), /not-the-password/);
    });
  });

  it('a wrong pinned thumbprint fails at TLS', async () => {
    await withMock({ https: true, auth: { basic: true } }, async (mock) => {
      const wrong = 'AB'.repeat(20);
      const report = await runDoctor({
        endpoint: mock.url,
        username: USER.name,
        password: USER.password,
        tls: { fingerprint: wrong },
      });
      const failed = firstFailure(report);
      assert.equal(failed.id, 'tls');
      assert.match(
        failed.detail,
        new RegExp(`pinned SHA1 thumbprint ${wrong} differs \\(served: ${mock.thumbprints!.sha1}\\)`),
      );
      assert.match(failed.remedy ?? '', /CertificateThumbprint=/);
    });
  });

  it('Basic disabled on the server fails naming winrm set winrm/config/service/auth @{Basic="true"}', async () => {
    await withMock({ auth: { basic: false, negotiate: true }, allowUnencrypted: true }, async (mock) => {
      const report = await runDoctor({
        endpoint: mock.url,
        username: USER.name,
        password: USER.password,
        allowUnencrypted: true,
      });
      // Found at the schemes step, before credentials are tried: the 401 offers no Basic.
      const failed = firstFailure(report);
      assert.equal(failed.id, 'schemes');
      assert.equal(failed.title, 'Authentication schemes offered (WWW-Authenticate)');
      assert.match(failed.detail, /^basic needs Basic, the server offers Negotiate$/);
      assert.equal(step(report, 'identify').status, 'pass');
      assert.ok(
        failed.remedy?.includes('winrm set winrm/config/service/auth @{Basic="true"}'),
        String(failed.remedy),
      );
    });
  });

  it('AllowUnencrypted false on the server over HTTP: Basic is not offered, the schemes step names AllowUnencrypted', async () => {
    await withMock({ auth: { basic: true }, allowUnencrypted: false }, async (mock) => {
      const report = await runDoctor({
        endpoint: mock.url,
        username: USER.name,
        password: USER.password,
        allowUnencrypted: true,
      });
      const failed = firstFailure(report);
      assert.equal(failed.id, 'schemes');
      assert.ok(
        failed.remedy?.includes('winrm set winrm/config/service @{AllowUnencrypted="true"}'),
        String(failed.remedy),
      );
    });
  });

  it('NTLM chosen, Negotiate disabled on the server: the schemes step names @{Negotiate="true"}', async () => {
    await withMock({ auth: { basic: true, negotiate: false }, allowUnencrypted: true }, async (mock) => {
      const report = await runDoctor({
        endpoint: mock.url,
        username: USER.name,
        password: USER.password,
        auth: 'ntlm',
      });
      const failed = firstFailure(report);
      assert.equal(failed.id, 'schemes', JSON.stringify(report.steps));
      assert.match(failed.detail, /^ntlm needs Negotiate or NTLM, the server offers Basic$/);
      assert.ok(
        failed.remedy?.startsWith(
          'enable it on the host: winrm set winrm/config/service/auth @{Negotiate="true"}',
        ),
        String(failed.remedy),
      );
      assert.match(failed.remedy ?? '', /--auth/);
    });
  });

  it('healthy NTLM over HTTP: the schemes step passes, naming what the server offers', async () => {
    await withMock({ auth: { negotiate: true } }, async (mock) => {
      const report = await runDoctor({
        endpoint: mock.url,
        username: USER.name,
        password: USER.password,
        auth: 'ntlm',
      });
      assert.equal(step(report, 'schemes').status, 'pass', JSON.stringify(report.steps));
      assert.match(step(report, 'schemes').detail, /offers Negotiate/);
      assert.equal(step(report, 'authenticate').status, 'pass', JSON.stringify(report.steps));
    });
  });

  it('TLS by an address the certificate does not name: verifyHostname false passes as the client does, true fails naming the host', async () => {
    // Bound to every address, reached as 127.0.0.2 (loopback on Linux), which is not in the certificate.
    await withMock({ https: true, host: '0.0.0.0', auth: { basic: true } }, async (mock) => {
      const endpoint = `https://127.0.0.2:${mock.port}/wsman`;
      const base = { endpoint, username: USER.name, password: USER.password };
      const ca = mock.certificatePem!;
      // The client itself connects with verifyHostname: false...
      const conn = await connect({ ...base, tls: { ca, verifyHostname: false } });
      await conn.close();
      // ...so doctor must not fail the TLS step.
      const relaxed = await runDoctor({ ...base, tls: { ca, verifyHostname: false } });
      assert.equal(step(relaxed, 'tls').status, 'pass', JSON.stringify(relaxed.steps));
      assert.match(step(relaxed, 'tls').detail, /trusted; hostname not checked \(verifyHostname: false\)/);
      assert.equal(relaxed.worst, 'pass', JSON.stringify(relaxed.steps));
      // A pin with verifyHostname: false passes too.
      const pinned = await runDoctor({
        ...base,
        tls: { fingerprint: mock.thumbprints!.sha1, verifyHostname: false },
      });
      assert.equal(step(pinned, 'tls').status, 'pass', JSON.stringify(pinned.steps));
      // With the name check on, the client refuses, and so does doctor, at TLS, naming the host.
      const strict = await runDoctor({ ...base, tls: { ca } });
      const failed = firstFailure(strict);
      assert.equal(failed.id, 'tls');
      assert.match(failed.detail, /not issued to 127\.0\.0\.2/);
      assert.match(failed.remedy ?? '', /verifyHostname: false/);
    });
  });

  it('low winrm/config/winrs quotas warn (not fail) and the CLI exits 1', async () => {
    const quotas = { maxShellsPerUser: 2, maxMemoryPerShellMB: 100 };
    await withMock({ auth: { basic: true }, allowUnencrypted: true, quotas }, async (mock) => {
      const options = {
        endpoint: mock.url,
        username: USER.name,
        password: USER.password,
        allowUnencrypted: true,
      };
      const report = await runDoctor(options);
      const config = step(report, 'config');
      assert.equal(config.status, 'warn', config.detail);
      assert.match(config.detail, /MaxShellsPerUser is 2 \(below 5\)/);
      assert.match(config.detail, /MaxMemoryPerShellMB is 100 \(below 150\)/);
      assert.match(config.remedy ?? '', /winrm set winrm\/config\/winrs @\{MaxShellsPerUser="5"\}/);
      assert.equal(step(report, 'command').status, 'pass');
      assert.equal(report.worst, 'warn');
      const out = capture();
      const args = ['doctor', '--endpoint', mock.url, '-u', USER.name, '--allow-unencrypted'];
      const code = await main(args, {
        stdout: out.stream,
        stderr: out.stream,
        env: { WINRM_PASSWORD: USER.password },
      });
      assert.equal(code, 1, out.text());
      assert.match(out.text(), /^\[WARN\] winrm\/config settings: .* Fix: /m);
    });
  });

  it('CLI: --json output parses; text lines are [PASS] title: detail; exit codes by the worst finding', async () => {
    await withMock({ auth: { basic: true }, allowUnencrypted: true }, async (mock) => {
      const env = { WINRM_PASSWORD: USER.password };
      const args = ['doctor', '--endpoint', mock.url, '-u', USER.name, '--allow-unencrypted'];
      const out = capture();
      const err = capture();
      assert.equal(
        await main([...args, '--json'], { stdout: out.stream, stderr: err.stream, env }),
        0,
        err.text(),
      );
      const report = JSON.parse(out.text()) as DoctorReport;
      assert.equal(report.worst, 'pass');
      assert.equal(report.steps.length, 10);

      const text = capture();
      assert.equal(await main(args, { stdout: text.stream, stderr: err.stream, env }), 0, err.text());
      assert.match(text.text(), /^\[PASS\] Authenticated Identify \(winrm id\): /m);

      const bad = capture();
      const code = await main(args, {
        stdout: bad.stream,
        stderr: err.stream,
        env: { WINRM_PASSWORD: 'wrong' },
      });
      assert.equal(code, 2);
      assert.match(bad.text(), /^\[FAIL\] Authenticated Identify \(winrm id\): .* Fix: /m);
      assert.match(bad.text(), /^\[SKIP\] Test command: /m);
    });
  });
  it('a full shell quota fails at the test command, naming MaxShellsPerUser', async () => {
    await withMock(
      { auth: { basic: true }, allowUnencrypted: true, quotas: { maxShellsPerUser: 1 } },
      async (mock) => {
        // Another client of the same user holds the one shell the quota allows (a running command keeps it).
        const other = await connect({
          endpoint: mock.url,
          username: USER.name,
          password: USER.password,
          allowUnencrypted: true,
        });
        const holder = new AbortController();
        const held = other.execute('mock-sleep 600000', { signal: holder.signal }).catch(() => undefined);
        try {
          const until = Date.now() + 20_000;
          while (mock.shells().length === 0 && Date.now() < until)
            await new Promise((r) => setTimeout(r, 25));
          const report = await runDoctor({
            endpoint: mock.url,
            username: USER.name,
            password: USER.password,
            allowUnencrypted: true,
          });
          const failed = firstFailure(report);
          assert.equal(failed.id, 'command', JSON.stringify(report.steps));
          assert.match(`${failed.detail} ${failed.remedy}`, /MaxShellsPerUser/);
          assert.equal(report.worst, 'fail');
        } finally {
          holder.abort();
          await held;
          await other.close();
        }
      },
    );
  });
});
