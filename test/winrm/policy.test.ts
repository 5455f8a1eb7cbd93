/** The one retry / reopen table: each phase and fault code gets its documented action. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectionError, WsmanFaultError } from '../../src/errors.ts';
import { type FaultAction, faultAction, type RequestPhase } from '../../src/winrm/policy.ts';
import { FAULT } from '../../src/wsman/constants.ts';

const fault = (faultCode: number) => new WsmanFaultError({ faultCode });

const CASES: Array<[RequestPhase, unknown, FaultAction]> = [
  ['receive', fault(FAULT.TimedOut), 'poll-again'],
  ['receive', fault(FAULT.ShellNotFound), 'fail'],
  ['start', fault(FAULT.ShellNotFound), 'reopen'],
  ['start', fault(FAULT.QuotaMaxOperations), 'replace'],
  ['start', fault(FAULT.QuotaMaxCommandsPerShell), 'replace'],
  ['start', fault(FAULT.TimedOut), 'fail'],
  ['start', fault(FAULT.AccessDenied), 'fail'],
  ['cleanup', fault(FAULT.ShellNotFound), 'ignore'],
  ['cleanup', fault(FAULT.QuotaMaxOperations), 'fail'],
  ['cleanup', new ConnectionError('socket closed'), 'fail'],
  ['receive', new Error('not a fault'), 'fail'],
];

describe('faultAction', () => {
  for (const [phase, err, expected] of CASES) {
    it(`${phase}: ${(err as { faultName?: string }).faultName ?? (err as Error).message} -> ${expected}`, () => {
      assert.equal(faultAction(phase, err), expected);
    });
  }
});
