/** Parser tests on the Windows-form fixtures in test/fixtures (see its README for the expected values). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ProtocolError, WsmanFaultError } from '../../src/errors.ts';
import {
  parseCommandResponse,
  parseCreateShellResponse,
  parseDeleteShellResponse,
  parseIdentifyResponse,
  parseReceiveResponse,
  parseResponse,
  parseSendResponse,
  parseSignalResponse,
} from '../../src/wsman/index.ts';

const RELATES = 'uuid:5F0C7A5E-2B5B-4C8E-9D5C-6D4F1E2A3B4C';
const SHELL = '0A6B5C7D-1E2F-4A3B-8C9D-0E1F2A3B4C5D';
const CMD = '9B8A7C6D-5E4F-4A3B-9C2D-1E0F9A8B7C6D';
const load = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
const ok = (name: string) => parseResponse(load(name), { relatesTo: RELATES });

function fault(name: string): WsmanFaultError {
  try {
    parseResponse(load(name), { relatesTo: RELATES, httpStatus: 500 });
  } catch (err) {
    assert.ok(err instanceof WsmanFaultError, `${name}: ${String(err)}`);
    return err;
  }
  assert.fail(`${name} did not raise a fault`);
}

describe('responses in Windows form', () => {
  for (const f of ['create-shell-response.xml', 'create-shell-response-pretty.xml']) {
    it(`${f}: ShellId and the rsp:Shell block`, () => {
      const r = parseCreateShellResponse(ok(f));
      assert.equal(r.shellId, SHELL);
      assert.equal(r.owner, 'Administrator');
      assert.equal(r.clientIp, '192.0.2.10');
      assert.equal(r.idleTimeout, 7200);
    });
  }

  it('command-response.xml', () =>
    assert.equal(parseCommandResponse(ok('command-response.xml')).commandId, CMD));

  it('receive-running.xml: stdout chunk, Running, no ExitCode', () => {
    const r = parseReceiveResponse(ok('receive-running.xml'), CMD);
    assert.equal(r.state, 'Running');
    assert.equal(r.exitCode, undefined);
    assert.equal(
      Buffer.concat(r.chunks.filter((c) => c.name === 'stdout').map((c) => c.data)).toString(),
      'line 1\r\n',
    );
  });

  it('receive-done.xml: stdout, stderr, End markers, Done, exit 0', () => {
    const r = parseReceiveResponse(ok('receive-done.xml'), CMD);
    const text = (n: string) =>
      Buffer.concat(r.chunks.filter((c) => c.name === n).map((c) => c.data)).toString();
    assert.equal(text('stdout'), 'hello\r\n');
    assert.equal(text('stderr'), 'oops\r\n');
    assert.deepEqual(
      r.chunks.filter((c) => c.end).map((c) => c.name),
      ['stdout', 'stderr'],
    );
    assert.equal(r.state, 'Done');
    assert.equal(r.exitCode, 0);
  });

  it('receive-done-exit-1.xml', () => {
    const r = parseReceiveResponse(ok('receive-done-exit-1.xml'), CMD);
    assert.equal(r.exitCode, 1);
    assert.match(Buffer.concat(r.chunks.map((c) => c.data)).toString(), /is not recognized/);
  });

  it('receive-omi-style.xml: other prefixes, whitespace around ids', () => {
    const msg = ok('receive-omi-style.xml');
    assert.equal(msg.relatesTo, RELATES);
    const r = parseReceiveResponse(msg, CMD);
    assert.equal(r.exitCode, 0);
    assert.equal(Buffer.concat(r.chunks.map((c) => c.data)).toString(), 'hello\r\n');
  });

  it('empty responses: Send, Signal, Delete', () => {
    parseSendResponse(ok('send-response.xml'));
    parseSignalResponse(ok('signal-response.xml'));
    parseDeleteShellResponse(ok('delete-response.xml'));
  });

  it('identify responses', () => {
    const r = parseIdentifyResponse(parseResponse(load('identify-response.xml')));
    assert.equal(r.productVendor, 'Microsoft Corporation');
    assert.equal(r.os, '10.0.17763');
    assert.equal(r.stack, '3.0');
    assert.ok(r.securityProfiles.length >= 2);
    const u = parseIdentifyResponse(parseResponse(load('identify-response-unauthenticated.xml')));
    assert.equal(u.os, '0.0.0');
    assert.deepEqual(u.securityProfiles, []);
  });

  it('a RelatesTo for another request is a ProtocolError', () => {
    assert.throws(
      () =>
        parseResponse(load('command-response.xml'), {
          relatesTo: 'uuid:00000000-0000-0000-0000-000000000000',
        }),
      ProtocolError,
    );
  });
});

describe('faults in Windows form', () => {
  const table: Array<[string, number | undefined, string, RegExp]> = [
    ['fault-timed-out.xml', 2150858793, 'TimedOut', /poll again/],
    ['fault-invalid-selectors-shell.xml', 2150858843, 'ShellNotFound', /new shell/],
    ['fault-invalid-selectors-command.xml', 2150858843, 'ShellNotFound', /new shell/],
    ['fault-quota-operations.xml', 2150859174, 'QuotaMaxOperations', /MaxConcurrentOperationsPerUser/],
    ['fault-quota-shells.xml', 2150859173, 'QuotaMaxShells', /MaxShellsPerUser/],
    ['fault-action-not-supported.xml', 2150858771, 'ActionNotSupported', /plugin/],
    ['fault-schema-validation.xml', 2150858817, 'SchemaValidationError', /bug/],
    ['fault-access-denied.xml', 5, 'AccessDenied', /Administrators/],
    ['fault-envelope-too-large.xml', 2150858824, 'ResponseExceedsMaxEnvelopeSize', /maxEnvelopeSize/],
    ['fault-wmi-error.xml', 2150859173, 'QuotaMaxShells', /MaxShellsPerUser/],
    ['fault-plain-soap.xml', undefined, 'InternalError', /./],
  ];
  for (const [file, code, name, remedy] of table) {
    it(`${file} → ${name}`, () => {
      const e = fault(file);
      assert.equal(e.faultCode, code);
      assert.equal(e.faultName, name);
      assert.equal(e.code, 'WINRM_WSMAN_FAULT');
      assert.equal(e.httpStatus, 500);
      if (code !== undefined) assert.match(e.remedy ?? '', remedy);
      assert.ok(e.message.length > 20);
    });
  }

  it('TimedOut carries subcode, SOAP code, machine and message', () => {
    const e = fault('fault-timed-out.xml');
    assert.equal(e.subcode, 'TimedOut');
    assert.equal(e.subcodeQName, '{http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd}TimedOut');
    assert.equal(e.soapCode, 'Receiver');
    assert.equal(e.machine, 'windows-host');
    assert.match(e.faultMessage ?? '', /OperationTimeout/);
  });

  it('MSFT_WmiError details are kept', () => {
    const e = fault('fault-wmi-error.xml');
    assert.ok(e.wmiError);
    assert.match(e.wmiError.MessageID ?? '', /0x803381a5/i);
  });
});
