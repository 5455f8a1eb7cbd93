/** WS-Enumeration Enumerate, Pull, Release ([MS-WSMV] 3.1.4.8 - 3.1.4.10). */
import { ACTIONS, FILTER_DIALECTS, NS } from '../constants.ts';
import { buildRequest, type RequestContext, xmlText } from '../envelope.ts';
import { bodyElement, type SoapMessage } from '../response.ts';
import { allChildElements, child, type Element, textOf } from '../xml.ts';
import { instanceFromElement, type ResourceInstance, type ResourceRef } from './transfer.ts';

export interface EnumerateParams extends ResourceRef {
  /** WQL query (dialect WQL) for WMI classes. Default: none. */
  wql?: string;
  /** Items per response. Default: 32000 with OptimizeEnumeration, as `winrm enumerate` does. */
  maxElements?: number;
}

export function buildEnumerate(ctx: RequestContext, params: EnumerateParams): string {
  return buildRequest(
    ctx,
    { action: ACTIONS.enumerate, resourceUri: params.resourceUri, selectors: params.selectors },
    (body) => {
      const en = body.ele(NS.n, 'n:Enumerate');
      en.ele(NS.w, 'w:OptimizeEnumeration');
      en.ele(NS.w, 'w:MaxElements').txt(xmlText(String(params.maxElements ?? 32000)));
      if (params.wql)
        en.ele(NS.w, 'w:Filter').att('Dialect', xmlText(FILTER_DIALECTS.wql)).txt(xmlText(params.wql));
    },
  );
}

export interface PullParams {
  resourceUri: string;
  context: string;
  /** Default: 32000. */
  maxElements?: number;
}

export function buildPull(ctx: RequestContext, params: PullParams): string {
  return buildRequest(ctx, { action: ACTIONS.pull, resourceUri: params.resourceUri }, (body) => {
    const p = body.ele(NS.n, 'n:Pull');
    p.ele(NS.n, 'n:EnumerationContext').txt(xmlText(params.context));
    p.ele(NS.n, 'n:MaxElements').txt(xmlText(String(params.maxElements ?? 32000)));
  });
}

export function buildRelease(ctx: RequestContext, params: { resourceUri: string; context: string }): string {
  return buildRequest(ctx, { action: ACTIONS.release, resourceUri: params.resourceUri }, (body) => {
    body.ele(NS.n, 'n:Release').ele(NS.n, 'n:EnumerationContext').txt(xmlText(params.context));
  });
}

export interface EnumerationPage {
  items: ResourceInstance[];
  /** Context for the next Pull; undefined when the sequence ended. */
  context: string | undefined;
  endOfSequence: boolean;
}

function readPage(container: Element, itemsParent: Element | undefined): EnumerationPage {
  const end = child(container, 'w', 'EndOfSequence') ?? child(container, 'n', 'EndOfSequence');
  const ctxEl = child(container, 'n', 'EnumerationContext');
  const items = itemsParent ? allChildElements(itemsParent).map(instanceFromElement) : [];
  const context = textOf(ctxEl) || undefined;
  return { items, context: end ? undefined : context, endOfSequence: end !== undefined };
}

export function parseEnumerateResponse(msg: SoapMessage): EnumerationPage {
  const resp = bodyElement(msg, 'n', 'EnumerateResponse', 'Enumerate response');
  return readPage(resp, child(resp, 'w', 'Items'));
}

export function parsePullResponse(msg: SoapMessage): EnumerationPage {
  const resp = bodyElement(msg, 'n', 'PullResponse', 'Pull response');
  return readPage(resp, child(resp, 'n', 'Items'));
}
