/**
 * Resource operations on the internal connection (issue 12, Library): Get / Put / Enumerate / Invoke / Create /
 * Delete / Identify sent through WsmanClient against a scripted endpoint answering with Windows-shaped fixtures.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AbortError, InvalidArgumentError, TimeoutError, WsmanFaultError } from '../../src/errors.ts';
import type { ResourceInstance } from '../../src/wsman/actions/transfer.ts';
import { type FakeResources, type Handler, startFakeResources } from './resources-helpers.ts';

const SVC = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Service';
const CFG = 'http://schemas.microsoft.com/wbem/wsman/1/config';
const LISTENER_CTX = 'uuid:1E5A4C3B-2D1F-4E6A-9B8C-7D6E5F4A3B2C';

let handler: Handler = () => 'hang';
let fake: FakeResources;
before(async () => {
  fake = await startFakeResources((r, n) => handler(r, n));
});
after(() => fake.close());
const reset = (h: Handler) => {
  handler = h;
  fake.seen.length = 0;
};
const nested = (v: unknown): ResourceInstance => {
  assert.ok(v && typeof v === 'object' && !Array.isArray(v), `not an instance: ${String(v)}`);
  return v as ResourceInstance;
};

describe('get', () => {
  it('sends the expanded URI and selector, and reads a typed instance (seed: winrm get wmicimv2/Win32_Service?Name=WinRM)', async () => {
    reset(() => ({ fixture: 'get-win32-service-response.xml' }));
    const conn = await fake.conn();
    const svc = await conn.get('wmicimv2/Win32_Service?Name=WinRM');
    const req = fake.seen[0]!;
    assert.match(req.action, /transfer\/Get$/);
    assert.ok(req.xml.includes(`>${SVC}</w:ResourceURI>`), req.xml);
    assert.match(req.xml, /<w:Selector Name="Name">WinRM<\/w:Selector>/);
    assert.equal(svc.className, 'Win32_Service');
    assert.equal(svc.namespace, SVC);
    assert.equal(svc.xsiType, 'p:Win32_Service_Type');
    assert.equal(svc.properties.State, 'Running');
    assert.equal(svc.properties.InstallDate, null);
    assert.equal(svc.properties.PathName, 'C:\\Windows\\System32\\svchost.exe -k NetworkService -p');
    assert.match(
      svc.xml,
      /^<p:Win32_Service [^>]*xmlns:p="http:\/\/schemas\.microsoft\.com\/wbem\/wsman\/1\/wmi\/root\/cimv2\/Win32_Service"/,
    );
    assert.ok(svc.xml.includes('<p:Name>WinRM</p:Name>'));
  });

  it('reads repeated properties as arrays and cim:Datetime as text', async () => {
    reset(() => ({ fixture: 'get-win32-os-response.xml' }));
    const os = await (await fake.conn()).get('wmicimv2/Win32_OperatingSystem');
    assert.deepEqual(os.properties.MUILanguages, ['en-US', 'de-DE']);
    assert.equal(os.properties.LastBootUpTime, '2026-12-01T08:15:02.500000Z');
  });

  it('reads embedded instances as nested objects (winrm get winrm/config)', async () => {
    reset(() => ({ fixture: 'get-config-response.xml' }));
    const cfg = await (await fake.conn()).get('winrm/config');
    assert.ok(fake.seen[0]!.xml.includes(`>${CFG}</w:ResourceURI>`));
    assert.equal(cfg.properties.MaxEnvelopeSizekb, '500');
    const service = nested(cfg.properties.Service);
    assert.equal(service.className, 'Service');
    assert.equal(nested(service.properties.Auth).properties.Basic, 'false');
    assert.equal(nested(nested(cfg.properties.Client).properties.DefaultPorts).properties.HTTPS, '5986');
    assert.equal(nested(cfg.properties.Client).properties.TrustedHosts, '');
  });

  it('sends w:FragmentTransfer for a fragment (winrm g ... -fragment:FreePhysicalMemory)', async () => {
    reset(() => ({ fixture: 'get-win32-os-fragment-response.xml' }));
    const frag = await (await fake.conn()).get('wmicimv2/Win32_OperatingSystem', {
      fragment: 'FreePhysicalMemory',
    });
    assert.match(
      fake.seen[0]!.xml,
      /<w:FragmentTransfer s:mustUnderstand="true" Dialect="http:\/\/www\.w3\.org\/TR\/1999\/REC-xpath-19991116">FreePhysicalMemory<\/w:FragmentTransfer>/,
    );
    assert.equal(frag.className, 'XmlFragment');
    assert.equal(frag.properties.FreePhysicalMemory, '1546120');
  });

  it('surfaces the MSFT_WmiError detail of a fault in the typed error', async () => {
    reset(() => ({ fixture: 'fault-wmi-error.xml', status: 500 }));
    const conn = await fake.conn();
    await assert.rejects(conn.get('wmicimv2/Win32_Service?Name=WinRM'), (e: unknown) => {
      assert.ok(e instanceof WsmanFaultError, String(e));
      assert.match(e.wmiError?.MessageID ?? '', /0x803381a5/i);
      assert.equal(e.wmiError?.error_Code, '2150859173');
      return true;
    });
  });

  it('refuses an unknown alias before sending anything', async () => {
    reset(() => 'hang');
    const conn = await fake.conn();
    await assert.rejects(conn.get('cimv3/Win32_Service'), InvalidArgumentError);
    await assert.rejects(
      conn.invoke('wmicimv2/Win32_Service?Name=w32time', 'Start Service'),
      InvalidArgumentError,
    );
    await assert.rejects(conn.put('winrm/config/service', '@{AllowUnencrypted="true"'), InvalidArgumentError);
    await assert.rejects(async () => {
      for await (const _ of conn.enumerate('cimv3/Win32_Service')) void _;
    }, InvalidArgumentError);
    assert.equal(fake.seen.length, 0);
  });
});

describe('enumerate', () => {
  const listenerPages: Handler = (r) => {
    if (r.action.endsWith('/Enumerate')) return { fixture: 'enumerate-listener-response.xml' };
    if (r.action.endsWith('/Pull')) return { fixture: 'pull-listener-response.xml' };
    if (r.action.endsWith('/Release')) return { fixture: 'release-response.xml' };
    return 'hang';
  };

  it('Pulls until EndOfSequence and needs no Release (winrm e winrm/config/listener)', async () => {
    reset(listenerPages);
    const conn = await fake.conn();
    const items: ResourceInstance[] = [];
    for await (const l of conn.enumerate('winrm/config/listener')) items.push(l);
    assert.deepEqual(fake.actions(), ['Enumerate', 'Pull']);
    assert.match(fake.seen[0]!.xml, /<w:OptimizeEnumeration\/><w:MaxElements>32000<\/w:MaxElements>/);
    assert.ok(fake.seen[1]!.xml.includes(`<n:EnumerationContext>${LISTENER_CTX}</n:EnumerationContext>`));
    assert.deepEqual(
      items.map((i) => i.properties.Transport),
      ['HTTP', 'HTTPS'],
    );
    assert.deepEqual(items[0]!.properties.ListeningOn, ['10.0.2.15', '127.0.0.1', '::1']);
    assert.equal(items[1]!.properties.CertificateThumbprint, '8F4A1C2B3D5E6F708192A3B4C5D6E7F809A1B2C3');
  });

  it('Releases the context on an early break, without a Pull', async () => {
    reset(listenerPages);
    const conn = await fake.conn();
    for await (const l of conn.enumerate('winrm/config/listener')) {
      assert.equal(l.properties.Transport, 'HTTP');
      break;
    }
    assert.deepEqual(fake.actions(), ['Enumerate', 'Release']);
    assert.ok(fake.seen[1]!.xml.includes(`<n:EnumerationContext>${LISTENER_CTX}</n:EnumerationContext>`));
  });

  it('writes a WQL filter, a selector filter, optimize: false and maxElements', async () => {
    reset((r) => (r.action.endsWith('/Enumerate') ? { fixture: 'pull-listener-response.xml' } : 'hang'));
    // The Enumerate answer here is a PullResponse: parse fails, but the request is what is checked.
    const conn = await fake.conn();
    const drain = async (it: AsyncIterable<unknown>) => {
      await assert.rejects(async () => {
        for await (const _ of it) void _;
      });
    };
    await drain(
      conn.enumerate('wmicimv2/*', { filter: "SELECT * FROM Win32_Service WHERE State = 'Running'" }),
    );
    await drain(conn.enumerate('wmicimv2/Win32_Service', { filter: { State: 'Running' }, maxElements: 5 }));
    await drain(conn.enumerate('wmicimv2/Win32_Service', { optimize: false }));
    await drain(conn.enumerate('wmicimv2/Win32_Service', { filter: 'State=Running', dialect: 'Selector' }));
    const [wql, sel, plain, selText] = fake.seen.map((s) => s.xml);
    assert.match(selText!, /<w:SelectorSet><w:Selector Name="State">Running<\/w:Selector><\/w:SelectorSet>/);
    assert.match(
      wql!,
      /<w:Filter Dialect="http:\/\/schemas\.microsoft\.com\/wbem\/wsman\/1\/WQL">SELECT \* FROM Win32_Service WHERE State = 'Running'<\/w:Filter>/,
    );
    assert.match(
      sel!,
      /<w:MaxElements>5<\/w:MaxElements><w:Filter Dialect="http:\/\/schemas\.dmtf\.org\/wbem\/wsman\/1\/wsman\/SelectorFilter"><w:SelectorSet><w:Selector Name="State">Running<\/w:Selector><\/w:SelectorSet><\/w:Filter>/,
    );
    assert.match(plain!, /<n:Enumerate\/>/);
  });
});

describe('invoke, put, create, delete, identify', () => {
  it('invokes a method with @{} (winrm invoke StartService wmicimv2/Win32_Service?Name=w32time @{})', async () => {
    reset(() => ({ fixture: 'invoke-startservice-response.xml' }));
    const out = await (await fake.conn()).invoke(
      'wmicimv2/Win32_Service?Name=w32time',
      'StartService',
      '@{}',
    );
    assert.equal(fake.seen[0]!.action, `${SVC}/StartService`);
    assert.match(fake.seen[0]!.xml, /<p:StartService_INPUT xmlns:p="[^"]+Win32_Service"\/>/);
    assert.match(fake.seen[0]!.xml, /<w:Selector Name="Name">w32time<\/w:Selector>/);
    assert.equal(out.className, 'StartService_OUTPUT');
    assert.equal(out.properties.ReturnValue, '10');
  });

  it('puts @{...} values into the element a Get returned (winrm set winrm/config/service @{AllowUnencrypted="true"})', async () => {
    const service = `<cfg:Service xmlns:cfg="${CFG}/service" xml:lang="en-US"><cfg:AllowUnencrypted>false</cfg:AllowUnencrypted></cfg:Service>`;
    reset((r) =>
      r.action.endsWith('/Get')
        ? { action: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse', body: service }
        : {
            action: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/PutResponse',
            body: service.replace('false', 'true'),
          },
    );
    const updated = await (await fake.conn()).put('winrm/config/service', '@{AllowUnencrypted="true"}');
    assert.deepEqual(fake.actions(), ['Get', 'Put']);
    assert.match(
      fake.seen[1]!.xml,
      /<p:Service xmlns:p="http:\/\/schemas\.microsoft\.com\/wbem\/wsman\/1\/config\/service"><p:AllowUnencrypted>true<\/p:AllowUnencrypted><\/p:Service>/,
    );
    assert.equal(updated?.properties.AllowUnencrypted, 'true');
  });

  it('creates with selectors and values and reads the EPR (winrm create winrm/config/Listener?Address=*+Transport=HTTPS)', async () => {
    reset(() => ({ fixture: 'create-listener-response.xml' }));
    const created = await (await fake.conn()).create('winrm/config/Listener?Address=*+Transport=HTTPS', {
      Hostname: 'windows-host',
      CertificateThumbprint: '8F4A1C2B3D5E6F708192A3B4C5D6E7F809A1B2C3',
    });
    const req = fake.seen[0]!;
    assert.match(req.action, /transfer\/Create$/);
    assert.match(
      req.xml,
      /<w:Selector Name="Address">\*<\/w:Selector><w:Selector Name="Transport">HTTPS<\/w:Selector>/,
    );
    assert.match(
      req.xml,
      /<p:Listener xmlns:p="http:\/\/schemas\.microsoft\.com\/wbem\/wsman\/1\/config\/Listener"><p:Hostname>windows-host<\/p:Hostname>/,
    );
    assert.deepEqual(created.selectors, { Address: '*', Transport: 'HTTPS' });
    assert.equal(created.resourceUri, `${CFG}/listener`);
  });

  it('deletes a resource by its selectors', async () => {
    reset(() => ({ fixture: 'delete-response.xml' }));
    await (await fake.conn()).delete({
      resourceUri: 'winrm/config/Listener',
      selectors: { Address: '*', Transport: 'HTTPS' },
    });
    assert.match(fake.seen[0]!.action, /transfer\/Delete$/);
    assert.match(fake.seen[0]!.xml, /<w:Selector Name="Transport">HTTPS<\/w:Selector>/);
  });

  it('identifies authenticated by default and anonymously with authenticate: false', async () => {
    reset((r) =>
      r.headers.wsmanidentify
        ? { fixture: 'identify-response-unauthenticated.xml' }
        : { fixture: 'identify-response.xml' },
    );
    const conn = await fake.conn();
    const id = await conn.identify();
    assert.equal(fake.seen[0]!.headers.wsmanidentify, undefined);
    assert.match(String(fake.seen[0]!.headers.authorization), /^Basic /);
    assert.equal(id.productVendor, 'Microsoft Corporation');
    const anon = await conn.identify({ authenticate: false });
    assert.equal(fake.seen[1]!.headers.wsmanidentify, 'unauthenticated');
    assert.equal(anon.productVersion, 'OS: 0.0.0 SP: 0.0 Stack: 3.0');
  });

  it("honours the caller's timeout and signal", async () => {
    reset(() => 'hang');
    const conn = await fake.conn();
    const started = Date.now();
    await assert.rejects(conn.get('winrm/config', { timeout: 300 }), (e: unknown) => {
      assert.ok(e instanceof TimeoutError, String(e));
      assert.equal(e.timeoutMs, 300);
      return true;
    });
    assert.ok(Date.now() - started < 15_000, 'the timeout does not hang');
    const ac = new AbortController();
    const p = conn.invoke('wmicimv2/Win32_Service?Name=w32time', 'StopService', {}, { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(p, AbortError);
  });
});
