/** Signal: terminate, ctrl_c or ctrl_break a command ([MS-WSMV] 3.1.4.12). */
import { ACTIONS, NS, RESOURCE_URIS, SIGNALS, type SignalName } from '../constants.ts';
import {
  buildRequestCached,
  escapeXmlAttr,
  PAYLOAD_SLOT,
  type RequestContext,
  xmlText,
} from '../envelope.ts';
import { bodyElement, type SoapMessage } from '../response.ts';

export interface SignalParams {
  shellId: string;
  commandId: string;
  /** Default: 'terminate'. */
  signal?: SignalName;
  /** Default: the cmd shell resource URI. */
  resourceUri?: string;
}

export function buildSignal(ctx: RequestContext, params: SignalParams): string {
  return buildRequestCached(
    ctx,
    {
      action: ACTIONS.signal,
      resourceUri: params.resourceUri ?? RESOURCE_URIS.cmd,
      selectors: { ShellId: params.shellId },
    },
    `signal|${params.signal ?? ''}`,
    (body) => {
      body
        .ele(NS.rsp, 'rsp:Signal')
        .att('CommandId', PAYLOAD_SLOT)
        .ele(NS.rsp, 'rsp:Code')
        .txt(xmlText(SIGNALS[params.signal ?? 'terminate']));
    },
    escapeXmlAttr(params.commandId),
  );
}

export function parseSignalResponse(msg: SoapMessage): void {
  bodyElement(msg, 'rsp', 'SignalResponse', 'Signal response');
}
