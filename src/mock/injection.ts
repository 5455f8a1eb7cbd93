/**
 * Fault injection per request, in the spirit of ioredis' mock server flags: drop the connection, hang, delay,
 * answer a given HTTP status or SOAP fault, or truncate the body. Injections apply to authenticated SOAP
 * requests, matched by action; the first armed injection that matches fires.
 */
import { ACTIONS, FAULT } from '../wsman/constants.ts';
import type { RequestHeaderInfo } from '../wsman/request.ts';
import { Faults, MockFault, type MockFaultSpec } from './wire/faults.ts';

export type InjectionKind = 'drop' | 'hang' | 'delay' | 'status' | 'fault' | 'truncate';

export interface FaultInjection {
  match?: {
    /**
     * Action to match: a full action URI or its last segment ('Create', 'Command', 'Receive', 'Send', 'Signal',
     * 'Delete', 'Identify', 'Get', ...), case-insensitive. Default: every request.
     */
    action?: string;
    /** Fire on the nth matching request (1-based), counted from when the injection was added. Default: 1. */
    nth?: number;
  };
  /** Fire once, then disarm. false keeps firing on every later match. Default: true. */
  once?: boolean;
  /**
   * - `drop`: destroy the connection without answering;
   * - `hang`: never answer (the socket stays open until the client gives up or the server closes);
   * - `delay`: wait `delayMs`, then process the request normally;
   * - `status`: answer HTTP `status` with an empty body, without processing;
   * - `fault`: answer HTTP 500 with a SOAP fault in Windows' form, without processing;
   * - `truncate`: process normally, then send only the first half of the body and close the connection.
   */
  kind: InjectionKind;
  /** For `delay`. Default: 1000. */
  delayMs?: number;
  /** For `status`. Default: 503. */
  status?: number;
  /**
   * For `fault`. A known wsmanCode gets Windows' full fault for it (2150858843 the unknown-shell fault, ...);
   * subcode, reason and message override parts. Default: `{ wsmanCode: 2150858817 }` (schema validation).
   */
  fault?: {
    wsmanCode?: number;
    /** e.g. 'w:InternalError'. */
    subcode?: string;
    code?: 'Sender' | 'Receiver';
    reason?: string;
    message?: string;
  };
}

interface Armed {
  injection: FaultInjection;
  seen: number;
  fired: number;
}

function actionMatches(pattern: string | undefined, action: string | undefined): boolean {
  if (pattern === undefined) return true;
  if (action === undefined) return false;
  const p = pattern.toLowerCase();
  const a = action.toLowerCase();
  return a === p || a.slice(a.lastIndexOf('/') + 1) === p;
}

export class InjectionRegistry {
  private armed: Armed[] = [];

  add(injection: FaultInjection): void {
    const nth = injection.match?.nth ?? 1;
    if (!Number.isInteger(nth) || nth < 1)
      throw new RangeError(`inject: match.nth must be an integer >= 1, got ${nth}`);
    this.armed.push({ injection, seen: 0, fired: 0 });
  }

  clear(): void {
    this.armed = [];
  }

  get size(): number {
    return this.armed.length;
  }

  /** The injection to apply to a request with this action, if any (counts and disarms as configured). */
  pick(action: string | undefined): FaultInjection | undefined {
    for (const a of this.armed) {
      if (!actionMatches(a.injection.match?.action, action)) continue;
      a.seen++;
      if (a.seen < (a.injection.match?.nth ?? 1)) continue;
      a.fired++;
      if (a.injection.once ?? true) this.armed = this.armed.filter((x) => x !== a);
      return a.injection;
    }
    return undefined;
  }
}

/** The fault an injection answers with. */
export function injectedFault(injection: FaultInjection, header: RequestHeaderInfo | undefined): MockFault {
  const f = injection.fault ?? {};
  const code = f.wsmanCode ?? FAULT.SchemaValidationError;
  const base = knownFault(code, header)?.spec ?? {
    code: 'Receiver' as const,
    subcode: 'w:InternalError',
    reason: 'The WS-Management service cannot process the request. ',
    wsmanCode: code,
  };
  const spec: MockFaultSpec = {
    ...base,
    ...(f.code ? { code: f.code } : {}),
    ...(f.subcode ? { subcode: f.subcode } : {}),
    ...(f.reason ? { reason: f.reason } : {}),
    ...(f.message ? { message: f.message } : {}),
  };
  return new MockFault(spec);
}

function knownFault(code: number, header: RequestHeaderInfo | undefined): MockFault | undefined {
  switch (code) {
    case FAULT.AccessDenied:
      return Faults.accessDenied();
    case FAULT.DestinationUnreachable:
      return Faults.resourceNotFound();
    case FAULT.InvalidHeader:
      return Faults.invalidHeader();
    case FAULT.ActionNotSupported:
      return Faults.actionNotSupported();
    case FAULT.TimedOut:
      return Faults.timedOut();
    case FAULT.SchemaValidationError:
      return Faults.schema();
    case FAULT.ResponseExceedsMaxEnvelopeSize:
      return Faults.responseTooLarge();
    case FAULT.ShellNotFound:
      return header?.action === ACTIONS.create || !header?.selectors.ShellId
        ? Faults.commandNotFound()
        : Faults.shellNotFound(header.selectors.ShellId);
    case FAULT.QuotaMaxShells:
      return Faults.quotaShells(30);
    case FAULT.QuotaMaxOperations:
      return Faults.quotaOperations(1500);
    default:
      return undefined;
  }
}
