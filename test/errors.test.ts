import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  AbortError,
  AuthenticationError,
  ConnectionError,
  ErrorCodes,
  HttpError,
  InvalidArgumentError,
  ProtocolError,
  TimeoutError,
  TransferError,
  WinRmError,
  WsmanFaultError,
} from '../src/errors.ts';
import { KNOWN_FAULTS } from '../src/wsman/faults.ts';

describe('error classes', () => {
  const table: Array<[WinRmError, string, string]> = [
    [
      new WsmanFaultError({ faultCode: 5, faultName: 'AccessDenied', faultMessage: 'Access is denied.' }),
      'WsmanFaultError',
      ErrorCodes.fault,
    ],
    [new HttpError(404, 'nope'), 'HttpError', ErrorCodes.http],
    [new AuthenticationError('refused'), 'AuthenticationError', ErrorCodes.auth],
    [new TimeoutError('late'), 'TimeoutError', ErrorCodes.timeout],
    [new AbortError(), 'AbortError', ErrorCodes.aborted],
    [new TransferError('partial'), 'TransferError', ErrorCodes.transfer],
    [new InvalidArgumentError('bad', { argument: 'x' }), 'InvalidArgumentError', ErrorCodes.invalidArgument],
    [new ProtocolError('garbled'), 'ProtocolError', ErrorCodes.protocol],
    [new ConnectionError('refused', { host: 'h', port: 1 }), 'ConnectionError', ErrorCodes.connection],
  ];
  for (const [err, name, code] of table) {
    it(`${name} has name, stable code and is a WinRmError`, () => {
      assert.ok(err instanceof WinRmError);
      assert.ok(err instanceof Error);
      assert.equal(err.name, name);
      assert.equal(err.code, code);
    });
  }
  it('appends the remedy to the message', () => {
    const e = new InvalidArgumentError('Bad port', { remedy: 'use 5985' });
    assert.equal(e.message, 'Bad port. Fix: use 5985');
    assert.equal(e.remedy, 'use 5985');
  });
  it('fault messages name code, name and machine', () => {
    const e = new WsmanFaultError({
      faultCode: 2150858793,
      faultName: 'TimedOut',
      machine: 'srv',
      faultMessage: 'slow',
    });
    assert.match(e.message, /TimedOut 2150858793 \(machine srv\): slow/);
  });
});

describe('docs/errors.md', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  for (const [code, f] of Object.entries(KNOWN_FAULTS)) {
    it(`lists fault ${code} (${f.name}) with its hex form`, () => {
      const hex = `0x${Number(code).toString(16).toUpperCase()}`;
      const row = doc.split('\n').find((l) => l.startsWith(`| ${code} |`));
      assert.ok(row, `no row for ${code}`);
      assert.ok(row.includes(hex), `row for ${code} lacks ${hex}`);
      assert.ok(row.includes(f.name), `row for ${code} lacks ${f.name}`);
    });
  }
  it('every error class is documented', () => {
    for (const c of Object.values(ErrorCodes)) if (c !== 'WINRM_ERROR') assert.ok(doc.includes(c), c);
  });
});
