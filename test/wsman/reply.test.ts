/** The shared response writer: Windows' bytes for a fault and a receive, and caller text escaped on the way. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { WsmanFaultError } from '../../src/errors.ts';
import {
  ACTIONS,
  buildFault,
  buildReply,
  commandStateElement,
  FAULT,
  parseReceiveResponse,
  parseResponse,
  streamElement,
} from './helpers.ts';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8').trim();
const RELATES = 'uuid:5F0C7A5E-2B5B-4C8E-9D5C-6D4F1E2A3B4C';
const TIMED_OUT =
  'The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  ';

describe('response writer', () => {
  it('writes the TimedOut fault exactly as the Windows capture', () => {
    const xml = buildFault(
      { code: 'Receiver', subcode: 'w:TimedOut', reason: TIMED_OUT, wsmanCode: FAULT.TimedOut },
      { relatesTo: RELATES, machine: 'windows-host', messageId: 'uuid:D7F8091A-2B3C-4D4E-9F5A-6B7C8D9EAFB0' },
    );
    assert.equal(xml, fixture('fault-timed-out.xml'));
  });

  it('writes the Done receive of the capture byte for byte', () => {
    const src = fixture('receive-done.xml');
    const id = /<a:MessageID>([^<]*)</.exec(src)![1]!;
    const cmd = /CommandId="([^"]*)"/.exec(src)![1]!;
    const streams = [...src.matchAll(/<rsp:Stream Name="(\w+)"[^>]*?( End="true")?>([^<]*)</g)];
    const body =
      '<rsp:ReceiveResponse>' +
      streams.map((m) => streamElement(m[1]!, cmd, m[3]!, m[2] !== undefined)).join('') +
      commandStateElement(cmd, 'Done', 0) +
      '</rsp:ReceiveResponse>';
    const xml = buildReply(
      { action: ACTIONS.receiveResponse, relatesTo: RELATES, messageId: id, kind: 'receive' },
      body,
    );
    assert.equal(xml, src);
  });

  it('escapes caller text: machine, relatesTo, messages and stream names come back as written', () => {
    const odd = 'a&b<c>"d" \'e]]>';
    try {
      parseResponse(
        buildFault(
          { code: 'Sender', subcode: 'w:InvalidParameter', reason: odd, message: odd, wsmanCode: 5 },
          { relatesTo: 'uuid:x&y', machine: odd },
        ),
        { relatesTo: 'uuid:x&y', httpStatus: 500 },
      );
      assert.fail('no fault raised');
    } catch (err) {
      assert.ok(err instanceof WsmanFaultError, String(err));
      assert.equal(err.machine, odd);
      assert.equal(err.faultMessage, odd);
    }
    const xml = buildReply(
      { action: ACTIONS.receiveResponse, relatesTo: RELATES },
      `<rsp:ReceiveResponse>${streamElement(odd, 'C&1', 'aGk=', true)}${commandStateElement('C&1', 'Running')}</rsp:ReceiveResponse>`,
    );
    const r = parseReceiveResponse(parseResponse(xml, { relatesTo: RELATES }), 'C&1');
    assert.equal(r.chunks[0]?.name, odd);
    assert.equal(r.chunks[0]?.data.toString(), 'hi');
    assert.equal(r.state, 'Running');
  });
});
