/** ExitCode parsing: Windows sends a 32-bit exit code as signed or unsigned decimal; anything wider is refused. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../src/errors.ts';
import { ACTIONS } from '../../src/wsman/constants.ts';
import { parseReceiveResponse, parseResponse } from '../../src/wsman/index.ts';
import { buildReply } from '../../src/wsman/reply.ts';

const CMD = '9B8A7C6D-5E4F-4A3B-9C2D-1E0F9A8B7C6D';
const RELATES = 'uuid:5F0C7A5E-2B5B-4C8E-9D5C-6D4F1E2A3B4C';

function receiveWith(exitCodeText: string) {
  const body =
    '<rsp:ReceiveResponse><rsp:CommandState CommandId="' +
    CMD +
    '" State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done">' +
    `<rsp:ExitCode>${exitCodeText}</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>`;
  const xml = buildReply({ action: ACTIONS.receiveResponse, relatesTo: RELATES, kind: 'receive' }, body);
  return parseReceiveResponse(parseResponse(xml, { relatesTo: RELATES }), CMD);
}

describe('ExitCode is a 32-bit value', () => {
  it('accepts signed and unsigned 32-bit decimals as sent', () => {
    assert.equal(receiveWith('0').exitCode, 0);
    assert.equal(receiveWith('-1').exitCode, -1);
    assert.equal(receiveWith('-2147483648').exitCode, -2147483648);
    assert.equal(receiveWith('4294967295').exitCode, 4294967295);
  });

  for (const t of ['99999999999999999999', '4294967296', '-2147483649']) {
    it(`refuses ${t} with a ProtocolError`, () => {
      assert.throws(() => receiveWith(t), ProtocolError);
    });
  }
});
