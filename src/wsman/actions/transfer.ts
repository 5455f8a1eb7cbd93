/** WS-Transfer Get and Put on a resource ([MS-WSMV] 3.1.4.1, 3.1.4.3). */

import { ProtocolError } from '../../errors.ts';
import { ACTIONS } from '../constants.ts';
import { buildRequest, type RequestContext, xmlText } from '../envelope.ts';
import type { SoapMessage } from '../response.ts';
import { allChildElements, type Element, textOf } from '../xml.ts';

export interface ResourceRef {
  resourceUri: string;
  selectors?: Readonly<Record<string, string>>;
}

export function buildGet(ctx: RequestContext, ref: ResourceRef): string {
  return buildRequest(ctx, { action: ACTIONS.get, resourceUri: ref.resourceUri, selectors: ref.selectors });
}

/** A resource instance as a flat property map plus the element for callers that need more. */
export interface ResourceInstance {
  className: string;
  namespace: string | undefined;
  properties: Record<string, string | string[] | null>;
  element: Element;
}

/** Flatten an instance element: repeated children become arrays, xsi:nil="true" becomes null. */
export function instanceFromElement(el: Element): ResourceInstance {
  const properties: Record<string, string | string[] | null> = {};
  for (const c of allChildElements(el)) {
    const name = c.localName ?? '';
    const nil = c.getAttributeNS('http://www.w3.org/2001/XMLSchema-instance', 'nil') === 'true';
    const value = nil ? null : textOf(c);
    const prev = properties[name];
    if (prev === undefined) properties[name] = value;
    else if (Array.isArray(prev)) prev.push(value ?? '');
    else properties[name] = [prev ?? '', value ?? ''];
  }
  return { className: el.localName ?? '', namespace: el.namespaceURI ?? undefined, properties, element: el };
}

function firstBodyInstance(msg: SoapMessage, what: string): ResourceInstance {
  const first = allChildElements(msg.body)[0];
  if (!first) throw new ProtocolError(`The ${what} has an empty body`);
  return instanceFromElement(first);
}

export function parseGetResponse(msg: SoapMessage): ResourceInstance {
  return firstBodyInstance(msg, 'Get response');
}

export interface PutParams extends ResourceRef {
  /** Element name of the instance, e.g. 'Service' or 'Win32_Service'. */
  className: string;
  /** Properties to write; namespace is the resource URI (as `winrm set` does). */
  properties: Readonly<Record<string, string>>;
}

export function buildPut(ctx: RequestContext, params: PutParams): string {
  return buildRequest(
    ctx,
    { action: ACTIONS.put, resourceUri: params.resourceUri, selectors: params.selectors },
    (body) => {
      const inst = body.ele(params.resourceUri, `p:${params.className}`);
      for (const [k, v] of Object.entries(params.properties))
        inst.ele(params.resourceUri, `p:${k}`).txt(xmlText(v));
    },
  );
}

export function parsePutResponse(msg: SoapMessage): ResourceInstance | undefined {
  return allChildElements(msg.body).length > 0 ? firstBodyInstance(msg, 'Put response') : undefined;
}
