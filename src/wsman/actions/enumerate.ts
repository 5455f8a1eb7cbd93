/** WS-Enumeration Enumerate, Pull, Release ([MS-WSMV] 3.1.4.8 - 3.1.4.10). */
import { ACTIONS, FILTER_DIALECTS, NS } from '../constants.ts';
import { buildRequest, type RequestContext, xmlText } from '../envelope.ts';
import { bodyElement, type SoapMessage } from '../response.ts';
import { allChildElements, child, type Element, textOf } from '../xml.ts';
import { instanceFromElement, type ResourceInstance, type ResourceRef } from './transfer.ts';

export interface EnumerateParams extends ResourceRef {
  /** WQL query (dialect WQL) for WMI classes; the same as `filter` with the WQL dialect. Default: none. */
  wql?: string;
  /**
   * w:Filter: text (a WQL query, or any dialect's text) or, for the selector dialect, name/value pairs written as
   * a w:SelectorSet ([DSP0226] 8.3, SelectorFilter). Default: none.
   */
  filter?: string | Readonly<Record<string, string>>;
  /**
   * Filter dialect URI. Default: the selector dialect for an object filter, WQL for a text filter (as
   * `winrm enumerate -filter` does).
   */
  dialect?: string;
  /**
   * Ask for items in the Enumerate answer itself (w:OptimizeEnumeration, [MS-WSMV] 3.1.4.8.2), as winrm.cmd does.
   * Without it the first items come with the first Pull. Default: true.
   */
  optimize?: boolean;
  /** Items per response (Enumerate with optimize, and each Pull). Default: 32000, as `winrm enumerate` sends. */
  maxElements?: number;
}

export function buildEnumerate(ctx: RequestContext, params: EnumerateParams): string {
  const filter = params.filter ?? params.wql;
  const dialect =
    params.dialect ?? (typeof filter === 'object' ? FILTER_DIALECTS.selector : FILTER_DIALECTS.wql);
  return buildRequest(
    ctx,
    { action: ACTIONS.enumerate, resourceUri: params.resourceUri, selectors: params.selectors },
    (body) => {
      const en = body.ele(NS.n, 'n:Enumerate');
      if (params.optimize ?? true) {
        en.ele(NS.w, 'w:OptimizeEnumeration');
        en.ele(NS.w, 'w:MaxElements').txt(xmlText(String(params.maxElements ?? 32000)));
      }
      if (filter === undefined || filter === '') return;
      const f = en.ele(NS.w, 'w:Filter').att('Dialect', xmlText(dialect));
      if (typeof filter === 'string') f.txt(xmlText(filter));
      else {
        const set = f.ele(NS.w, 'w:SelectorSet');
        for (const [k, v] of Object.entries(filter))
          set.ele(NS.w, 'w:Selector').att('Name', xmlText(k)).txt(xmlText(v));
      }
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
