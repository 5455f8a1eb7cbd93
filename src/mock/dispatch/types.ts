/** What an action handler gets and returns. */
import type { RequestHeaderInfo } from '../../wsman/request.ts';
import type { SoapMessage } from '../../wsman/response.ts';
import type { AuthUser } from '../auth/types.ts';

export interface MockRequest {
  msg: SoapMessage;
  header: RequestHeaderInfo;
  user: AuthUser;
  clientIp: string;
  /** Effective MaxEnvelopeSize of the response: min(request header, server limit) ([MS-WSMV] 3.1.4.1.7). */
  maxEnvelopeSize: number;
  /** Effective OperationTimeout in ms: the header, capped at (and defaulting to) MaxTimeoutms. */
  operationTimeoutMs: number;
  /** Aborted when the client's connection closes while the request is pending. */
  signal: AbortSignal;
  /** Envelope xml:lang: the request's w:Locale, else en-US. */
  lang: string;
}

/**
 * A handler returns a complete response envelope (HTTP 200), as a string or as its UTF-8 bytes, or throws a
 * MockFault.
 */
export type ActionHandler = (req: MockRequest) => Promise<string | Buffer> | string | Buffer;

/**
 * Handlers of one kind of resource, keyed by action URI. The dispatcher finds the resource by its URI, then the
 * action: an unknown resource gets DestinationUnreachable, a known resource without the action ActionNotSupported.
 * WS-Management resources (wmi/config Get, Put, Enumerate, Invoke) are added as entries of this table.
 */
export interface ResourceHandler {
  /** Whether this handler serves a resource URI (compared case-insensitively by the dispatcher's callers). */
  matches(resourceUri: string): boolean;
  actions: Readonly<Record<string, ActionHandler>>;
  /** Handler of an action not in `actions` (custom Invoke actions `{resourceUri}/{method}`); absent: ActionNotSupported. */
  fallback?: ActionHandler;
}
