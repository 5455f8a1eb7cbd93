/**
 * From request bytes to a response: parse, check the header as Windows does (mustUnderstand, required
 * addressing headers, MaxEnvelopeSize floor, OperationTimeout), then route by resource URI and action.
 */
import { ACTIONS, NS } from '../../wsman/constants.ts';
import { readRequestHeader } from '../../wsman/request.ts';
import { parseSoap, type SoapMessage } from '../../wsman/response.ts';
import { child } from '../../wsman/xml.ts';
import type { AuthUser } from '../auth/types.ts';
import { Faults, MockFault } from '../wire/faults.ts';
import type { MockRequest, ResourceHandler } from './types.ts';

/** Header elements the service understands, as `{ns}local`; others marked mustUnderstand are refused. */
const UNDERSTOOD = new Set(
  [
    ...['To', 'ReplyTo', 'Action', 'MessageID', 'FaultTo', 'From', 'RelatesTo'].map((l) => `{${NS.a}}${l}`),
    ...[
      'ResourceURI',
      'SelectorSet',
      'OptionSet',
      'MaxEnvelopeSize',
      'OperationTimeout',
      'Locale',
      'FragmentTransfer',
      'RequestEPR',
      'RequestTotalItemsCountEstimate',
    ].map((l) => `{${NS.w}}${l}`),
    ...['DataLocale', 'SessionId', 'OperationID', 'SequenceId', 'ActivityId'].map((l) => `{${NS.p}}${l}`),
  ].map((s) => s.toLowerCase()),
);

/** DSP0226 R6.2-1: a service must refuse MaxEnvelopeSize below 8192 octets. */
const MIN_ENVELOPE = 8192;

export interface DispatchContext {
  user: AuthUser;
  clientIp: string;
  signal: AbortSignal;
}

export interface DispatcherConfig {
  resources: readonly ResourceHandler[];
  maxEnvelopeSize: number;
  maxTimeoutMs: number;
}

/** The parsed request, for logging even when dispatch faults. */
export interface ParsedRequest {
  msg: SoapMessage;
  action: string | undefined;
  messageId: string | undefined;
  lang: string;
}

/** Parse the body; malformed XML is the invalid-XML fault (ERROR_WSMAN_INVALID_XML). */
export function parseRequest(body: Buffer, maxBytes: number): ParsedRequest {
  let msg: SoapMessage;
  try {
    msg = parseSoap(body, { maxBytes: maxBytes * 2, what: 'request' });
  } catch {
    throw Faults.invalidXml();
  }
  const header = readRequestHeader(msg);
  return { msg, action: header.action, messageId: header.messageId, lang: header.locale || 'en-US' };
}

export class Dispatcher {
  constructor(private readonly config: DispatcherConfig) {}

  private checkHeader(req: ParsedRequest): MockRequest['header'] {
    const header = readRequestHeader(req.msg);
    for (const q of header.mustUnderstand) {
      if (!UNDERSTOOD.has(q.toLowerCase())) {
        const m = /^\{(.*)\}(.*)$/.exec(q)!;
        throw Faults.mustUnderstand(m[1]!, m[2]!);
      }
    }
    if (!header.action || !header.messageId || !header.replyTo) throw Faults.missingHeader();
    if (
      header.maxEnvelopeSize === undefined &&
      req.msg.header &&
      child(req.msg.header, 'w', 'MaxEnvelopeSize')
    ) {
      throw Faults.invalidHeader();
    }
    if (header.maxEnvelopeSize !== undefined && header.maxEnvelopeSize < MIN_ENVELOPE) {
      throw Faults.envelopeLimitTooSmall();
    }
    if (header.operationTimeout !== undefined && Number.isNaN(header.operationTimeout)) {
      throw Faults.invalidTimeoutHeader();
    }
    return header;
  }

  /** The response envelope: a string, or its UTF-8 bytes (Receive writes its output so). */
  async dispatch(req: ParsedRequest, ctx: DispatchContext): Promise<string | Buffer> {
    const header = this.checkHeader(req);
    const uri = header.resourceUri;
    const resource = uri ? this.config.resources.find((r) => r.matches(uri)) : undefined;
    const handler = resource?.actions[header.action!] ?? resource?.fallback;
    if (!handler) {
      // A WS-Management action (or a custom Invoke) on a resource nobody serves: the resource is missing.
      const action = header.action!;
      const invoke = uri !== undefined && action.toLowerCase().startsWith(`${uri.toLowerCase()}/`);
      if (!resource && (KNOWN_ACTIONS.has(action) || invoke || uri === undefined))
        throw Faults.resourceNotFound();
      throw Faults.actionNotSupported();
    }
    const otMs = header.operationTimeout === undefined ? undefined : header.operationTimeout * 1000;
    const request: MockRequest = {
      msg: req.msg,
      header,
      user: ctx.user,
      clientIp: ctx.clientIp,
      maxEnvelopeSize: Math.min(
        header.maxEnvelopeSize ?? this.config.maxEnvelopeSize,
        this.config.maxEnvelopeSize,
      ),
      operationTimeoutMs: Math.min(otMs ?? this.config.maxTimeoutMs, this.config.maxTimeoutMs),
      get signal() {
        return ctx.signal;
      },
      lang: req.lang,
    };
    return handler(request);
  }
}

const KNOWN_ACTIONS = new Set<string>(Object.values(ACTIONS));

export { MockFault };
