/**
 * The one retry / reopen policy of the WinRM-internal strategy: which WSManFaults are not the caller's error,
 * and what to do instead. WinRb keeps the same rules in FAULTS_FOR_RESET and one retry method; pypsrp in
 * WSMan.invoke's callers. Every call site asks {@link faultAction}; none compares fault codes itself.
 */

import { HttpError, InvalidArgumentError, WsmanFaultError } from '../errors.ts';
import { FAULT } from '../wsman/constants.ts';
import { isFault } from '../wsman/faults.ts';

/**
 * Where a request was sent from:
 * - 'receive': a Receive of a running command;
 * - 'start': a Command on a shell taken from the pool (the shell may be stale);
 * - 'cleanup': a Signal, a Delete shell, or stdin for a command that may already have ended.
 */
export type RequestPhase = 'receive' | 'start' | 'cleanup';

/**
 * - 'poll-again': send the same request again (w:TimedOut only means no output within OperationTimeout);
 * - 'reopen': the shell is gone on the server: forget it, open a new one and retry once;
 * - 'replace': the shell hit a quota Windows releases only with the shell: delete it, open a new one, retry once;
 * - 'ignore': the thing to clean up is already gone;
 * - 'fail': the caller's error.
 */
export type FaultAction = 'poll-again' | 'reopen' | 'replace' | 'ignore' | 'fail';

/** phase -> [fault codes, action]; the first row whose codes match decides. */
const POLICY: Readonly<Record<RequestPhase, ReadonlyArray<readonly [readonly number[], FaultAction]>>> = {
  // [MS-WSMV] 3.1.4.14.2: Receive answers w:TimedOut (2150858793) when no output came within OperationTimeout.
  receive: [[[FAULT.TimedOut], 'poll-again']],
  start: [
    // 2150858843: a reused shell idled out or was closed by the server.
    [[FAULT.ShellNotFound], 'reopen'],
    // 2150859174 and the per-shell command quota: Windows frees them only when the shell is deleted.
    [[FAULT.QuotaMaxOperations, FAULT.QuotaMaxCommandsPerShell], 'replace'],
  ],
  // Cleanup swallows only "already gone".
  cleanup: [[[FAULT.ShellNotFound], 'ignore']],
};

/** Retries of 'reopen' / 'replace' per command: one fresh shell, then the fault is the caller's. */
export const MAX_REOPENS = 1;

/** What to do about `err`, raised by a request sent in `phase`. */
export function faultAction(phase: RequestPhase, err: unknown): FaultAction {
  for (const [codes, action] of POLICY[phase]) if (isFault(err, ...codes)) return action;
  return 'fail';
}

/**
 * Whether a Command that failed with `err` may still have started a process: only an answer (a fault, an HTTP
 * error status) or a request never sent (an invalid argument) says it did not. After anything else (a socket
 * killed, a read timeout) the shell may hold a process nobody can name, so it is deleted, not reused.
 */
export function commandMayHaveRun(err: unknown): boolean {
  return !(err instanceof WsmanFaultError || err instanceof HttpError || err instanceof InvalidArgumentError);
}
