/**
 * The request template cache: templates are shared across hosts and shells (a:To, MessageID and selector values
 * are slots), the cache is bounded and keeps what is in use, and a cached envelope is byte for byte what the
 * uncached writer produces.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ACTIONS,
  type ActionHeader,
  buildCommand,
  buildReceive,
  buildRequest,
  buildRequestCached,
  buildSend,
  buildSignal,
  parseSoap,
  RESOURCE_URIS,
  readRequestHeader,
  templateCacheStats,
} from './helpers.ts';

const uuid = (i: number) => `uuid:${i.toString(16).padStart(8, '0')}-2222-3333-4444-555555555555`;
const shellHeader = (shellId: string): ActionHeader => ({
  action: ACTIONS.delete,
  resourceUri: RESOURCE_URIS.cmd,
  selectors: { ShellId: shellId },
});

describe('envelope template cache', () => {
  it('500 hosts, each with its own shell, share one template per message shape', () => {
    const before = templateCacheStats();
    for (let h = 0; h < 500; h++) {
      const ctx = { to: `http://host-${h}.example.com:5985/wsman?tenant=${h}&x=1`, messageId: uuid(h) };
      const shellId = `SHELL-${h}`;
      buildCommand(ctx, { shellId, command: 'echo', args: ['hi'] });
      buildReceive(ctx, { shellId, commandId: `CMD-${h}` });
      buildSend(ctx, { shellId, commandId: `CMD-${h}`, data: Buffer.from('x'), end: true });
      buildSignal(ctx, { shellId, commandId: `CMD-${h}` });
    }
    const after = templateCacheStats();
    // Four shapes; other tests in this process may have written some of them already.
    assert.ok(after.compiled - before.compiled <= 4, `${after.compiled - before.compiled} templates written`);
    assert.ok(after.size - before.size <= 4, `cache grew by ${after.size - before.size}`);
  });

  it('the target, MessageID and ShellId of each host arrive intact (a URL with & and <)', () => {
    for (const to of ['http://h:5985/wsman?a=1&b=2', 'https://h/wsman?q=<x>&amp;', 'http://h/ü/"\'']) {
      const xml = buildReceive({ to, messageId: uuid(7) }, { shellId: 'S&<>"', commandId: 'C' });
      const header = readRequestHeader(parseSoap(xml));
      assert.equal(header.to, to);
      assert.equal(header.messageId, uuid(7).toUpperCase().replace('UUID:', 'uuid:'));
      assert.equal(header.selectors.ShellId, 'S&<>"');
    }
  });

  it('a cached envelope is byte for byte the uncached one', () => {
    const text = fc.stringOf(
      fc.oneof(fc.constantFrom('&', '<', '>', '"', "'", '&amp;', '\t', '\n', '#PAYLOAD0#'), fc.char()),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(
        text,
        fc.dictionary(fc.constantFrom('ShellId', 'Name', '__cimnamespace'), text, { maxKeys: 3 }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
        (to, selectors, id, session) => {
          const ctx = {
            to,
            messageId: uuid(id),
            sessionId: session === undefined ? undefined : uuid(session),
          };
          const header: ActionHeader = { action: ACTIONS.get, resourceUri: RESOURCE_URIS.config, selectors };
          assert.equal(buildRequestCached(ctx, header, 'test|plain'), buildRequest(ctx, header));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('values XML cannot carry are refused in slots as in the uncached writer', () => {
    for (const to of ['http://h/\r', 'http://h/\u0001']) {
      const ctx = { to, messageId: uuid(1) };
      assert.throws(() => buildRequest(ctx, shellHeader('S')), { name: 'InvalidArgumentError' });
      assert.throws(() => buildRequestCached(ctx, shellHeader('S'), 'test|bad'), {
        name: 'InvalidArgumentError',
      });
      assert.throws(() => buildRequestCached({ to: 'http://h', messageId: uuid(1) }, shellHeader(to), 'k'), {
        name: 'InvalidArgumentError',
      });
    }
  });

  it('is bounded: distinct shapes beyond the cap evict the least recently used, not the hot one', () => {
    const { limit } = templateCacheStats();
    const hot = { to: 'http://hot:5985/wsman', messageId: uuid(1) };
    buildRequestCached(hot, shellHeader('S'), 'test|hot');
    const compiledBefore = templateCacheStats().compiled;
    for (let i = 0; i < limit * 2; i++) {
      // A distinct OperationTimeout per message is a distinct shape.
      buildRequestCached({ ...hot, operationTimeout: 1000 + i }, shellHeader('S'), 'test|cold');
      buildRequestCached(hot, shellHeader(`S-${i}`), 'test|hot');
      assert.ok(templateCacheStats().size <= limit);
    }
    // Every cold shape was written once; the hot one was never written again.
    assert.equal(templateCacheStats().compiled - compiledBefore, limit * 2);
  });
});
