/** Fault injection: drop, hang, delay, status, fault, truncate; matching by action and nth; once. */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { MockServer } from '../../src/mock/index.ts';
import { buildCommand, buildCreateShell, buildIdentify } from '../../src/wsman/index.ts';
import { RawClient, startBasicMock } from './helpers.ts';

describe('mock fault injection', () => {
  let mock: MockServer;
  let client: RawClient;
  before(async () => {
    mock = await startBasicMock();
  });
  beforeEach(() => {
    mock.clearInjections();
    client?.close();
    client = new RawClient(mock.url);
  });
  after(async () => {
    client.close();
    await mock.close();
  });

  it('fault: a known code gets the full Windows fault; only the matching action is hit, once', async () => {
    const shellId = await client.createShell();
    mock.inject({ match: { action: 'Command' }, kind: 'fault', fault: { wsmanCode: 2150858843 } });
    // Other actions pass.
    assert.equal((await client.post(buildIdentify())).status, 200);
    const { error } = await client.fault(buildCommand(client.ctx(), { shellId, command: 'echo' }));
    assert.equal(error.faultCode, 2150858843);
    assert.equal(error.subcode, 'InvalidSelectors');
    assert.match(error.faultMessage ?? '', new RegExp(`ShellId ${shellId} failed`));
    // Once: the next Command goes through, and the injected one did not run anything.
    await client.command(shellId, 'echo');
    assert.equal(mock.shells()[0]!.commands.length, 1);
    const entry = mock.requestLog.find((e) => e.injected === 'fault')!;
    assert.equal(entry.faultCode, 2150858843);
  });

  it('fault: an unknown code with overrides; full action URIs match too', async () => {
    mock.inject({
      match: { action: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Create' },
      kind: 'fault',
      fault: { wsmanCode: 2147942405, subcode: 'w:InternalError', message: 'Access is denied. ' },
    });
    const { error } = await client.fault(buildCreateShell(client.ctx()));
    assert.equal(error.faultCode, 2147942405);
    assert.equal(error.subcode, 'InternalError');
    assert.equal(error.faultMessage, 'Access is denied.');
  });

  it('status: answers the HTTP status without processing', async () => {
    const open = mock.shells().length;
    mock.inject({ match: { action: 'Create' }, kind: 'status', status: 503 });
    const res = await client.post(buildCreateShell(client.ctx()));
    assert.equal(res.status, 503);
    assert.equal(mock.shells().length, open);
  });

  it('nth and once:false: fires from the nth match on', async () => {
    mock.inject({ match: { action: 'Identify', nth: 2 }, once: false, kind: 'status', status: 502 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await client.post(buildIdentify())).status);
    assert.deepEqual(statuses, [200, 502, 502, 502]);
    mock.clearInjections();
    assert.equal((await client.post(buildIdentify())).status, 200);
  });

  it('delay: answers normally after the delay', async () => {
    mock.inject({ kind: 'delay', delayMs: 250 });
    const t0 = Date.now();
    const res = await client.post(buildIdentify());
    assert.equal(res.status, 200);
    assert.ok(Date.now() - t0 >= 240);
  });

  it('drop: the connection is closed without an answer', async () => {
    mock.inject({ match: { action: 'Identify' }, kind: 'drop' });
    await assert.rejects(client.post(buildIdentify()), /socket hang up|ECONNRESET/);
    const fresh = new RawClient(mock.url);
    assert.equal((await fresh.post(buildIdentify())).status, 200);
    fresh.close();
  });

  it('hang: no answer until the client gives up', async () => {
    mock.inject({ match: { action: 'Identify' }, kind: 'hang' });
    const ac = new AbortController();
    const t = setTimeout(() => ac.abort(), 300);
    await assert.rejects(
      fetch(mock.url, {
        method: 'POST',
        body: buildIdentify(),
        headers: { Authorization: `Basic ${Buffer.from('vagrant:vagrant').toString('base64')}` },
        signal: ac.signal,
      }),
      /abort/i,
    );
    clearTimeout(t);
  });

  it('truncate: half the body, then the connection closes', async () => {
    mock.inject({ match: { action: 'Create' }, kind: 'truncate' });
    await assert.rejects(client.post(buildCreateShell(client.ctx())), /aborted|ECONNRESET|socket hang up/);
    const entry = mock.requestLog.find((e) => e.injected === 'truncate')!;
    assert.ok(entry.responseBytes > 0);
  });

  it('rejects a bad nth', () => {
    assert.throws(() => mock.inject({ match: { nth: 0 }, kind: 'drop' }), /nth/);
  });
});
