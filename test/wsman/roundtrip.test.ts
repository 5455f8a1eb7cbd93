/** Property tests: build -> parse round trips, and hostile mutations never escape as anything but WinRmError. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { WinRmError } from '../../src/errors.ts';
import { mutate, mutationArb } from '../helpers/mutation.ts';
import {
  ACTIONS,
  buildCommand,
  buildReply,
  buildSend,
  childElementsOf,
  commandStateElement,
  NS,
  parseReceiveResponse,
  parseResponse,
  parseSoap,
  readRequestHeader,
  streamElement,
} from './helpers.ts';

const ctx = { to: 'http://h:5985/wsman', messageId: 'uuid:11111111-2222-3333-4444-555555555555' };
const SHELL = 'S-1';
const CMD = 'C-1';
// Characters XML 1.0 can carry (no C0 controls other than tab/LF/CR, no lone surrogates, no U+FFFE/FFFF).
const xmlChar = fc
  .integer({ min: 0x20, max: 0x2ffff })
  .filter((c) => !(c >= 0xd800 && c <= 0xdfff) && c !== 0xfffe && c !== 0xffff)
  .map((c) => String.fromCodePoint(c));
const xmlString = fc.oneof(
  fc.stringOf(xmlChar, { maxLength: 60 }),
  fc.constantFrom(
    '&',
    '<>',
    ']]>',
    '"\'',
    'a&amp;b',
    'line1\r\nline2',
    '\ttab\n',
    '#PAYLOAD0#',
    '#PAYLOAD1#',
    '&#13;',
  ),
);

describe('round trips', () => {
  it('Command: random command and arguments survive build -> parse', () => {
    fc.assert(
      fc.property(xmlString, fc.array(xmlString, { maxLength: 6 }), (command, args) => {
        const msg = parseSoap(buildCommand(ctx, { shellId: SHELL, command, args }));
        const line = childElementsOf(msg.body, 'rsp', 'CommandLine')[0]!;
        const got = childElementsOf(line, 'rsp', 'Command')[0]!.textContent ?? '';
        const gotArgs = childElementsOf(line, 'rsp', 'Arguments').map((a) => a.textContent ?? '');
        // The parser trims ids, but command text is data: compare untrimmed.
        assert.equal(got, command);
        assert.deepEqual(gotArgs, args);
        assert.equal(readRequestHeader(msg).selectors.ShellId, SHELL);
      }),
      { numRuns: 200 },
    );
  });

  it('Send: binary stdin (all byte values, empty, random) survives base64 framing', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const check = (data: Uint8Array, end: boolean) => {
      const msg = parseSoap(buildSend(ctx, { shellId: SHELL, commandId: CMD, data, end }));
      const stream = childElementsOf(childElementsOf(msg.body, 'rsp', 'Send')[0]!, 'rsp', 'Stream')[0]!;
      assert.equal(stream.getAttribute('End') === 'true', end);
      assert.deepEqual(Buffer.from(stream.textContent ?? '', 'base64'), Buffer.from(data));
    };
    check(all, true);
    check(new Uint8Array(0), true);
    check(Buffer.alloc(1024 * 1024, 0xa5), false);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 4096 }), fc.boolean(), check), { numRuns: 100 });
  });

  it('Receive: random stdout/stderr chunks, state and exit code survive reply -> parse', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            name: fc.constantFrom('stdout', 'stderr'),
            data: fc.uint8Array({ maxLength: 2048 }),
            end: fc.boolean(),
          }),
          {
            maxLength: 5,
          },
        ),
        fc.option(fc.integer({ min: -2147483648, max: 2147483647 }), { nil: undefined }),
        (chunks, exitCode) => {
          const state = exitCode === undefined ? 'Running' : 'Done';
          const body =
            '<rsp:ReceiveResponse>' +
            chunks
              .map((c) => streamElement(c.name, CMD, Buffer.from(c.data).toString('base64'), c.end))
              .join('') +
            `${commandStateElement(CMD, state, exitCode)}</rsp:ReceiveResponse>`;
          const xml = buildReply(
            { action: ACTIONS.receiveResponse, relatesTo: ctx.messageId, kind: 'receive' },
            body,
          );
          const res = parseReceiveResponse(parseResponse(xml, { relatesTo: ctx.messageId }), CMD);
          assert.equal(res.chunks.length, chunks.length);
          res.chunks.forEach((c, i) => {
            assert.equal(c.name, chunks[i]!.name);
            assert.equal(c.end, chunks[i]!.end);
            assert.deepEqual(c.data, Buffer.from(chunks[i]!.data));
          });
          assert.equal(res.state, exitCode === undefined ? 'Running' : 'Done');
          assert.equal(res.exitCode, exitCode);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('hostile input', () => {
  const fixtureDir = new URL('../fixtures/', import.meta.url).pathname;
  const samples: string[] = [
    buildCommand(ctx, { shellId: SHELL, command: 'echo', args: ['x'] }),
    buildSend(ctx, { shellId: SHELL, commandId: CMD, data: Buffer.from('hi') }),
  ];
  try {
    for (const f of readdirSync(fixtureDir))
      if (f.endsWith('.xml')) samples.push(readFileSync(join(fixtureDir, f), 'utf8'));
  } catch {
    // fixtures directory is optional for this property; the built samples still run
  }

  it('random byte mutations, truncations and insertions throw only WinRmError', () => {
    const mutation = mutationArb(samples.length, [
      '<',
      '>',
      '&',
      '"',
      '<!DOCTYPE x [<!ENTITY a "b">]>',
      '&a;',
      '\u0000',
      'xmlns:s="urn:x"',
      '</s:Body>',
      '====',
      '!@#',
    ]);
    fc.assert(
      fc.property(mutation, (m) => {
        const mutated = mutate(samples[m.sample]!, m, 10);
        try {
          const msg = parseResponse(mutated);
          // Whatever parsed must still be readable by the action parsers without crashing.
          try {
            parseReceiveResponse(msg);
          } catch (err) {
            if (!(err instanceof WinRmError)) throw err;
          }
        } catch (err) {
          if (!(err instanceof WinRmError)) throw err;
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('a DOCTYPE is refused before parsing (no entity expansion)', () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><s:Envelope xmlns:s="${NS.s}"><s:Body>&lol2;</s:Body></s:Envelope>`;
    assert.throws(
      () => parseResponse(bomb),
      (e: unknown) => e instanceof WinRmError && /DOCTYPE/.test(e.message),
    );
  });

  it('oversized input is refused with the limit in the message', () => {
    const big = `<s:Envelope xmlns:s="${NS.s}"><s:Body>${'A'.repeat(5000)}</s:Body></s:Envelope>`;
    assert.throws(() => parseResponse(big, { maxBytes: 1000 }), /over the 1000-byte limit/);
  });

  it('deep nesting does not overflow the stack', () => {
    const depth = 20000;
    const deep = `<s:Envelope xmlns:s="${NS.s}"><s:Body>${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}</s:Body></s:Envelope>`;
    try {
      parseReceiveResponse(parseResponse(deep));
      assert.fail('expected an error: there is no ReceiveResponse');
    } catch (err) {
      assert.ok(err instanceof WinRmError, String(err));
    }
  });
});

describe('base64 decoding', () => {
  it('accepts canonical base64 and base64 with whitespace, refuses garbage', async () => {
    const { decodeBase64 } = await import('../../src/wsman/xml.ts');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const b64 = Buffer.from(bytes).toString('base64');
        assert.deepEqual(decodeBase64(b64, 'x'), Buffer.from(bytes));
        assert.deepEqual(decodeBase64(b64.replace(/(.{7})/g, '$1\n '), 'x'), Buffer.from(bytes));
      }),
    );
    for (const bad of ['abc', 'ab!d', 'ab=d', '====', 'a===', 'YQ==YQ==', 'Y-_Q']) {
      assert.throws(() => decodeBase64(bad, 'stdout stream data'), /not valid base64/, bad);
    }
  });
});
