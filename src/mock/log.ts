/** The request log and counters the mock exposes. No header values, bodies or credentials are ever recorded. */
import type { InjectionKind } from './injection.ts';

export interface RequestLogEntry {
  time: Date;
  method: string;
  path: string;
  /** Short action name ('Create', 'Receive', 'Identify', ...), or the URI when not a known one. */
  action: string | undefined;
  /** Scheme the request authenticated with (or tried to): 'Basic', or undefined for none. */
  authScheme: string | undefined;
  /** Authenticated user name (a name, never a password). */
  user: string | undefined;
  requestBytes: number;
  responseBytes: number;
  status: number;
  /** WSManFault Code of a fault answer. */
  faultCode?: number;
  /** SOAP subcode of a fault answer, e.g. 'w:TimedOut'. */
  faultSubcode?: string;
  /** Injection applied to this request. */
  injected?: InjectionKind;
  durationMs: number;
}

export interface MockStats {
  /** HTTP requests received, whatever their outcome. */
  requests: number;
  /** Requests per short action name. */
  byAction: Record<string, number>;
  /** Responses per HTTP status. */
  byStatus: Record<number, number>;
  /** Successful Create (shell) requests. */
  shellsCreated: number;
  /** Successful Command requests. */
  commandsStarted: number;
  /** SOAP faults answered (HTTP 500). */
  faults: number;
  /** 401 answers. */
  authChallenges: number;
  bytesIn: number;
  bytesOut: number;
  /** TCP connections accepted (keep-alive reuse shows as requests > connections). */
  connections: number;
}

/** Short name of an action URI: its last path segment. */
export function shortAction(action: string | undefined): string | undefined {
  if (action === undefined) return undefined;
  return action.slice(action.lastIndexOf('/') + 1) || action;
}

export class RequestRecorder {
  readonly log: RequestLogEntry[] = [];
  readonly stats: MockStats = {
    requests: 0,
    byAction: {},
    byStatus: {},
    shellsCreated: 0,
    commandsStarted: 0,
    faults: 0,
    authChallenges: 0,
    bytesIn: 0,
    bytesOut: 0,
    connections: 0,
  };

  /**
   * @param limit entries kept at most; the oldest are dropped a tenth of the limit at a time (dropping one per
   * request moved the whole array on every request once the log was full).
   */
  constructor(private readonly limit = 10_000) {}

  record(entry: RequestLogEntry): void {
    const s = this.stats;
    s.requests++;
    if (entry.action) s.byAction[entry.action] = (s.byAction[entry.action] ?? 0) + 1;
    s.byStatus[entry.status] = (s.byStatus[entry.status] ?? 0) + 1;
    if (entry.status === 200 && entry.action === 'Create') s.shellsCreated++;
    if (entry.status === 200 && entry.action === 'Command') s.commandsStarted++;
    if (entry.status === 500 && entry.faultSubcode !== undefined) s.faults++;
    if (entry.status === 401) s.authChallenges++;
    s.bytesIn += entry.requestBytes;
    s.bytesOut += entry.responseBytes;
    this.log.push(entry);
    if (this.log.length > this.limit) {
      this.log.splice(0, this.log.length - this.limit + Math.ceil(this.limit / 10));
    }
  }
}
