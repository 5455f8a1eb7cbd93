/**
 * The mock's winrm/config provider: Windows-shaped answers, and Put / Restore changing the live behaviour of the
 * running mock (Basic over HTTP, Basic off, MaxEnvelopeSizekb, MaxShellsPerUser, MaxTimeoutms, MaxMemoryPerShellMB).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { CONFIG_URI, configProvider } from '../../src/mock/config/provider.ts';
import type { MockServer, MockServerOptions } from '../../src/mock/index.ts';
import { startMockServer } from '../../src/mock/index.ts';
import type { ResourceRequest } from '../../src/mock/resources/types.ts';
import { MockFault } from '../../src/mock/wire/faults.ts';
import { allChildElements, parseXml, textOf } from '../../src/wsman/xml.ts';
import { RawClient } from './helpers.ts';

const USER = { name: 'vagrant', password: 'vagrant', domain: 'WIN-MOCK' };

function req(path: string, selectors: Record<string, string> = {}): ResourceRequest {
  return {
    resourceUri: path === '' ? CONFIG_URI : `${CONFIG_URI}/${path}`,
    selectors,
    options: {},
    user: USER,
    lang: 'en-US',
  };
}

/** The body element of a Put, as `winrm set winrm/config/<path> @{Name="value"}` sends it. */
function putBody(path: string, element: string, values: Record<string, string>) {
  const ns = path === '' ? CONFIG_URI : `${CONFIG_URI}/${path}`;
  const props = Object.entries(values)
    .map(([k, v]) => `<cfg:${k}>${v}</cfg:${k}>`)
    .join('');
  return parseXml(`<cfg:${element} xmlns:cfg="${ns}">${props}</cfg:${element}>`).documentElement;
}

function prop(xml: string, name: string): string | undefined {
  const root = parseXml(xml).documentElement;
  const walk = (el: typeof root): string | undefined => {
    for (const c of allChildElements(el)) {
      if (c.localName === name && allChildElements(c).length === 0) return textOf(c);
      const v = walk(c);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  return walk(root);
}

const servers: MockServer[] = [];
const clients: RawClient[] = [];
async function start(options: MockServerOptions) {
  const mock = await startMockServer(options);
  servers.push(mock);
  const provider = configProvider(mock.config);
  const client = new RawClient(mock.url);
  clients.push(client);
  return { mock, provider, client };
}
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(servers.map((s) => s.close()));
});

describe('winrm/config provider', () => {
  test('get winrm/config: cfg namespace, sections in Windows order, live values', async () => {
    const { provider } = await start({ maxEnvelopeSize: 153_600, quotas: { maxShellsPerUser: 7 } });
    assert.ok(provider.serves(`${CONFIG_URI}/Service/Auth`));
    assert.ok(!provider.serves('http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Service'));
    const xml = provider.get!(req('')).xml;
    const root = parseXml(xml).documentElement;
    assert.equal(root.namespaceURI, CONFIG_URI);
    assert.equal(root.localName, 'Config');
    assert.deepEqual(
      allChildElements(root).map((e) => e.localName),
      [
        'MaxEnvelopeSizekb',
        'MaxTimeoutms',
        'MaxBatchItems',
        'MaxProviderRequests',
        'Client',
        'Service',
        'Winrs',
      ],
    );
    for (const e of allChildElements(root)) assert.equal(e.namespaceURI, CONFIG_URI);
    assert.equal(prop(xml, 'MaxEnvelopeSizekb'), '150');
    assert.equal(prop(xml, 'MaxShellsPerUser'), '7');

    const service = parseXml(provider.get!(req('service')).xml).documentElement;
    assert.equal(service.namespaceURI, `${CONFIG_URI}/service`);
    assert.equal(service.localName, 'Service');
    const auth = parseXml(provider.get!(req('service/auth')).xml).documentElement;
    assert.equal(auth.namespaceURI, `${CONFIG_URI}/service/auth`);
    assert.deepEqual(
      allChildElements(auth).map((e) => e.localName),
      ['Basic', 'Kerberos', 'Negotiate', 'Certificate', 'CredSSP', 'CbtHardeningLevel'],
    );
  });

  test('service/auth Kerberos is true only when the mock has a keytab (Negotiate alone is NTLM)', async () => {
    const { provider } = await start({ auth: { negotiate: true } });
    const xml = provider.get!(req('service/auth')).xml;
    assert.equal(prop(xml, 'Negotiate'), 'true');
    assert.equal(prop(xml, 'Kerberos'), 'false');
  });

  test('set winrm/config/service @{AllowUnencrypted="true"} lets Basic over HTTP in', async () => {
    const { provider, client } = await start({ auth: { basic: true }, allowUnencrypted: false });
    await assert.rejects(client.createShell(), /HTTP 401/);
    const out = provider.put!(req('service'), putBody('service', 'Service', { AllowUnencrypted: 'true' }));
    assert.equal(prop(out.xml, 'AllowUnencrypted'), 'true');
    const shell = await client.createShell();
    assert.match(shell, /^[0-9A-F-]{36}$/i);
  });

  test('set winrm/config/service/auth @{Basic="false"} refuses Basic; Basic="true" allows it again', async () => {
    const { provider, client } = await start({ auth: { basic: true }, allowUnencrypted: true });
    await client.createShell();
    provider.put!(req('service/auth'), putBody('service/auth', 'Auth', { Basic: 'false' }));
    const refused = await client.post('<x/>');
    assert.equal(refused.status, 401);
    assert.doesNotMatch(String(refused.headers['www-authenticate'] ?? ''), /Basic/);
    provider.put!(req('service/auth'), putBody('service/auth', 'Auth', { Basic: 'true' }));
    await client.createShell();
  });

  test('a mock started without Basic accepts it after service/auth @{Basic="true"}', async () => {
    const { provider, client } = await start({ allowUnencrypted: true });
    await assert.rejects(client.createShell(), /HTTP 401/);
    provider.put!(req('service/auth'), putBody('service/auth', 'Auth', { Basic: 'true' }));
    await client.createShell();
  });

  test('MaxShellsPerUser and MaxEnvelopeSizekb take effect on the next request', async () => {
    const { provider, client } = await start({ auth: { basic: true }, allowUnencrypted: true });
    provider.put!(
      req('winrs'),
      putBody('winrs', 'Winrs', { MaxShellsPerUser: '1', MaxMemoryPerShellMB: '64' }),
    );
    await client.createShell();
    await assert.rejects(client.createShell(), /maximum number of 1 concurrent shells/);
    provider.put!(req(''), putBody('', 'Config', { MaxEnvelopeSizekb: '32', MaxTimeoutms: '5000' }));
    const big = await client.post(`<x>${'a'.repeat(40 * 1024)}</x>`);
    assert.equal(big.status, 413);
    const cfg = provider.get!(req('')).xml;
    assert.equal(prop(cfg, 'MaxTimeoutms'), '5000');
    assert.equal(prop(cfg, 'MaxMemoryPerShellMB'), '64');
  });

  test('MaxMemoryPerShellMB set through winrm/config/winrs limits the next command', async () => {
    const { provider, client } = await start({ auth: { basic: true }, allowUnencrypted: true });
    assert.equal((await client.run('mock-memory 100')).exitCode, 0);
    provider.put!(req('winrs'), putBody('winrs', 'Winrs', { MaxMemoryPerShellMB: '64' }));
    const over = await client.run('mock-memory 100');
    assert.equal(over.exitCode, 1455);
  });

  // The 30 s test timeout is only a "does not hang" bound: without the cap a Receive asking for OperationTimeout PT60S waits 60 s.
  test('MaxTimeoutms set through winrm/config caps the next Receive', { timeout: 30_000 }, async () => {
    const { provider, client } = await start({ auth: { basic: true }, allowUnencrypted: true });
    provider.put!(req(''), putBody('', 'Config', { MaxTimeoutms: '500' }));
    const shellId = await client.createShell();
    const commandId = await client.command(shellId, 'mock-sleep 60000');
    const { res } = await client.receiveOnce(shellId, commandId, { operationTimeout: 60 });
    assert.equal(res.status, 500);
    assert.match(res.body, /w:TimedOut/);
  });

  test('a bad value or a read-only property is refused with InvalidParameter and changes nothing', async () => {
    const { provider, mock } = await start({});
    const bad = () =>
      provider.put!(
        req('service'),
        putBody('service', 'Service', { AllowUnencrypted: 'true', MaxConnections: '5' }),
      );
    assert.throws(bad, (e: unknown) => e instanceof MockFault && e.spec.subcode === 'w:InvalidParameter');
    assert.throws(
      () => provider.put!(req('winrs'), putBody('service', 'Service', { MaxShellsPerUser: '2' })),
      (e: unknown) => e instanceof MockFault && e.spec.subcode === 'w:SchemaValidationError',
    );
    assert.throws(
      () => provider.put!(req('winrs'), putBody('winrs', 'Winrs', { MaxShellsPerUser: 'many' })),
      (e: unknown) => e instanceof MockFault && /MaxShellsPerUser/.test(e.spec.message ?? ''),
    );
    assert.equal(mock.config.settings.allowUnencrypted, false);
    assert.equal(mock.config.settings.quotas.maxShellsPerUser, 30);
  });

  test('invoke Restore winrm/Config @{} restores the defaults', async () => {
    const { provider, client } = await start({
      auth: { basic: true },
      allowUnencrypted: true,
      quotas: { maxShellsPerUser: 3 },
    });
    await client.createShell();
    const out = provider.invoke!(req(''), 'Restore', undefined);
    assert.match(out.xml, /Restore_OUTPUT/);
    const cfg = provider.get!(req('')).xml;
    assert.equal(prop(cfg, 'MaxEnvelopeSizekb'), '500');
    assert.equal(prop(cfg, 'MaxShellsPerUser'), '30');
    assert.equal(prop(provider.get!(req('service')).xml, 'AllowUnencrypted'), 'false');
    assert.equal(prop(provider.get!(req('service/auth')).xml, 'Basic'), 'false');
    // Basic is off again and Negotiate on (Windows' defaults): the live effect.
    const refused = await client.post('<x/>');
    assert.equal(refused.status, 401);
    assert.equal(String(refused.headers['www-authenticate']), 'Negotiate');
    assert.throws(() => provider.invoke!(req(''), 'Explode', undefined), MockFault);
  });
});

describe('winrm/config/listener: the HTTP and HTTPS listeners, create and delete on the live table', () => {
  const LISTENER = `${CONFIG_URI}/listener`;
  const key = (Transport: string, Address = '*') => ({ Address, Transport });
  function listenerBody(values: Record<string, string>) {
    // As winrm.cmd sends `@{Hostname="...";CertificateThumbprint="..."}` (namespace with a capital L).
    const props = Object.entries(values)
      .map(([k, v]) => `<p:${k}>${v}</p:${k}>`)
      .join('');
    return parseXml(`<p:Listener xmlns:p="${CONFIG_URI}/Listener">${props}</p:Listener>`).documentElement;
  }
  const faultOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof MockFault, String(e));
      return e.spec;
    }
    assert.fail('no fault');
  };
  const shown = (provider: ReturnType<typeof configProvider>) =>
    provider.enumerate!(req('listener'), undefined).map((a) =>
      ['Transport', 'Address', 'Port', 'Hostname', 'CertificateThumbprint'].map((n) => prop(a.xml, n)),
    );

  test('an HTTPS mock: both listeners, the served one on its port with the certificate SHA-1 thumbprint', async () => {
    const { provider, mock } = await start({ https: true, machineName: 'WIN-LSN' });
    const sha1 = mock.thumbprints!.sha1;
    assert.match(sha1, /^[0-9A-F]{40}$/, 'upper-case hex, no colons, as Windows shows it');
    assert.deepEqual(shown(provider), [
      ['HTTP', '*', '5985', '', ''],
      ['HTTPS', '*', String(mock.port), 'WIN-LSN', sha1],
    ]);
    const items = provider.enumerate!(req('listener'), undefined);
    const l = parseXml(items[1]!.xml).documentElement;
    assert.equal(l.namespaceURI, LISTENER);
    assert.deepEqual(
      allChildElements(l).map((e) => e.localName),
      [
        'Address',
        'Transport',
        'Port',
        'Hostname',
        'Enabled',
        'URLPrefix',
        'CertificateThumbprint',
        'ListeningOn',
      ],
    );
    assert.equal(prop(items[1]!.xml, 'URLPrefix'), 'wsman');
    assert.equal(prop(items[1]!.xml, 'ListeningOn'), '127.0.0.1');
    assert.deepEqual(items[1]!.epr, { resourceUri: LISTENER, selectors: key('HTTPS') });
    const one = provider.get!(req('listener', key('HTTPS')));
    assert.equal(prop(one.xml, 'CertificateThumbprint'), sha1);
    assert.equal(
      faultOf(() => provider.get!(req('listener', key('HTTPS', 'IP:10.9.9.9')))).subcode,
      'w:InvalidSelectors',
    );
  });

  test('an HTTP mock: the HTTP listener on its port, the HTTPS one on 5986 without a certificate', async () => {
    const { provider, mock } = await start({});
    assert.deepEqual(shown(provider), [
      ['HTTP', '*', String(mock.port), '', ''],
      ['HTTPS', '*', '5986', 'WIN-MOCK', ''],
    ]);
  });

  test('create of an existing listener is AlreadyExists; delete, then create with the certificate', async () => {
    const { provider, mock } = await start({ https: true, machineName: 'WIN-LSN' });
    const sha1 = mock.thumbprints!.sha1;
    const again = faultOf(() =>
      provider.create!(
        req('listener', key('HTTPS')),
        listenerBody({ Hostname: 'WIN-LSN', CertificateThumbprint: sha1 }),
      ),
    );
    assert.equal(again.subcode, 'w:AlreadyExists');
    assert.equal(again.wsmanCode, 2150858803);
    assert.equal(
      faultOf(() => provider.create!(req('listener', key('HTTP')), listenerBody({}))).subcode,
      'w:AlreadyExists',
    );

    provider.delete!(req('listener', key('HTTPS')));
    assert.deepEqual(
      shown(provider).map((r) => r[0]),
      ['HTTP'],
    );
    assert.equal(
      faultOf(() => provider.delete!(req('listener', key('HTTPS')))).subcode,
      'w:InvalidSelectors',
    );

    // A thumbprint that is not the mock's certificate: ERROR_WSMAN_CERT_NOT_FOUND, and nothing is created.
    const wrong = faultOf(() =>
      provider.create!(
        req('listener', key('HTTPS')),
        listenerBody({
          Hostname: 'WIN-LSN',
          CertificateThumbprint: '8F4A1C2B3D5E6F708192A3B4C5D6E7F809A1B2C3',
        }),
      ),
    );
    assert.equal(wrong.wsmanCode, 2150858882);
    assert.match(wrong.reason, /cannot find the certificate that was requested/);
    assert.equal(shown(provider).length, 1);

    // The seed's line with the right thumbprint (lower case, as certlm may show it, is accepted).
    const created = provider.create!(
      req('listener', key('HTTPS')),
      listenerBody({ Hostname: 'win-lsn.example', CertificateThumbprint: sha1.toLowerCase() }),
    );
    assert.deepEqual(created.epr, { resourceUri: LISTENER, selectors: key('HTTPS') });
    assert.deepEqual(shown(provider)[1], ['HTTPS', '*', '5986', 'win-lsn.example', sha1]);
    // A bad Address is Windows' listener-address fault.
    const bad = faultOf(() => provider.create!(req('listener', key('HTTP', '10.0.0.1')), listenerBody({})));
    assert.equal(bad.wsmanCode, 2150858889);
  });

  test("invoke Restore winrm/Config @{} restores the listener tree: Windows' default has none; create makes one again", async () => {
    const { provider, mock } = await start({ https: true, machineName: 'WIN-LSN' });
    provider.delete!(req('listener', key('HTTP')));
    assert.equal(shown(provider).length, 1);
    provider.invoke!(req(''), 'Restore', undefined);
    assert.deepEqual(shown(provider), []);
    assert.equal(faultOf(() => provider.get!(req('listener', key('HTTPS')))).subcode, 'w:InvalidSelectors');
    // The socket keeps serving (the mock has one), so the quickconfig remedy can be run against it.
    provider.create!(req('listener', key('HTTP')), listenerBody({}));
    provider.create!(
      req('listener', key('HTTPS')),
      listenerBody({ Hostname: 'WIN-LSN', CertificateThumbprint: mock.thumbprints!.sha1 }),
    );
    assert.deepEqual(shown(provider), [
      ['HTTP', '*', '5985', '', ''],
      ['HTTPS', '*', '5986', 'WIN-LSN', mock.thumbprints!.sha1],
    ]);
  });

  test('winrm set winrm/config/Listener?Address=*+Transport=HTTPS @{Hostname="..."} changes it in place', async () => {
    const { provider, mock } = await start({ https: true, machineName: 'WIN-LSN' });
    const out = provider.put!(req('listener', key('HTTPS')), listenerBody({ Hostname: 'win-lsn.corp' }));
    assert.equal(prop(out.xml, 'Hostname'), 'win-lsn.corp');
    assert.deepEqual(shown(provider)[1], [
      'HTTPS',
      '*',
      String(mock.port),
      'win-lsn.corp',
      mock.thumbprints!.sha1,
    ]);
    // Enabled (or any other read-only property) is refused, and a foreign thumbprint too; nothing changes.
    assert.equal(
      faultOf(() => provider.put!(req('listener', key('HTTPS')), listenerBody({ Enabled: 'false' }))).subcode,
      'w:InvalidParameter',
    );
    const f = faultOf(() =>
      provider.put!(req('listener', key('HTTPS')), listenerBody({ CertificateThumbprint: 'AB'.repeat(20) })),
    );
    assert.equal(f.wsmanCode, 2150858882);
    assert.deepEqual(shown(provider)[1], [
      'HTTPS',
      '*',
      String(mock.port),
      'win-lsn.corp',
      mock.thumbprints!.sha1,
    ]);
  });

  test('an HTTP mock has no certificate: creating an HTTPS listener is refused', async () => {
    const { provider } = await start({});
    provider.delete!(req('listener', key('HTTPS')));
    const f = faultOf(() =>
      provider.create!(req('listener', key('HTTPS')), listenerBody({ Hostname: 'WIN-MOCK' })),
    );
    assert.equal(f.wsmanCode, 2150858882);
  });
});
