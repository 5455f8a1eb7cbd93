/**
 * The mock's generic resource layer: providers that serve WS-Management resources (WS-Transfer Get/Put/Create/
 * Delete, WS-Enumeration Enumerate/Pull/Release, custom-action Invoke) besides the WinRS shell. The server's
 * resource dispatcher (src/mock/dispatch/resources.ts) owns the envelopes, the enumeration contexts, MaxElements
 * and optimized enumeration; a provider only answers with the instance XML in the form Windows writes it.
 *
 * Faults: a provider throws a MockFault (src/mock/wire/faults.ts, `Faults` or `ResourceFaults` in
 * src/mock/resources/faults.ts); the dispatcher writes it. An operation the provider leaves undefined is
 * answered with ActionNotSupported ([MS-WSMAN] DSP0226 R7.1-2 / R8.1-3: a service that does not support an
 * operation on a resource returns wsa:ActionNotSupported).
 */
import type { Element } from '../../wsman/xml.ts';
import type { AuthUser } from '../auth/types.ts';

/** What a provider sees of a request. */
export interface ResourceRequest {
  /** The ResourceURI header, as sent (compare case-insensitively). */
  resourceUri: string;
  /** w:SelectorSet, name → value (names as sent; [MS-WSMV] compares selector names case-insensitively). */
  selectors: Readonly<Record<string, string>>;
  /** w:OptionSet, name → value. */
  options: Readonly<Record<string, string>>;
  /** The authenticated user. */
  user: AuthUser;
  /** w:Locale or en-US. */
  lang: string;
  /**
   * The w:FragmentTransfer expression ([MS-WSMV] 3.1.4.1.18, DSP0226 7.7), e.g. `LoadPercentage`; undefined
   * when the request addresses the whole resource.
   */
  fragment?: string | undefined;
}

/**
 * One answer: an instance (or an Invoke output) as the XML text of the element Windows puts in the body, e.g.
 * `<p:Win32_Service xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Service" ...>...</p:Win32_Service>`.
 * The element must declare every namespace prefix it uses (it is pasted into the envelope as is).
 */
export interface ResourceAnswer {
  xml: string;
  /**
   * The EPR of the instance (for Enumerate with `wsman:EnumerationMode` EnumerateEPR/EnumerateObjectAndEPR and
   * for Create's ResourceCreated): the resource URI and the selectors that address it. Optional.
   */
  epr?: { resourceUri: string; selectors: Readonly<Record<string, string>> };
}

/** The wsman:Filter of an Enumerate ([MS-WSMV] 3.1.4.8.2; DSP0226 8.3). */
export interface EnumerationFilter {
  /** The Dialect attribute; absent means the service's default (WQL for WMI). */
  dialect: string | undefined;
  /** Text of the filter for text dialects (WQL). */
  text: string;
  /** The filter element, for XML dialects (SelectorFilter: `<w:SelectorSet>` inside it). */
  element: Element;
}

/** Well-known filter dialects. */
export const DIALECTS = {
  /** WQL ([MS-WSMV] 3.1.4.8.2.1). */
  wql: 'http://schemas.microsoft.com/wbem/wsman/1/WQL',
  /** Selector filter (DSP0226 8.3, Annex E). */
  selector: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter',
  /** Association filter (DSP0227); the mock does not serve it. */
  association: 'http://schemas.dmtf.org/wbem/wsman/1/cimbinding/associationFilter',
} as const;

/**
 * A provider of resources to the mock. The server consults providers in order (MockServerOptions.resourceProviders
 * first, then the built-in ones: CIM, ...); the first whose `serves` is true handles the request.
 */
export interface MockResourceProvider {
  /** A short name for logs (e.g. "cim", "config"). */
  readonly name: string;
  /** True when this provider serves the resource URI (compare case-insensitively, URI without selectors). */
  serves(resourceUri: string): boolean;
  /** WS-Transfer Get: the instance. Throw a MockFault for an unknown instance or selector. */
  get?(req: ResourceRequest): ResourceAnswer;
  /** WS-Transfer Put: `body` is the instance element of the request body; return the instance after the change. */
  put?(req: ResourceRequest, body: Element): ResourceAnswer;
  /**
   * WS-Enumeration Enumerate: every item, in order, computed once at Enumerate time (the dispatcher pages them
   * with Pull/MaxElements). Throw a MockFault for a bad filter (the dispatcher turns an unsupported dialect into
   * wsen:FilterDialectRequestedUnavailable before calling when `dialects` is given).
   */
  enumerate?(req: ResourceRequest, filter: EnumerationFilter | undefined): ResourceAnswer[];
  /** Filter dialects `enumerate` accepts; default: none (a filtered Enumerate is refused). */
  readonly dialects?: readonly string[];
  /**
   * Invoke of a custom action `{resourceUri}/{method}`: `input` is the `<p:{method}_INPUT>` body element (absent
   * when the body is empty). Return the `<p:{method}_OUTPUT>` element.
   */
  invoke?(req: ResourceRequest, method: string, input: Element | undefined): ResourceAnswer;
  /** WS-Transfer Create: return the created instance (its `epr` goes into the ResourceCreated answer). */
  create?(req: ResourceRequest, body: Element): ResourceAnswer;
  /** WS-Transfer Delete. */
  delete?(req: ResourceRequest): void;
}
