/** The winrm.cmd verbs of the CLI against the mock, with the seeds' command lines (`-r:host` as flags). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { main } from '../src/cli/main.ts';
import { instanceText, prettyXml } from '../src/cli/resources.ts';
import { type MockServer, startMockServer } from '../src/mock/index.ts';
import { captureIo as io } from './helpers/cli-io.ts';

const USER = { name: 'cliadmin', password: 'Cli-Res-2026' };

describe('winrm-connection resource verbs', () => {
  let mock: MockServer;
  before(async () => {
    mock = await startMockServer({ users: [USER], auth: { basic: true }, allowUnencrypted: true });
  });
  after(() => mock.close());

  const run = async (...argv: string[]) => {
    const t = io({ WINRM_PASSWORD: USER.password });
    const [verb, ...rest] = argv;
    const code = await main(
      [verb!, '--endpoint', mock.url, '-u', USER.name, '--allow-unencrypted', ...rest],
      t.io,
    );
    return { code, out: t.out().toString(), err: t.err() };
  };

  it('winrm id', async () => {
    const r = await run('id');
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.out,
      /^IdentifyResponse\n {4}ProtocolVersion = http:\/\/schemas\.dmtf\.org\/wbem\/wsman\/1\/wsman\.xsd\n/,
    );
    assert.match(r.out, /ProductVendor = Microsoft Corporation/);
  });

  it('winrm get wmicimv2/Win32_Service?Name=WinRM (text, as winrm.cmd lays it out)', async () => {
    const r = await run('get', 'wmicimv2/Win32_Service?Name=WinRM');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^Win32_Service\n/);
    assert.match(r.out, /\n {4}Name = WinRM\n/);
    assert.match(r.out, /\n {4}State = Running\n/);
  });

  it('winrm get wmicimv2/Win32_OperatingSystem -format:json parses back', async () => {
    const r = await run('get', 'wmicimv2/Win32_OperatingSystem', '--format', 'json');
    assert.equal(r.code, 0, r.err);
    const parsed = JSON.parse(r.out) as { className: string; properties: Record<string, unknown> };
    assert.equal(parsed.className, 'Win32_OperatingSystem');
    assert.equal(typeof parsed.properties.Caption, 'string');
  });

  it('winrm get wmicimv2/Win32_OperatingSystem -format:pretty is indented XML', async () => {
    const r = await run('get', 'wmicimv2/Win32_OperatingSystem', '-f', 'pretty');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^<p:Win32_OperatingSystem[^>]*>\n {2}<p:/);
  });

  it('winrm g wmicimv2/Win32_Processor?DeviceID=CPU0 -fragment:LoadPercentage', async () => {
    const r = await run(
      'g',
      'wmicimv2/Win32_Processor?DeviceID=CPU0',
      '--fragment',
      'LoadPercentage',
      '-f',
      'xml',
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /LoadPercentage/);
  });

  it('winrm enumerate wmicimv2/Win32_ComputerSystem and winrm e winrm/config/listener', async () => {
    const cs = await run('enumerate', 'wmicimv2/Win32_ComputerSystem');
    assert.equal(cs.code, 0, cs.err);
    assert.match(cs.out, /^Win32_ComputerSystem\n/);
    const listeners = await run('e', 'winrm/config/listener', '--format', 'json');
    assert.equal(listeners.code, 0, listeners.err);
    const list = JSON.parse(listeners.out) as Array<{ properties: Record<string, unknown> }>;
    // quickconfig's HTTP listener and the HTTPS one, as on a Windows host set up for both.
    assert.deepEqual(
      list.map((l) => [l.properties.Transport, l.properties.Address]),
      [
        ['HTTP', '*'],
        ['HTTPS', '*'],
      ],
    );
  });

  it('winrm e with a WQL --filter', async () => {
    const r = await run(
      'e',
      'wmicimv2/*',
      '--filter',
      "SELECT Name FROM Win32_Service WHERE Name = 'Spooler'",
      '-f',
      'json',
    );
    assert.equal(r.code, 0, r.err);
    const list = JSON.parse(r.out) as Array<{ properties: Record<string, unknown> }>;
    assert.deepEqual(
      list.map((i) => i.properties.Name),
      ['Spooler'],
    );
  });

  it('winrm invoke StartService wmicimv2/Win32_Service?Name=w32time @{} and StopService', async () => {
    const start = await run(
      'invoke',
      'StartService',
      'wmicimv2/Win32_Service?Name=w32time',
      '@{}',
      '-f',
      'json',
    );
    assert.equal(start.code, 0, start.err);
    assert.match(
      String((JSON.parse(start.out) as { properties: { ReturnValue: string } }).properties.ReturnValue),
      /^(0|10)$/,
    );
    const stop = await run('invoke', 'stopservice', 'wmicimv2/Win32_Service?name=w32time', '-f', 'json');
    assert.equal(stop.code, 0, stop.err);
    assert.equal(
      (JSON.parse(stop.out) as { properties: { ReturnValue: string } }).properties.ReturnValue,
      '0',
    );
  });

  it('winrm set winrm/config/service @{MaxConcurrentOperationsPerUser="1600"}, then get shows it', async () => {
    const set = await run('set', 'winrm/config/service', '@{MaxConcurrentOperationsPerUser="1600"}');
    assert.equal(set.code, 0, set.err);
    const get = await run('get', 'winrm/config/service');
    assert.match(get.out, /\n {4}MaxConcurrentOperationsPerUser = 1600\n/);
    // The first seed's line, as written.
    const seed = await run('set', 'winrm/config/service', '@{AllowUnencrypted="true"}');
    assert.equal(seed.code, 0, seed.err);
    assert.match((await run('get', 'winrm/config/service')).out, /\n {4}AllowUnencrypted = true\n/);
  });

  it('a bad --format and a missing resource are usage errors (exit 2)', async () => {
    assert.equal((await run('get', 'wmicimv2/Win32_OperatingSystem', '--format', 'yaml')).code, 2);
    assert.equal((await run('get')).code, 2);
  });
});

describe("winrm create / delete winrm/config/Listener (the seed's lines) against an HTTPS mock", () => {
  let mock: MockServer;
  before(async () => {
    mock = await startMockServer({
      users: [USER],
      auth: { basic: true },
      https: true,
      machineName: 'WIN-CLI',
    });
  });
  after(() => mock.close());
  const run = async (...argv: string[]) => {
    const t = io({ WINRM_PASSWORD: USER.password });
    const [verb, ...rest] = argv;
    const pin = ['--fingerprint', mock.thumbprints!.sha1];
    const code = await main([verb!, '--endpoint', mock.url, '-u', USER.name, ...pin, ...rest], t.io);
    return { code, out: t.out().toString(), err: t.err() };
  };
  const transports = async () => {
    const r = await run('e', 'winrm/config/listener', '-f', 'json');
    assert.equal(r.code, 0, r.err);
    return (JSON.parse(r.out) as Array<{ properties: Record<string, unknown> }>).map((l) => l.properties);
  };
  const HTTPS = 'winrm/config/Listener?Address=*+Transport=HTTPS';

  it('create of the existing HTTPS listener: AlreadyExists; delete; create with a foreign thumbprint: refused; with the certificate: listed', async () => {
    const sha1 = mock.thumbprints!.sha1;
    const exists = await run('create', HTTPS, `@{Hostname="WIN-CLI";CertificateThumbprint="${sha1}"}`);
    assert.equal(exists.code, 255);
    assert.match(exists.err, /already exists/, exists.err);

    assert.equal((await run('delete', HTTPS)).code, 0);
    assert.deepEqual(
      (await transports()).map((p) => p.Transport),
      ['HTTP'],
    );

    const foreign = await run(
      'create',
      HTTPS,
      '@{Hostname="WIN-CLI";CertificateThumbprint="8F4A1C2B3D5E6F708192A3B4C5D6E7F809A1B2C3"}',
    );
    assert.equal(foreign.code, 255);
    assert.match(foreign.err, /cannot find the certificate that was requested/, foreign.err);

    const made = await run('create', HTTPS, `@{Hostname="WIN-CLI";CertificateThumbprint="${sha1}"}`);
    assert.equal(made.code, 0, made.err);
    const list = await transports();
    assert.deepEqual(
      list.map((p) => [p.Transport, p.Hostname, p.CertificateThumbprint]),
      [
        ['HTTP', '', ''],
        ['HTTPS', 'WIN-CLI', sha1],
      ],
    );
  });
});

describe('winrm.cmd text layout (pure)', () => {
  it('nests embedded instances, repeats array names, writes [null] for nil', () => {
    const inner = { className: 'Auth', namespace: undefined, properties: { Basic: 'false' } };
    const text = instanceText({
      className: 'Service',
      namespace: undefined,
      properties: { RootSDDL: null, Auth: inner, ListeningOn: ['127.0.0.1', '::1'] },
    } as never);
    assert.equal(
      text,
      'Service\n    RootSDDL = [null]\n    Auth\n        Basic = false\n    ListeningOn = 127.0.0.1\n    ListeningOn = ::1',
    );
  });

  it('indents XML one element per line', () => {
    assert.equal(prettyXml('<a><b>1</b><c><d/></c></a>'), '<a>\n  <b>1</b>\n  <c>\n    <d/>\n  </c>\n</a>');
  });
});
