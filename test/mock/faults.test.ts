/** Faults in Windows' form: selectors, actions, resources, XML and schema, headers, envelope sizes, quotas. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { MockServer } from '../../src/mock/index.ts';
import {
  ACTIONS,
  buildCommand,
  buildCreateShell,
  buildGet,
  buildReceive,
  buildRequest,
  buildSend,
  buildSignal,
  RESOURCE_URIS,
} from '../../src/wsman/index.ts';
import { normalizeIds, RawClient, startBasicMock } from './helpers.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8').trim();

describe('mock faults', () => {
  let mock: MockServer;
  let client: RawClient;
  before(async () => {
    mock = await startBasicMock();
    client = new RawClient(mock.url);
  });
  after(async () => {
    client.close();
    await mock.close();
  });

  it('unknown ShellId: InvalidSelectors 2150858843, exactly the Windows fault', async () => {
    const shellId = '0A6B5C7D-1E2F-4A3B-8C9D-0E1F2A3B4C5D';
    const { error, res } = await client.fault(buildReceive(client.ctx(), { shellId, commandId: 'C' }));
    assert.equal(error.faultCode, 2150858843);
    assert.equal(error.subcode, 'InvalidSelectors');
    assert.equal(error.machine, '127.0.0.1', 'Machine is the host the client addressed');
    assert.equal(normalizeIds(res.body), normalizeIds(fixture('fault-invalid-selectors-shell.xml')));
  });

  it('unknown CommandId: InvalidSelectors 2150858843 with the command message', async () => {
    const shellId = await client.createShell();
    for (const xml of [
      buildReceive(client.ctx(), { shellId, commandId: 'NOPE' }),
      buildSend(client.ctx(), { shellId, commandId: 'NOPE', data: Buffer.from('x') }),
      buildSignal(client.ctx(), { shellId, commandId: 'NOPE' }),
    ]) {
      const { error, res } = await client.fault(xml);
      assert.equal(error.faultCode, 2150858843);
      assert.equal(normalizeIds(res.body), normalizeIds(fixture('fault-invalid-selectors-command.xml')));
    }
    await client.deleteShell(shellId);
  });

  it('Delete of an unknown shell and a missing ShellId selector are InvalidSelectors', async () => {
    const { error } = await client.fault(
      buildRequest(client.ctx(), {
        action: ACTIONS.delete,
        resourceUri: RESOURCE_URIS.cmd,
        selectors: { ShellId: 'X' },
      }),
    );
    assert.equal(error.faultCode, 2150858843);
    const missing = await client.fault(
      buildRequest(client.ctx(), { action: ACTIONS.delete, resourceUri: RESOURCE_URIS.cmd }),
    );
    assert.equal(missing.error.faultCode, 2150858843);
    assert.match(missing.error.faultMessage ?? '', /requires the following selector: ShellId/);
  });

  it('a shell of another user is not found', async () => {
    await mock.close();
    mock = await startBasicMock({
      users: [
        { name: 'a', password: 'pa' },
        { name: 'b', password: 'pb' },
      ],
    });
    client.close();
    const a = new RawClient(mock.url, { user: { name: 'a', password: 'pa' } });
    const b = new RawClient(mock.url, { user: { name: 'b', password: 'pb' } });
    const shellId = await a.createShell();
    const { error } = await b.fault(buildCommand(b.ctx(), { shellId, command: 'echo' }));
    assert.equal(error.faultCode, 2150858843);
    a.close();
    b.close();
    client = new RawClient(mock.url, { user: { name: 'a', password: 'pa' } });
  });

  it('unknown action on the shell resource: a:ActionNotSupported 2150858771 with the addressing fault action', async () => {
    const { error, res, msg } = await client.fault(
      buildRequest(client.ctx(), {
        action: 'http://example.com/NoSuchAction',
        resourceUri: RESOURCE_URIS.cmd,
      }),
    );
    assert.equal(error.subcode, 'ActionNotSupported');
    assert.equal(error.faultCode, 2150858771);
    assert.equal(msg.action, ACTIONS.addressingFault);
    assert.equal(normalizeIds(res.body), normalizeIds(fixture('fault-action-not-supported.xml')));
  });

  it('an unknown class: DestinationUnreachable 2150858752', async () => {
    const { error, msg } = await client.fault(
      buildGet(client.ctx(), {
        resourceUri: `${RESOURCE_URIS.cimv2}/Win32_NoSuchClass`,
        selectors: { Name: 'WinRM' },
      }),
    );
    assert.equal(error.subcode, 'DestinationUnreachable');
    assert.equal(error.faultCode, 2150858752);
    assert.equal(msg.action, ACTIONS.addressingFault);
    const config = await client.fault(
      buildGet(client.ctx(), { resourceUri: `${RESOURCE_URIS.config}/NoSuchSection` }),
    );
    assert.equal(config.error.faultCode, 2150858752);
  });

  it('malformed XML: SchemaValidationError family (2150858819, invalid XML)', async () => {
    const { error } = await client.fault(
      '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>',
    );
    assert.equal(error.subcode, 'SchemaValidationError');
    assert.equal(error.faultCode, 2150858819);
    const notSoap = await client.fault('<root/>');
    assert.equal(notSoap.error.faultCode, 2150858819);
  });

  it('a WinRS body with an element Windows does not know: SchemaValidationError 2150858817 naming it', async () => {
    const shellId = await client.createShell();
    const xml = buildCommand(client.ctx(), { shellId, command: 'echo', args: ['x'] }).replace(
      /rsp:Arguments>/g,
      'rsp:Argument>',
    );
    const { error, res } = await client.fault(xml);
    assert.equal(error.faultCode, 2150858817);
    assert.equal(normalizeIds(res.body), normalizeIds(fixture('fault-schema-validation.xml')));
    const noLine = await client.fault(
      buildRequest(client.ctx(), {
        action: ACTIONS.command,
        resourceUri: RESOURCE_URIS.cmd,
        selectors: { ShellId: shellId },
      }),
    );
    assert.equal(noLine.error.faultCode, 2150858817);
    await client.deleteShell(shellId);
  });

  it('an unknown header marked mustUnderstand: s:MustUnderstand with s:NotUnderstood', async () => {
    const xml = buildCreateShell(client.ctx()).replace(
      '</s:Header>',
      '<x:Extra xmlns:x="urn:example" s:mustUnderstand="true">1</x:Extra></s:Header>',
    );
    const { error, msg } = await client.fault(xml);
    assert.equal(error.soapCode, 'MustUnderstand');
    assert.match(msg.header?.toString() ?? '', /NotUnderstood qname="nu:Extra" xmlns:nu="urn:example"/);
    // Unknown headers without mustUnderstand are ignored, as are pywinrm's unqualified mustUnderstand attributes.
    const ok = await client.post(
      buildCreateShell(client.ctx()).replace(
        '</s:Header>',
        '<x:Extra xmlns:x="urn:x">1</x:Extra></s:Header>',
      ),
    );
    assert.equal(ok.status, 200);
  });

  it('missing Action, MessageID or ReplyTo: a:MessageInformationHeaderRequired 2150858769', async () => {
    const base = buildCreateShell(client.ctx());
    for (const strip of [
      /<a:Action[^>]*>[^<]*<\/a:Action>/,
      /<a:MessageID>[^<]*<\/a:MessageID>/,
      /<a:ReplyTo>.*?<\/a:ReplyTo>/,
    ]) {
      const { error } = await client.fault(base.replace(strip, ''));
      assert.equal(error.subcode, 'MessageInformationHeaderRequired');
      assert.equal(error.faultCode, 2150858769);
    }
  });

  it('an OperationTimeout that is not a duration: 2150858881', async () => {
    const xml = buildCreateShell(client.ctx()).replace(
      /<w:OperationTimeout>[^<]*</,
      '<w:OperationTimeout>soon<',
    );
    const { error } = await client.fault(xml);
    assert.equal(error.faultCode, 2150858881);
  });

  it('MaxEnvelopeSize below 8192: EncodingLimit 2150858878 (MinimumEnvelopeLimit)', async () => {
    const { error, res } = await client.fault(buildCreateShell(client.ctx({ maxEnvelopeSize: 4096 })));
    assert.equal(error.subcode, 'EncodingLimit');
    assert.equal(error.faultCode, 2150858878);
    assert.match(res.body, /faultDetail\/MinimumEnvelopeLimit/);
  });

  it('a request larger than the server MaxEnvelopeSize: HTTP 413, no SOAP body', async () => {
    const shellId = await client.createShell();
    const commandId = await client.command(shellId, 'mock-cat');
    const big = buildSend(client.ctx(), { shellId, commandId, data: Buffer.alloc(400_000, 1) });
    assert.ok(big.length > 512_000);
    const res = await client.post(big);
    assert.equal(res.status, 413);
    assert.equal(res.body, '');
    const fresh = new RawClient(mock.url, { user: client.options.user });
    await fresh.deleteShell(shellId);
    fresh.close();
  });
});

describe('mock quotas', () => {
  it('MaxShellsPerUser: 2150859173 in Windows form; Delete frees a slot', async () => {
    const mock = await startBasicMock({ quotas: { maxShellsPerUser: 2 } });
    const c = new RawClient(mock.url);
    try {
      const a = await c.createShell();
      await c.createShell();
      const { error, res } = await c.fault(buildCreateShell(c.ctx()));
      assert.equal(error.faultCode, 2150859173);
      assert.equal(error.subcode, 'QuotaLimit');
      assert.equal(
        normalizeIds(res.body),
        normalizeIds(
          fixture('fault-quota-shells.xml').replace('maximum number of 30', 'maximum number of 2'),
        ),
      );
      await c.deleteShell(a);
      await c.createShell();
    } finally {
      c.close();
      await mock.close();
    }
  });

  it('MaxConcurrentOperationsPerUser: terminate does not give operations back, Delete does (note 118)', async () => {
    const mock = await startBasicMock({ quotas: { maxConcurrentOperationsPerUser: 4 } });
    const c = new RawClient(mock.url);
    try {
      const shellId = await c.createShell(); // 1
      for (let i = 0; i < 3; i++) {
        const id = await c.command(shellId, 'echo x'); // 2, 3, 4
        await c.receiveAll(shellId, id);
        await c.signal(shellId, id, 'terminate');
      }
      const { error, res } = await c.fault(buildCommand(c.ctx(), { shellId, command: 'echo x' }));
      assert.equal(error.faultCode, 2150859174);
      assert.equal(
        normalizeIds(res.body),
        normalizeIds(
          fixture('fault-quota-operations.xml').replace('maximum number of 1500', 'maximum number of 4'),
        ),
      );
      await c.deleteShell(shellId);
      const again = await c.createShell();
      await c.command(again, 'echo x');
    } finally {
      c.close();
      await mock.close();
    }
  });

  it('MaxConcurrentCommandsPerShell (opt-in): QuotaLimit until the previous command is complete', async () => {
    const mock = await startBasicMock({ quotas: { maxConcurrentCommandsPerShell: 1 } });
    const c = new RawClient(mock.url);
    try {
      const shellId = await c.createShell();
      const first = await c.command(shellId, 'echo 1');
      const { error } = await c.fault(buildCommand(c.ctx(), { shellId, command: 'echo 2' }));
      assert.equal(error.subcode, 'QuotaLimit');
      await c.receiveAll(shellId, first);
      await c.command(shellId, 'echo 2');
    } finally {
      c.close();
      await mock.close();
    }
  });

  it('shell IdleTimeout: an idle shell is deleted; later requests get InvalidSelectors', async () => {
    // Waits poll with a wide bound instead of sleeping a fixed time: on a busy machine the reaper's timer fires late.
    const waitFor = async (cond: () => boolean, what: string) => {
      const until = Date.now() + 20_000;
      while (!cond()) {
        if (Date.now() > until) assert.fail(`timed out waiting: ${what}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    const mock = await startBasicMock({ quotas: { idleTimeoutMs: 200 } });
    const c = new RawClient(mock.url);
    try {
      const shellId = await c.createShell();
      assert.equal(mock.shells().length, 1);
      await waitFor(() => mock.shells().length === 0, 'the idle shell to be deleted');
      const { error } = await c.fault(buildCommand(c.ctx(), { shellId, command: 'echo' }));
      assert.equal(error.faultCode, 2150858843);
    } finally {
      c.close();
      await mock.close();
    }
  });

  it('shell IdleTimeout: a shell in use stays past the timeout', async () => {
    // Activity every 1 s keeps a shell with a 5 s IdleTimeout alive for 6 s; the gaps leave 4 s for a busy machine.
    const mock = await startBasicMock({ quotas: { idleTimeoutMs: 5000 } });
    const c = new RawClient(mock.url);
    try {
      const busy = await c.createShell();
      const started = Date.now();
      while (Date.now() - started < 6000) {
        await new Promise((r) => setTimeout(r, 1000));
        await c.command(busy, 'echo x');
      }
      assert.equal(mock.shells().length, 1);
    } finally {
      c.close();
      await mock.close();
    }
  });

  it('MaxMemoryPerShellMB: a command over the quota fails as Windows job limits fail it (no WS-Man fault)', async () => {
    const mock = await startBasicMock({ quotas: { maxMemoryPerShellMB: 100 } });
    const c = new RawClient(mock.url);
    try {
      const within = await c.run('mock-memory 50');
      assert.equal(within.exitCode, 0);
      const over = await c.run('mock-memory 150');
      assert.equal(over.exitCode, 1455);
      assert.equal(
        over.stderr.toString(),
        'The paging file is too small for this operation to complete.\r\n',
      );
    } finally {
      c.close();
      await mock.close();
    }
  });
});
