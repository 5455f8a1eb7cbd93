/** Every WinRS action against the mock over raw HTTP, checked with the shared parsers and Windows' fixtures. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { builtinsHost, EXIT_CTRL_C, type MockServer, scriptedHost } from '../../src/mock/index.ts';
import {
  ACTIONS,
  buildCreateShell,
  buildIdentify,
  buildReceive,
  NS,
  parseCreateShellResponse,
  parseIdentifyResponse,
  parseResponse,
  RESOURCE_URIS,
} from '../../src/wsman/index.ts';
import { child } from '../../src/wsman/xml.ts';
import { normalizeIds, RawClient, startBasicMock } from './helpers.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8').trim();

describe('mock protocol: WinRS actions', () => {
  let mock: MockServer;
  let client: RawClient;
  before(async () => {
    mock = await startBasicMock({
      commandHost: scriptedHost(
        [
          {
            match: 'wait-for-signal',
            reply: async (c) => {
              await c.stdout.write('waiting\r\n');
              await new Promise((r) => c.signal.addEventListener('abort', r, { once: true }));
              throw c.signal.reason;
            },
          },
        ],
        { fallback: builtinsHost() },
      ),
    });
    client = new RawClient(mock.url);
  });
  after(async () => {
    client.close();
    await mock.close();
  });

  it('Create answers ResourceCreated with the ShellId selector and the rsp:Shell block, in Windows form', async () => {
    const ctx = client.ctx();
    const res = await client.post(buildCreateShell(ctx, { codepage: 65001, idleTimeout: 600 }));
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/soap+xml;charset=UTF-8');
    assert.equal(res.headers.server, 'Microsoft-HTTPAPI/2.0');
    const msg = parseResponse(res.body, { relatesTo: ctx.messageId });
    assert.equal(msg.action, ACTIONS.createResponse);
    const created = parseCreateShellResponse(msg);
    assert.match(created.shellId, /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    assert.equal(created.owner, 'vagrant');
    assert.equal(created.clientIp, '127.0.0.1');
    assert.equal(created.idleTimeout, 600);
    assert.equal(created.resourceUri, RESOURCE_URIS.cmd);
    const address = child(child(msg.body, 'x', 'ResourceCreated')!, 'a', 'Address');
    assert.equal(address?.textContent, mock.url, 'a:Address echoes the request a:To');
    // Same shape as the captured Windows response once ids, address, owner, IP and timeout are normalized.
    const norm = (x: string) =>
      normalizeIds(x)
        .replace(/<a:Address>[^<]*</, '<a:Address>A<')
        .replace(/<rsp:Owner>[^<]*</, '<rsp:Owner>O<')
        .replace(/<rsp:ClientIP>[^<]*</, '<rsp:ClientIP>IP<')
        .replace(/<rsp:IdleTimeOut>[^<]*</, '<rsp:IdleTimeOut>T<');
    assert.equal(norm(res.body), norm(fixture('create-shell-response.xml')));
    await client.deleteShell(created.shellId);
  });

  it('a default Create has Windows IdleTimeOut PT7200.000S and codepage 437', async () => {
    const ctx = client.ctx();
    const res = await client.post(buildCreateShell(ctx));
    assert.match(res.body, /<rsp:IdleTimeOut>PT7200\.000S<\/rsp:IdleTimeOut>/);
    const shellId = parseCreateShellResponse(parseResponse(res.body)).shellId;
    assert.equal(
      mock.shells().find((s) => s.shellId === shellId)?.codepage,
      65001,
      'the builder sends 65001',
    );
    await client.deleteShell(shellId);
    const noCodepage = buildCreateShell(client.ctx()).replace(
      /<w:Option Name="WINRS_CODEPAGE">\d+<\/w:Option>/,
      '',
    );
    assert.ok(!noCodepage.includes('WINRS_CODEPAGE'));
    const id2 = parseCreateShellResponse(parseResponse((await client.post(noCodepage)).body)).shellId;
    assert.equal(mock.shells().find((s) => s.shellId === id2)?.codepage, 437);
    await client.deleteShell(id2);
  });

  it('Command, Receive (Done, exit code, End markers), Signal terminate, Delete', async () => {
    const shellId = await client.createShell();
    const ctx = client.ctx();
    const commandId = await client.command(shellId, 'echo', ['hello']);
    const r = await client.receiveAll(shellId, commandId);
    assert.equal(r.stdout.toString(), 'hello\r\n');
    assert.equal(r.stderr.length, 0);
    assert.equal(r.exitCode, 0);
    await client.signal(shellId, commandId, 'terminate');
    assert.deepEqual(mock.shells()[0]?.commands[0]?.signals, ['terminate']);
    await client.deleteShell(shellId);
    assert.equal(mock.shells().length, 0);
    assert.ok(ctx);
  });

  it('the final ReceiveResponse matches the captured form (stream, End markers, Done, ExitCode)', async () => {
    const shellId = await client.createShell();
    const commandId = await client.command(shellId, 'nosuchcmd');
    // Let the command finish so the first Receive is the final one.
    await new Promise((r) => setTimeout(r, 50));
    const { res } = await client.receiveOnce(shellId, commandId);
    assert.equal(normalizeIds(res.body), normalizeIds(fixture('receive-done-exit-1.xml')));
    await client.deleteShell(shellId);
  });

  it('RelatesTo echoes the MessageID verbatim (lower-case stays lower-case)', async () => {
    const shellId = await client.createShell();
    const id = 'uuid:0a1b2c3d-4e5f-4a6b-8c9d-0e1f2a3b4c5d';
    const body = buildReceive({ to: mock.url, messageId: id }, { shellId, commandId: 'X' }).replace(
      'uuid:0A1B2C3D-4E5F-4A6B-8C9D-0E1F2A3B4C5D',
      id,
    );
    const res = await client.post(body);
    assert.match(res.body, /<a:RelatesTo>uuid:0a1b2c3d-4e5f-4a6b-8c9d-0e1f2a3b4c5d<\/a:RelatesTo>/);
    await client.deleteShell(shellId);
  });

  it('Send feeds stdin; End="true" closes it', async () => {
    const r = await client.run('mock-cat', { stdin: Buffer.from([0, 1, 2, 255, 13, 10]) });
    assert.deepEqual([...r.stdout], [0, 1, 2, 255, 13, 10]);
    assert.equal(r.exitCode, 0);
  });

  it('Send in several chunks, then End', async () => {
    const shellId = await client.createShell();
    const commandId = await client.command(shellId, 'mock-cat');
    await client.send(shellId, commandId, 'abc');
    await client.send(shellId, commandId, 'def');
    await client.send(shellId, commandId, '', true);
    const r = await client.receiveAll(shellId, commandId);
    assert.equal(r.stdout.toString(), 'abcdef');
    const snap = mock.shells()[0]!.commands[0]!;
    assert.equal(snap.stdinBytes, 6);
    assert.equal(snap.stdinEnded, true);
    await client.deleteShell(shellId);
  });

  it('Signal ctrl_c aborts the host; the command ends with STATUS_CONTROL_C_EXIT', async () => {
    const shellId = await client.createShell();
    const commandId = await client.command(shellId, 'wait-for-signal');
    const first = await client.receiveOnce(shellId, commandId);
    assert.equal(first.result?.state, 'Running');
    assert.equal(first.result?.chunks[0]?.data.toString(), 'waiting\r\n');
    await client.signal(shellId, commandId, 'ctrl_c');
    const r = await client.receiveAll(shellId, commandId);
    assert.equal(r.exitCode, EXIT_CTRL_C);
    await client.signal(shellId, commandId, 'terminate');
    assert.deepEqual(mock.shells()[0]!.commands[0]!.signals, ['ctrl_c', 'terminate']);
    await client.deleteShell(shellId);
  });

  it('after terminate the command id is gone: Receive gets InvalidSelectors 2150858843', async () => {
    const shellId = await client.createShell();
    const commandId = await client.command(shellId, 'mock-sleep 5000');
    await client.signal(shellId, commandId, 'terminate');
    const { error } = await client.fault(buildReceive(client.ctx(), { shellId, commandId }));
    assert.equal(error.faultCode, 2150858843);
    assert.equal(error.subcode, 'InvalidSelectors');
    await client.deleteShell(shellId);
  });

  it('after the final Done the command is complete: another Receive is InvalidSelectors, terminate still works', async () => {
    const shellId = await client.createShell();
    const commandId = await client.command(shellId, 'echo x');
    await client.receiveAll(shellId, commandId);
    const { error } = await client.fault(buildReceive(client.ctx(), { shellId, commandId }));
    assert.equal(error.faultCode, 2150858843);
    await client.signal(shellId, commandId, 'terminate');
    await client.deleteShell(shellId);
  });

  it('WINRS_CODEPAGE: 437 and 65001 encode non-ASCII text differently', async () => {
    const utf8 = await client.run('echo é½░€', { codepage: 65001 });
    const oem = await client.run('echo é½░€', { codepage: 437 });
    assert.deepEqual(utf8.stdout, Buffer.from('é½░€\r\n', 'utf8'));
    // 437: é=0x82, ½=0xAB, ░=0xB0; € has no 437 code and becomes '?'.
    assert.deepEqual(oem.stdout, Buffer.from([0x82, 0xab, 0xb0, 0x3f, 13, 10]));
  });

  it('Identify with credentials: OS version and SecurityProfiles', async () => {
    const res = await client.post(buildIdentify());
    assert.equal(res.status, 200);
    const id = parseIdentifyResponse(parseResponse(res.body));
    assert.equal(id.productVendor, 'Microsoft Corporation');
    assert.equal(id.productVersion, 'OS: 10.0.17763 SP: 0.0 Stack: 3.0');
    assert.deepEqual(id.securityProfiles, [
      'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/basic',
    ]);
    assert.ok(res.body.startsWith(`<s:Envelope xml:lang="en-US" xmlns:s="${NS.s}"><s:Header></s:Header>`));
  });

  it('Identify without credentials needs WSMANIDENTIFY: unauthenticated (else 401)', async () => {
    const anon = new RawClient(mock.url, { user: null });
    try {
      const res = await anon.post(buildIdentify(), { WSMANIDENTIFY: 'unauthenticated' });
      assert.equal(res.status, 200);
      assert.equal(res.body, fixture('identify-response-unauthenticated.xml'));
      const denied = await anon.post(buildIdentify());
      assert.equal(denied.status, 401);
      // The header does not open other actions.
      const create = await anon.post(buildCreateShell(anon.ctx()), { WSMANIDENTIFY: 'unauthenticated' });
      assert.equal(create.status, 401);
    } finally {
      anon.close();
    }
  });
});
