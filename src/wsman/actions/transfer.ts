/** WS-Transfer Get and Put on a resource ([MS-WSMV] 3.1.4.1, 3.1.4.3). */

import { XMLSerializer } from '@xmldom/xmldom';
import { ProtocolError } from '../../errors.ts';
import { ACTIONS, NS } from '../constants.ts';
import { buildRequest, type RequestContext, type XMLBuilder, xmlText } from '../envelope.ts';
import type { SoapMessage } from '../response.ts';
import { allChildElements, attr, child, childElements, type Element, textOf } from '../xml.ts';

export interface ResourceRef {
  resourceUri: string;
  selectors?: Readonly<Record<string, string>>;
}

export interface GetParams extends ResourceRef {
  /** w:FragmentTransfer path, e.g. 'LoadPercentage'. Default: none (the whole resource). */
  fragment?: string;
}

export function buildGet(ctx: RequestContext, ref: GetParams): string {
  return buildRequest(ctx, {
    action: ACTIONS.get,
    resourceUri: ref.resourceUri,
    selectors: ref.selectors,
    ...(ref.fragment !== undefined ? { fragment: ref.fragment } : {}),
  });
}

/** One property value: text, `null` for `xsi:nil="true"`, or an embedded instance. */
export type PropertyValue = string | null | ResourceInstance;

/** A resource instance: its properties plus the element (and its XML) for callers that need more. */
export interface ResourceInstance {
  /** Local name of the element, e.g. 'Win32_Service', 'Config', 'Listener'. */
  className: string;
  /** Namespace of the element: for WMI the class's resource URI. */
  namespace: string | undefined;
  /** `xsi:type` of the element when the server wrote one (embedded instances), e.g. 'p:MSFT_WmiError_Type'. */
  xsiType?: string;
  /**
   * By local name: text, null for `xsi:nil="true"`, an embedded instance (a child with child elements) as a nested
   * ResourceInstance, and a name repeated (CIM arrays, e.g. Win32_Service's nothing / Listener's ListeningOn) as
   * an array in document order. CIM date/time wrappers (`cim:Datetime`, `cim:Date`, `cim:Time`, `cim:Interval`,
   * DSP0230 8.2) read as their text.
   */
  properties: Record<string, PropertyValue | PropertyValue[]>;
  /** The instance element itself (not enumerable, so JSON.stringify gives the plain data). */
  readonly element: Element;
  /** The element serialized as XML, computed on first use (not enumerable). */
  readonly xml: string;
}

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
/** The WS-CIM common namespace of the date/time wrappers ([DSP0230] 8.2). */
const CIM_COMMON = 'http://schemas.dmtf.org/wbem/wscim/1/common';
const CIM_TIME_WRAPPERS = new Set(['Datetime', 'Date', 'Time', 'Interval']);
/** Embedded instances nest; past this depth the rest is read as text (the element keeps all of it). */
const MAX_INSTANCE_DEPTH = 32;

function propertyValue(c: Element, depth: number): PropertyValue {
  if (c.getAttributeNS(XSI, 'nil') === 'true') return null;
  const kids = allChildElements(c);
  if (kids.length === 0 || depth >= MAX_INSTANCE_DEPTH) return textOf(c);
  const only = kids.length === 1 ? kids[0]! : undefined;
  if (only && only.namespaceURI === CIM_COMMON && CIM_TIME_WRAPPERS.has(only.localName ?? '')) {
    return textOf(only);
  }
  return readInstance(c, depth + 1);
}

function readInstance(el: Element, depth: number): ResourceInstance {
  const properties: Record<string, PropertyValue | PropertyValue[]> = {};
  for (const c of allChildElements(el)) {
    const name = c.localName ?? '';
    const value = propertyValue(c, depth);
    const prev = properties[name];
    if (!Object.hasOwn(properties, name)) properties[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else properties[name] = [prev as PropertyValue, value];
  }
  const type = el.getAttributeNS(XSI, 'type');
  const inst = {
    className: el.localName ?? '',
    namespace: el.namespaceURI ?? undefined,
    ...(type ? { xsiType: type } : {}),
    properties,
  } as ResourceInstance;
  // element and xml are not enumerable: JSON.stringify(instance) gives the plain data (a DOM node is circular).
  let xml: string | undefined;
  Object.defineProperties(inst, {
    element: { value: el, enumerable: false },
    xml: {
      enumerable: false,
      get: () => {
        xml ??= new XMLSerializer().serializeToString(el);
        return xml;
      },
    },
  });
  return inst;
}

/**
 * Read an instance element: properties by local name (see {@link ResourceInstance.properties}), xsi:nil as null,
 * repeated names as arrays, embedded instances nested.
 */
export function instanceFromElement(el: Element): ResourceInstance {
  return readInstance(el, 0);
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
  /** Properties to write; null writes `xsi:nil="true"`. */
  properties: Readonly<Record<string, string | null>>;
  /** Namespace of the instance element. Default: the resource URI (as `winrm set` writes it). */
  namespace?: string;
}

function writeInstance(body: XMLBuilder, params: PutParams): void {
  const ns = params.namespace ?? params.resourceUri;
  const inst = body.ele(ns, `p:${params.className}`);
  for (const [k, v] of Object.entries(params.properties)) {
    const el = inst.ele(ns, `p:${k}`);
    if (v === null) el.att(NS.xsi, 'xsi:nil', 'true');
    else el.txt(xmlText(v));
  }
}

export function buildPut(ctx: RequestContext, params: PutParams): string {
  return buildRequest(
    ctx,
    { action: ACTIONS.put, resourceUri: params.resourceUri, selectors: params.selectors },
    (body) => writeInstance(body, params),
  );
}

/** WS-Transfer Create ([MS-WSMV] 3.1.4.5): the new instance in the body, its keys as selectors. */
export function buildCreate(ctx: RequestContext, params: PutParams): string {
  return buildRequest(
    ctx,
    { action: ACTIONS.create, resourceUri: params.resourceUri, selectors: params.selectors },
    (body) => writeInstance(body, params),
  );
}

/** The endpoint reference of a created resource (x:ResourceCreated). */
export interface CreatedResource {
  address: string | undefined;
  resourceUri: string | undefined;
  selectors: Record<string, string>;
  /** The instance Windows sends after the EPR for some resources (e.g. a shell). */
  instance: ResourceInstance | undefined;
}

export function parseCreateResponse(msg: SoapMessage): CreatedResource {
  const created = child(msg.body, 'x', 'ResourceCreated');
  if (!created) throw new ProtocolError('The Create response has no x:ResourceCreated');
  const ref = child(created, 'a', 'ReferenceParameters');
  const selectors: Record<string, string> = {};
  const set = ref ? child(ref, 'w', 'SelectorSet') : undefined;
  if (set) for (const s of childElements(set, 'w', 'Selector')) selectors[attr(s, 'Name') ?? ''] = textOf(s);
  const rest = allChildElements(msg.body).filter((e) => e !== created);
  return {
    address: textOf(child(created, 'a', 'Address')) || undefined,
    resourceUri: ref ? textOf(child(ref, 'w', 'ResourceURI')) || undefined : undefined,
    selectors,
    instance: rest[0] ? instanceFromElement(rest[0]) : undefined,
  };
}

/** WS-Transfer Delete of a resource ([MS-WSMV] 3.1.4.6); the answer has an empty body. */
export function buildDelete(ctx: RequestContext, ref: ResourceRef): string {
  return buildRequest(ctx, {
    action: ACTIONS.delete,
    resourceUri: ref.resourceUri,
    selectors: ref.selectors,
  });
}

export function parsePutResponse(msg: SoapMessage): ResourceInstance | undefined {
  return allChildElements(msg.body).length > 0 ? firstBodyInstance(msg, 'Put response') : undefined;
}
