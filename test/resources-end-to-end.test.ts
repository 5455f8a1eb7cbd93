/**
 * The resource API (src/winrm/resources.ts) against the mock's resource layer (CIM provider and the live
 * winrm/config tree), with the seed's command lines in API form. Each side was built from the wire format
 * alone; this is where they meet.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect, type WinRmInternalConnection } from '../src/index.ts';
import { type MockServer, startMockServer } from '../src/mock/index.ts';

const USER = { name: 'resadmin', password: 'Res-Pass-2026' };

describe('resources end to end (our client against the mock)', () => {
  let mock: MockServer;
  let conn: WinRmInternalConnection;
  before(async () => {
    mock = await startMockServer({ users: [USER], auth: { basic: true }, allowUnencrypted: true });
    conn = (await connect({
      endpoint: mock.url,
      username: USER.name,
      password: USER.password,
      allowUnencrypted: true,
      verify: true,
    })) as WinRmInternalConnection;
  });
  after(async () => {
    await conn?.close();
    await mock?.close();
  });

  it('winrm id: the authenticated Identify names the product', async () => {
    const id = await conn.identify();
    assert.match(JSON.stringify(id), /Microsoft/);
  });

  it('winrm get wmicimv2/Win32_Service?Name=WinRM', async () => {
    const svc = await conn.get('wmicimv2/Win32_Service?Name=WinRM');
    assert.equal(svc.properties.Name, 'WinRM');
    assert.equal(svc.properties.State, 'Running');
  });

  it('winrm g wmicimv2/Win32_Processor?DeviceID=CPU0 -fragment:LoadPercentage', async () => {
    const frag = await conn.get('wmicimv2/Win32_Processor?DeviceID=CPU0', { fragment: 'LoadPercentage' });
    assert.match(frag.xml, /LoadPercentage/);
  });

  it('winrm enumerate wmicimv2/Win32_Service with a WQL filter', async () => {
    const names: string[] = [];
    for await (const s of conn.enumerate('wmicimv2/*', {
      filter: "SELECT Name, State FROM Win32_Service WHERE State = 'Running'",
      maxElements: 1,
    })) {
      assert.equal(s.properties.State, 'Running');
      names.push(String(s.properties.Name));
    }
    assert.ok(names.includes('WinRM'), names.join(', '));
  });

  it('winrm invoke StartService / StopService wmicimv2/Win32_Service?Name=w32time @{}', async () => {
    const w32time = 'wmicimv2/Win32_Service?Name=w32time';
    const initial = (await conn.get(w32time)).properties.State;
    if (initial === 'Running') {
      assert.equal((await conn.invoke(w32time, 'StopService', '@{}')).properties.ReturnValue, '0');
    }
    assert.equal((await conn.invoke(w32time, 'StartService', '@{}')).properties.ReturnValue, '0');
    assert.equal((await conn.get(w32time)).properties.State, 'Running');
    assert.equal(
      (await conn.invoke(w32time, 'StartService', '@{}')).properties.ReturnValue,
      '10',
      'already running',
    );
    assert.equal((await conn.invoke(w32time, 'StopService', '@{}')).properties.ReturnValue, '0');
    assert.equal((await conn.get(w32time)).properties.State, 'Stopped');
  });

  it('winrm get winrm/config, and set winrm/config/service @{MaxConcurrentOperationsPerUser="1500"} takes', async () => {
    const cfg = await conn.get('winrm/config');
    assert.ok(cfg.properties.Service, 'the tree nests the Service section');
    await conn.put('winrm/config/service', '@{MaxConcurrentOperationsPerUser="1500"}');
    const svc = await conn.get('winrm/config/service');
    assert.equal(svc.properties.MaxConcurrentOperationsPerUser, '1500');
  });

  it('winrm e winrm/config/listener shows the listener', async () => {
    const listeners = [];
    for await (const l of conn.enumerate('winrm/config/listener')) listeners.push(l.properties);
    assert.deepEqual(
      listeners.map((l) => l.Transport),
      ['HTTP', 'HTTPS'],
    );
  });

  it('an unknown class is a typed fault', async () => {
    await assert.rejects(
      conn.get('wmicimv2/Win32_NoSuchClass'),
      (err: Error) => err.name === 'WsmanFaultError',
    );
  });
});
