/**
 * Reading a request envelope's header: what a WS-Management server (the mock) needs to route and check a message.
 * Structural problems are ProtocolErrors; the server maps them onto the faults Windows gives.
 */
import { NS } from './constants.ts';
import { parseDuration } from './envelope.ts';
import type { SoapMessage } from './response.ts';
import { allChildElements, attr, child, childElements, type Element, textOf } from './xml.ts';

export interface RequestHeaderInfo {
  action: string | undefined;
  messageId: string | undefined;
  to: string | undefined;
  replyTo: string | undefined;
  resourceUri: string | undefined;
  /** Bytes; undefined when absent or not a number. */
  maxEnvelopeSize: number | undefined;
  /** Seconds; undefined when absent. `NaN` when present but not an xs:duration. */
  operationTimeout: number | undefined;
  locale: string | undefined;
  selectors: Record<string, string>;
  options: Record<string, string>;
  sessionId: string | undefined;
  /** Header elements marked mustUnderstand="true" (qualified or not), as `{ns}local`. */
  mustUnderstand: string[];
}

function isMustUnderstand(el: Element): boolean {
  const v = el.getAttributeNS(NS.s, 'mustUnderstand') || el.getAttribute('mustUnderstand') || '';
  return v === 'true' || v === '1';
}

export function readRequestHeader(msg: SoapMessage): RequestHeaderInfo {
  const h = msg.header;
  const info: RequestHeaderInfo = {
    action: msg.action,
    messageId: msg.messageId,
    to: undefined,
    replyTo: undefined,
    resourceUri: undefined,
    maxEnvelopeSize: undefined,
    operationTimeout: undefined,
    locale: undefined,
    selectors: {},
    options: {},
    sessionId: undefined,
    mustUnderstand: [],
  };
  if (!h) return info;
  info.to = textOf(child(h, 'a', 'To')) || undefined;
  const reply = child(h, 'a', 'ReplyTo');
  info.replyTo = reply ? textOf(child(reply, 'a', 'Address')) || undefined : undefined;
  info.resourceUri = textOf(child(h, 'w', 'ResourceURI')) || undefined;
  const max = textOf(child(h, 'w', 'MaxEnvelopeSize'));
  info.maxEnvelopeSize = /^\d+$/.test(max) ? Number(max) : undefined;
  const ot = child(h, 'w', 'OperationTimeout');
  if (ot) info.operationTimeout = parseDuration(textOf(ot)) ?? Number.NaN;
  const loc = child(h, 'w', 'Locale');
  info.locale = loc ? (loc.getAttributeNS(NS.xml, 'lang') ?? undefined) : undefined;
  const sel = child(h, 'w', 'SelectorSet');
  if (sel)
    for (const s of childElements(sel, 'w', 'Selector')) info.selectors[attr(s, 'Name') ?? ''] = textOf(s);
  const opt = child(h, 'w', 'OptionSet');
  if (opt) for (const o of childElements(opt, 'w', 'Option')) info.options[attr(o, 'Name') ?? ''] = textOf(o);
  info.sessionId = textOf(child(h, 'p', 'SessionId')) || undefined;
  for (const el of allChildElements(h)) {
    if (isMustUnderstand(el)) info.mustUnderstand.push(`{${el.namespaceURI ?? ''}}${el.localName}`);
  }
  return info;
}
