/** Receive semantics: OperationTimeout, prompt output, envelope splitting, back-pressure. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { builtinsHost, type MockServer, scriptedHost } from '../../src/mock/index.ts';
import { buildReceive, parseResponse } from '../../src/wsman/index.ts';
import { normalizeIds, RawClient, startBasicMock } from './helpers.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8').trim();

describe('mock Receive', () => {
  let mock: MockServer;
  let client: RawClient;
  before(async () => {
    mock = await startBasicMock({
      commandHost: scriptedHost(
        [
          {
            match: /^tick (\d+)$/,
            reply: async (c) => {
              await c.sleep(Number(c.match![1]));
              await c.stdout.write('tick\r\n');
              await c.sleep(5000);
              return 0;
            },
          },
          {
            match: 'interleave',
            reply: async (c) => {
              for (let i = 0; i < 50; i++) {
                await c.stdout.write(`out${i}\r\n`);
                await c.stderr.write(`err${i}\r\n`);
              }
              return 3;
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

  it('no output within OperationTimeout: HTTP 500 w:TimedOut 2150858793 in Windows form, after the timeout', async () => {
    const shellId = await client.createShell();
    const commandId = await client.command(shellId, 'mock-sleep 5000');
    const t0 = Date.now();
    const { res } = await client.receiveOnce(shellId, commandId, { operationTimeout: 0.3 });
    const elapsed = Date.now() - t0;
    assert.equal(res.status, 500);
    assert.ok(elapsed >= 280 && elapsed < 2000, `answered after ${elapsed} ms`);
    assert.equal(normalizeIds(res.body), normalizeIds(fixture('fault-timed-out.xml')));
    // The command is still there: poll again.
    const again = await client.receiveOnce(shellId, commandId, { operationTimeout: 0.2 });
    assert.equal(again.res.status, 500);
    await client.deleteShell(shellId);
  });

  it('output produced while waiting is returned at once, not at the timeout', async () => {
    const shellId = await client.createShell();
    const commandId = await client.command(shellId, 'tick 150');
    const t0 = Date.now();
    const { result } = await client.receiveOnce(shellId, commandId, { operationTimeout: 10 });
    const elapsed = Date.now() - t0;
    assert.ok(elapsed < 2000, `answered after ${elapsed} ms`);
    assert.equal(result?.state, 'Running');
    assert.equal(result?.chunks[0]?.data.toString(), 'tick\r\n');
    assert.equal(result?.exitCode, undefined);
    await client.deleteShell(shellId);
  });

  it('OperationTimeout is capped at MaxTimeoutms', async () => {
    const capped = await startBasicMock({ quotas: { maxTimeoutMs: 300 } });
    const c = new RawClient(capped.url);
    try {
      const shellId = await c.createShell();
      const commandId = await c.command(shellId, 'mock-sleep 5000');
      const t0 = Date.now();
      const { res } = await c.receiveOnce(shellId, commandId, { operationTimeout: 60 });
      assert.equal(res.status, 500);
      assert.ok(Date.now() - t0 < 2000);
    } finally {
      c.close();
      await capped.close();
    }
  });

  it('stdout and stderr keep their order and their separation; exit code', async () => {
    const r = await client.run('interleave');
    assert.equal(r.exitCode, 3);
    assert.equal(r.stdout.toString(), Array.from({ length: 50 }, (_, i) => `out${i}\r\n`).join(''));
    assert.equal(r.stderr.toString(), Array.from({ length: 50 }, (_, i) => `err${i}\r\n`).join(''));
  });

  for (const max of [8192, 20_000, 153_600]) {
    it(`large output is split so no response exceeds MaxEnvelopeSize ${max}; the chunks concatenate to the output`, async () => {
      const size = 300_000;
      const shellId = await client.createShell();
      const commandId = await client.command(shellId, `mock-output ${size}`);
      const chunks: Buffer[] = [];
      let responses = 0;
      let biggest = 0;
      for (;;) {
        const ctx = client.ctx({ maxEnvelopeSize: max });
        const res = await client.post(buildReceive(ctx, { shellId, commandId }));
        assert.equal(res.status, 200);
        const bytes = Buffer.byteLength(res.body);
        biggest = Math.max(biggest, bytes);
        assert.ok(bytes <= max, `response of ${bytes} bytes exceeds ${max}`);
        responses++;
        const msg = parseResponse(res.body, { relatesTo: ctx.messageId });
        const { parseReceiveResponse } = await import('../../src/wsman/index.ts');
        const r = parseReceiveResponse(msg, commandId);
        for (const c of r.chunks) if (c.name === 'stdout') chunks.push(c.data);
        if (r.state === 'Done') break;
      }
      const all = Buffer.concat(chunks);
      assert.equal(all.length, size);
      const pattern = 'abcdefghijklmnopqrstuvwxyz0123456789';
      assert.equal(all.toString('latin1', 0, 72), pattern + pattern);
      assert.equal(
        all.toString('latin1', size - 10),
        pattern.repeat(Math.ceil(size / 36)).slice(size - 10, size),
      );
      assert.ok(responses >= Math.floor(size / max), `${responses} responses`);
      // The splitter fills envelopes: the biggest response is close to the limit.
      assert.ok(biggest > max - 600, `biggest response ${biggest} of ${max}`);
      await client.deleteShell(shellId);
    });
  }

  it('output is buffered with a bound: the host pauses while nobody Receives (back-pressure)', async () => {
    const bounded = await startBasicMock({ outputBufferBytes: 256 * 1024 });
    const c = new RawClient(bounded.url);
    try {
      const shellId = await c.createShell();
      const commandId = await c.command(shellId, `mock-output ${20 * 1024 * 1024}`);
      await new Promise((r) => setTimeout(r, 300));
      const snap = bounded.shells()[0]!.commands[0]!;
      assert.ok(snap.queuedBytes <= 256 * 1024 + 65_536, `queued ${snap.queuedBytes}`);
      assert.ok(
        (snap.outputBytes.stdout ?? 0) < 1024 * 1024,
        `host wrote ${snap.outputBytes.stdout} without pause`,
      );
      assert.equal(snap.state, 'Running');
      // Receiving drains and lets it go on.
      await c.receiveOnce(shellId, commandId);
      await new Promise((r) => setTimeout(r, 100));
      assert.ok((bounded.shells()[0]!.commands[0]!.outputBytes.stdout ?? 0) > (snap.outputBytes.stdout ?? 0));
      await c.deleteShell(shellId);
    } finally {
      c.close();
      await bounded.close();
    }
  });

  it('the local host pauses the child’s stdout pipe while nobody Receives', {
    skip: process.platform === 'win32',
  }, async () => {
    const local = await startBasicMock({ commandHost: 'local', outputBufferBytes: 256 * 1024 });
    const c = new RawClient(local.url);
    try {
      const shellId = await c.createShell();
      const commandId = await c.command(shellId, 'head -c 50000000 /dev/zero');
      await new Promise((r) => setTimeout(r, 400));
      const written = local.shells()[0]!.commands[0]!.outputBytes.stdout ?? 0;
      assert.ok(
        written > 0 && written < 2 * 1024 * 1024,
        `host delivered ${written} bytes without a Receive`,
      );
      const { result } = await c.receiveOnce(shellId, commandId);
      assert.equal(result?.state, 'Running');
      await c.deleteShell(shellId);
    } finally {
      c.close();
      await local.close();
    }
  });

  it('a Receive whose client goes away does not consume output', async () => {
    const shellId = await client.createShell();
    const commandId = await client.command(shellId, 'tick 400');
    const quitter = new RawClient(mock.url);
    const pending = quitter.receiveOnce(shellId, commandId).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    quitter.close();
    await pending;
    const { result } = await client.receiveOnce(shellId, commandId, { operationTimeout: 5 });
    assert.equal(result?.chunks[0]?.data.toString(), 'tick\r\n');
    await client.deleteShell(shellId);
  });
});
