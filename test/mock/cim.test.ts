/**
 * The mock's CIM provider: Windows-shaped Win32 instances (namespace per class, xsi:type, xsi:nil, cim:Datetime),
 * WQL (SELECT list, WHERE with =, <>, AND, OR, LIKE), selector filters, Win32_Service StartService/StopService
 * with the documented ReturnValue codes, a writable property, and the faults for an unknown class, an unknown
 * selector, a bad filter and an unknown method.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MockServer } from '../../src/mock/index.ts';
import { RawClient, startBasicMock } from './helpers.ts';
import { A, contextOf, enumerateBody, faultOf, pullBody, soap } from './resource-soap.ts';

const CIMV2 = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2';
const WQL = 'http://schemas.microsoft.com/wbem/wsman/1/WQL';
const SELECTOR = 'http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter';

describe('mock CIM provider', () => {
  let mock: MockServer;
  let client: RawClient;
  before(async () => {
    mock = await startBasicMock({ machineName: 'WIN-CIM' });
    client = new RawClient(mock.url);
  });
  after(async () => {
    client.close();
    await mock.close();
  });

  const get = (cls: string, selectors: Record<string, string> = {}) =>
    client.post(soap({ action: A.get, resourceUri: `${CIMV2}/${cls}`, selectors }));
  /** All items of an optimized Enumerate (one response). */
  const enumAll = async (cls: string, o: { filter?: string; dialect?: string } = {}) =>
    client.post(
      soap({
        action: A.enumerate,
        resourceUri: `${CIMV2}/${cls}`,
        body: enumerateBody({ optimize: true, max: 100, ...o }),
      }),
    );
  const names = (body: string) => [...body.matchAll(/<p:Name>([^<]*)<\/p:Name>/g)].map((m) => m[1]);
  const invoke = (method: string, name: string) =>
    client.post(
      soap({
        action: `${CIMV2}/Win32_Service/${method}`,
        resourceUri: `${CIMV2}/Win32_Service`,
        selectors: { Name: name },
        body: `<p:${method}_INPUT xmlns:p="${CIMV2}/Win32_Service"/>`,
      }),
    );
  const returnValue = (body: string) => /<p:ReturnValue>(\d+)<\/p:ReturnValue>/.exec(body)?.[1];

  it('Get Win32_Service?Name=WinRM: the instance in Windows form', async () => {
    const res = await get('Win32_Service', { Name: 'WinRM' });
    assert.equal(res.status, 200, res.body);
    assert.match(
      res.body,
      /<s:Body><p:Win32_Service xmlns:p="http:\/\/schemas\.microsoft\.com\/wbem\/wsman\/1\/wmi\/root\/cimv2\/Win32_Service" xmlns:cim="http:\/\/schemas\.dmtf\.org\/wbem\/wscim\/1\/common" xmlns:xsi="http:\/\/www\.w3\.org\/2001\/XMLSchema-instance" xsi:type="p:Win32_Service_Type" xml:lang="en-US"><p:AcceptPause>false<\/p:AcceptPause>/,
    );
    assert.match(res.body, /<p:Name>WinRM<\/p:Name>/);
    assert.match(res.body, /<p:State>Running<\/p:State>/);
    assert.match(res.body, /<p:InstallDate xsi:nil="true"\/>/);
    assert.match(res.body, /<p:SystemName>WIN-CIM<\/p:SystemName>/);
  });

  it('Get Win32_OperatingSystem without selectors (one instance), Win32_Processor DeviceID=CPU0 with LoadPercentage', async () => {
    const os = await get('Win32_OperatingSystem');
    assert.equal(os.status, 200, os.body);
    assert.match(os.body, /<p:CSName>WIN-CIM<\/p:CSName>/);
    assert.match(os.body, /<p:LastBootUpTime><cim:Datetime>[^<]+<\/cim:Datetime><\/p:LastBootUpTime>/);
    const cpu = await get('Win32_Processor', { DeviceID: 'CPU0' });
    assert.match(cpu.body, /<p:LoadPercentage>\d+<\/p:LoadPercentage>/);
    const cs = await get('Win32_ComputerSystem');
    assert.match(cs.body, /<p:Name>WIN-CIM<\/p:Name>/);
  });

  it('WQL: WHERE with =, <>, AND, OR, LIKE; a SELECT list keeps only those properties', async () => {
    const running = await enumAll('Win32_Service', {
      dialect: WQL,
      filter: "SELECT * FROM Win32_Service WHERE State = 'Running' AND Name &lt;&gt; 'Spooler'",
    });
    assert.deepEqual(names(running.body), ['EventLog', 'RpcSs', 'WinRM']);
    const either = await enumAll('Win32_Service', {
      dialect: WQL,
      filter: "select Name, State from win32_service where name like 'w%' or Name = 'BITS'",
    });
    assert.deepEqual(names(either.body), ['BITS', 'W32Time', 'WinRM']);
    assert.doesNotMatch(either.body, /DisplayName/);
    assert.match(either.body, /<p:Name>BITS<\/p:Name><p:State>Stopped<\/p:State><\/p:Win32_Service>/);
    const procs = await enumAll('Win32_Process', {
      dialect: WQL,
      filter: "SELECT Name FROM Win32_Process WHERE Name LIKE '%.exe'",
    });
    assert.ok(names(procs.body).length >= 3, procs.body);
  });

  it('selector filter and selectors on Enumerate', async () => {
    const res = await enumAll('Win32_Service', {
      dialect: SELECTOR,
      filter: '<w:SelectorSet><w:Selector Name="Name">Spooler</w:Selector></w:SelectorSet>',
    });
    assert.deepEqual(names(res.body), ['Spooler']);
  });

  it('StartService / StopService change State and answer 0, 10 (already running), 6 (not active), 5 (cannot accept control)', async () => {
    const start = await invoke('StartService', 'W32Time');
    assert.equal(start.status, 200, start.body);
    assert.match(
      start.body,
      /<a:Action>http:\/\/schemas\.microsoft\.com\/wbem\/wsman\/1\/wmi\/root\/cimv2\/Win32_Service\/StartServiceResponse<\/a:Action>/,
    );
    assert.match(
      start.body,
      /<s:Body><p:StartService_OUTPUT xmlns:p="http:\/\/schemas\.microsoft\.com\/wbem\/wsman\/1\/wmi\/root\/cimv2\/Win32_Service"><p:ReturnValue>0<\/p:ReturnValue><\/p:StartService_OUTPUT>/,
    );
    assert.match((await get('Win32_Service', { Name: 'W32Time' })).body, /<p:State>Running<\/p:State>/);
    assert.equal(returnValue((await invoke('StartService', 'W32Time')).body), '10');
    assert.equal(returnValue((await invoke('StopService', 'W32Time')).body), '0');
    assert.match((await get('Win32_Service', { Name: 'W32Time' })).body, /<p:State>Stopped<\/p:State>/);
    assert.equal(returnValue((await invoke('StopService', 'W32Time')).body), '6', 'not active');
    assert.equal(returnValue((await invoke('StopService', 'RpcSs')).body), '5');
    assert.match((await get('Win32_Service', { Name: 'RpcSs' })).body, /<p:State>Running<\/p:State>/);
  });

  it('Put changes a writable property (Win32_OperatingSystem Description) and refuses a read-only one', async () => {
    const body = (prop: string, v: string) =>
      `<p:Win32_OperatingSystem xmlns:p="${CIMV2}/Win32_OperatingSystem"><p:${prop}>${v}</p:${prop}></p:Win32_OperatingSystem>`;
    const put = await client.post(
      soap({
        action: A.put,
        resourceUri: `${CIMV2}/Win32_OperatingSystem`,
        body: body('Description', 'lab box'),
      }),
    );
    assert.equal(put.status, 200, put.body);
    assert.match(put.body, /<p:Description>lab box<\/p:Description>/);
    assert.match((await get('Win32_OperatingSystem')).body, /<p:Description>lab box<\/p:Description>/);
    const ro = await client.post(
      soap({ action: A.put, resourceUri: `${CIMV2}/Win32_OperatingSystem`, body: body('BuildNumber', '1') }),
    );
    assert.equal(ro.status, 500);
    assert.equal(faultOf(ro.body).subcode, 'w:InvalidParameter');
  });

  it('faults: unknown class, unknown selector, missing instance, bad WQL, unsupported dialect, unknown method', async () => {
    const cls = await get('Win32_NoSuchClass');
    assert.equal(cls.status, 500);
    assert.deepEqual(faultOf(cls.body), {
      subcode: 'a:DestinationUnreachable',
      code: '2150858752',
      detail: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidResourceURI',
    });
    assert.match(cls.body, /The WMI service returned an 'invalid class' error/);
    const sel = await get('Win32_Service', { Nom: 'WinRM' });
    assert.equal(faultOf(sel.body).subcode, 'w:InvalidSelectors');
    assert.match(sel.body, /UnexpectedSelectors/);
    const none = await get('Win32_Service', { Name: 'NoSuchService' });
    assert.equal(faultOf(none.body).subcode, 'w:InvalidSelectors');
    const many = await get('Win32_Service');
    assert.match(many.body, /InsufficientSelectors/);
    const bad = await enumAll('Win32_Service', { dialect: WQL, filter: 'SELECT FROM WHERE' });
    assert.equal(faultOf(bad.body).subcode, 'n:CannotProcessFilter');
    assert.match(bad.body, /'invalid query'/);
    const noProp = await enumAll('Win32_Service', {
      dialect: WQL,
      filter: "SELECT * FROM Win32_Service WHERE Nope = 'x'",
    });
    assert.equal(faultOf(noProp.body).subcode, 'n:CannotProcessFilter');
    const cql = await enumAll('Win32_Service', {
      dialect: 'http://schemas.dmtf.org/wbem/cql/1/dsp0202.pdf',
      filter: 'x',
    });
    assert.equal(faultOf(cql.body).subcode, 'n:FilterDialectRequestedUnavailable');
    const method = await invoke('Explode', 'WinRM');
    assert.equal(method.status, 500);
    assert.equal(faultOf(method.body).subcode, 'a:ActionNotSupported');
  });

  it('Enumerate then Pull pages Win32_Service to the end', async () => {
    const en = await client.post(
      soap({ action: A.enumerate, resourceUri: `${CIMV2}/Win32_Service`, body: enumerateBody() }),
    );
    let ctx = contextOf(en.body);
    const all: string[] = [];
    for (let i = 0; ctx && i < 20; i++) {
      const p = await client.post(
        soap({ action: A.pull, resourceUri: `${CIMV2}/Win32_Service`, body: pullBody(ctx, 4) }),
      );
      all.push(...(names(p.body) as string[]));
      ctx = contextOf(p.body);
    }
    assert.equal(ctx, undefined);
    assert.deepEqual(all, ['BITS', 'EventLog', 'RpcSs', 'Spooler', 'W32Time', 'WinRM']);
  });
});
