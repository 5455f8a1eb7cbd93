/**
 * Hardened XML reading for WS-Management messages. WinRM never sends a DOCTYPE, so the reader refuses any
 * (no entity expansion is possible); input size is capped; bytes must be valid UTF-8; every parse problem becomes
 * a ProtocolError. Lookups are namespace-aware: prefixes differ between Windows (s:, a:, w:, rsp:) and other
 * stacks (OMI, openwsman), so elements are found by namespace URI and local name only.
 */
import { ProtocolError } from '../errors.ts';
import { NS, type Prefix } from './constants.ts';
import {
  CDATA_SECTION_NODE,
  ELEMENT_NODE,
  parseXmlDocument,
  TEXT_NODE,
  type XmlDocument,
  type XmlElement,
  type XmlNode,
} from './xml-parser.ts';

export type Document = XmlDocument;
export type Element = XmlElement;
type Node = XmlNode;

// Invalid UTF-8 is refused, not replaced with U+FFFD (Buffer#toString would do that silently).
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Default cap on a message to parse: a few times Windows' 500 KB MaxEnvelopeSize. */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 512_000;

export interface ParseXmlOptions {
  /** Refuse input longer than this many bytes (UTF-8). Default: {@link DEFAULT_MAX_RESPONSE_BYTES}. */
  maxBytes?: number;
  /** Describes the message in errors, e.g. "Receive response". Default: "message". */
  what?: string;
}

/** Parse a WS-Management message; throws ProtocolError for anything that is not a well-formed plain document. */
export function parseXml(input: string | Buffer, options: ParseXmlOptions = {}): Document {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const what = options.what ?? 'message';
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > maxBytes) {
    throw new ProtocolError(`The ${what} is ${size} bytes, over the ${maxBytes}-byte limit`, {
      remedy: 'raise maxResponseBytes if the server legitimately sends larger envelopes',
    });
  }
  let text: string;
  try {
    text = typeof input === 'string' ? input : utf8.decode(input);
  } catch (err) {
    throw new ProtocolError(`The ${what} is not valid UTF-8`, { cause: err });
  }
  if (text.trim() === '') throw new ProtocolError(`The ${what} is empty; expected a SOAP envelope`);
  let doc: Document;
  try {
    doc = parseXmlDocument(text);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new ProtocolError(`The ${what} is not well-formed XML: ${msg}`, { cause: err });
  }
  return doc;
}

function isElement(node: Node | null): node is Element {
  return node !== null && node.nodeType === ELEMENT_NODE;
}

/** Direct child elements of `parent` with the given namespace and local name (any prefix). */
export function childElements(parent: Element, prefix: Prefix | null, localName: string): Element[] {
  const ns = prefix === null ? null : NS[prefix];
  const out: Element[] = [];
  for (let n = parent.firstChild; n !== null; n = n.nextSibling) {
    if (isElement(n) && n.localName === localName && (ns === null || n.namespaceURI === ns)) out.push(n);
  }
  return out;
}

/** All direct child elements. */
export function allChildElements(parent: Element): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n !== null; n = n.nextSibling) if (isElement(n)) out.push(n);
  return out;
}

/** First direct child with that name, or undefined. `prefix: null` matches any namespace. */
export function child(parent: Element, prefix: Prefix | null, localName: string): Element | undefined {
  const ns = prefix === null ? null : NS[prefix];
  for (let n = parent.firstChild; n !== null; n = n.nextSibling) {
    if (isElement(n) && n.localName === localName && (ns === null || n.namespaceURI === ns)) return n;
  }
  return undefined;
}

/** Like {@link child} but a missing element is a ProtocolError naming it. */
export function requireChild(parent: Element, prefix: Prefix, localName: string, what: string): Element {
  const el = child(parent, prefix, localName);
  if (!el) {
    throw new ProtocolError(`The ${what} has no ${prefix}:${localName} element in ${describe(parent)}`);
  }
  return el;
}

/** First descendant in document order with that namespace and local name (iterative: no stack overflow). */
export function descendant(root: Element, prefix: Prefix | null, localName: string): Element | undefined {
  const ns = prefix === null ? null : NS[prefix];
  const stack: Element[] = allChildElements(root).reverse();
  while (stack.length > 0) {
    const el = stack.pop()!;
    if (el.localName === localName && (ns === null || el.namespaceURI === ns)) return el;
    for (let n = el.lastChild; n !== null; n = n.previousSibling) if (isElement(n)) stack.push(n);
  }
  return undefined;
}

/** Concatenated text content (text and CDATA children), trimmed: pretty-printers put whitespace around ids. */
export function textOf(el: Element | undefined): string {
  if (!el) return '';
  let s = '';
  for (let n = el.firstChild; n !== null; n = n.nextSibling) {
    if (n.nodeType === TEXT_NODE || n.nodeType === CDATA_SECTION_NODE) s += n.nodeValue ?? '';
  }
  return s.trim();
}

/** Attribute value by local name (unqualified) or namespace, trimmed; undefined when absent. */
export function attr(el: Element, name: string, prefix?: Prefix): string | undefined {
  const v = prefix ? el.getAttributeNS(NS[prefix], name) : el.getAttribute(name);
  if (v === null || v === undefined || (v === '' && !el.hasAttribute(name) && !prefix)) return undefined;
  return v.trim();
}

export function describe(el: Element): string {
  return `<${el.prefix ? `${el.prefix}:` : ''}${el.localName}>`;
}

/**
 * Strict base64 decoding: Buffer.from silently skips characters that are not base64, and WinRM peers must not
 * send any. The fast path decodes and checks the length (anything skipped makes the output shorter); only a
 * mismatch pays for the full scan that tells whitespace (allowed) from garbage (a ProtocolError).
 */
export function decodeBase64(text: string, what: string): Buffer {
  // Buffer.from also takes base64url ('-', '_'), which is not what WinRM sends.
  if (text.length % 4 === 0 && !text.includes('-') && !text.includes('_')) {
    const out = Buffer.from(text, 'base64');
    const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
    if (out.length === (text.length / 4) * 3 - pad && (pad === 0 || !/=[^=]/.test(text.slice(-3))))
      return out;
  }
  const clean = text.replace(/\s+/g, '');
  if (clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) {
    throw new ProtocolError(`The ${what} is not valid base64 (${clean.length} characters)`);
  }
  return Buffer.from(clean, 'base64');
}
