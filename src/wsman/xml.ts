/**
 * Hardened XML reading for WS-Management messages: @xmldom/xmldom builds the tree, behind checks for what it lets
 * through or spends too long on. Lookups are namespace-aware: prefixes differ between Windows (s:, a:, w:, rsp:)
 * and other stacks (OMI, openwsman), so elements are found by namespace URI and local name only.
 *
 * What {@link parseXml} refuses (each a ProtocolError naming the message), and who checks it:
 * - over the size cap (here, before anything else); bytes that are not UTF-8 (here: TextDecoder `fatal`, never
 *   U+FFFD); characters XML 1.0 does not allow, also as character references (here; xmldom takes `&#0;`);
 * - DOCTYPE and every other `<!` declaration, so no entity can be declared or expanded; nesting deeper than
 *   {@link MAX_DEPTH}; more markup than the node budget; `&` that is not a reference to one of the five predefined
 *   entities or to an allowed character; `]]>` in text; `/` not followed by `>` in a tag (the pre-scan below);
 * - duplicate attributes after namespace resolution (xmldom keeps the last one silently) and misuse of the
 *   reserved `xml` / `xmlns` prefixes and namespaces, or undeclaring a prefix (a walk over xmldom's tree);
 * - everything else that is not well-formed (xmldom: mismatched tags, unbound prefixes, unquoted or repeated
 *   attributes, malformed comments, PIs and XML declarations, content outside the root). Every warning xmldom
 *   reports is treated as an error, except the one about U+FFFD (see {@link onXmldomReport}).
 * Line ends follow XML 1.0 (2.11): CR LF and a lone CR become LF before parsing; xmldom's default also turns
 * U+0085, U+2028 and U+2029 into LF, as XML 1.1 does, so it is not used. A CR written as `&#13;` survives.
 *
 * Two fast paths keep the cost of a 500 KB Send or Receive envelope (almost all of it one base64 text) down;
 * neither changes what is accepted or refused, or the tree that results:
 * - bytes that are all ASCII (`isAscii`, SIMD) are read as latin1, which is the same string UTF-8 decoding gives
 *   (and no byte-order mark can be among them); anything else goes through the fatal TextDecoder;
 * - a plain base64 text in an ASCII message: a text that is the whole content of an element (directly between its
 *   start tag and its end tag), at least {@link PLAIN_TEXT_MIN} characters, which is canonical base64 (only
 *   `A-Z a-z 0-9 + /` in groups of four, then at most two `=`, no blank). Such a text holds no markup, no
 *   reference and no character XML refuses, and xmldom would keep it as it is, so xmldom and the character check
 *   get the document without it, and {@link checkTree} gives the element its text node back. Checking it is
 *   decoding it (Node's decoder skips what is not base64 and stops at `=`, so only canonical base64 decodes to
 *   exactly 3/4 of its length less the padding; `-` and `_` are looked for apart), and the bytes are kept for
 *   {@link base64Content}. Anything else (a blank, `&`, `<`, a control character, non-ASCII, a child element,
 *   comment, PI or CDATA section next to the text, a shorter text) takes the full path.
 */

import { isAscii } from 'node:buffer';
import {
  DOMParser,
  type Document as DomDocument,
  type Element as DomElement,
  type Node as DomNode,
} from '@xmldom/xmldom';
import { ProtocolError } from '../errors.ts';
import { NS, type Prefix } from './constants.ts';

/** An element of a parsed message (xmldom's DOM Element). */
export type Element = DomElement;
/** A parsed message: xmldom's Document, whose root element is known to exist. */
export type Document = DomDocument & { readonly documentElement: Element };

const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;
const XML_NS = NS.xml;
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

// Invalid UTF-8 is refused, not replaced with U+FFFD (Buffer#toString would do that silently).
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Default cap on a message to parse: a few times Windows' 500 KB MaxEnvelopeSize. */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 512_000;

/**
 * Deepest element nesting accepted. WS-Management messages are about ten levels deep (WMI instances a few more).
 * Enforced before xmldom runs, whose cost grows faster than the depth (100,000 nested namespace declarations, 1.9 MB,
 * took over a minute here; the issue measured 10 to 31 s for the old reader).
 */
export const MAX_DEPTH = 256;

/**
 * Nodes (elements, attributes, text runs, comments, PIs, CDATA sections) allowed per this many bytes of the size
 * cap. xmldom spends microseconds on each node (most of it compiling a fresh RegExp for every end tag), so 2 MB of
 * `<b>x</b>` would cost seconds. Windows' messages are compact, one node per 20 bytes or more (a Receive stream is
 * over 100), and the default cap is itself 4x Windows' envelope maximum, so the default 32,000 nodes leave room.
 */
const BYTES_PER_NODE = 64;
const MIN_NODES = 10_000;

/** Shortest text taken by the plain base64 fast path (see the module comment), in characters. */
export const PLAIN_TEXT_MIN = 1024;

export interface ParseXmlOptions {
  /**
   * Refuse input longer than this many bytes (UTF-8). Default: {@link DEFAULT_MAX_RESPONSE_BYTES}. It also sets the
   * node budget: one element, attribute, text run, comment, PI or CDATA section per 64 bytes of it
   * (at least 10,000).
   */
  maxBytes?: number;
  /** Describes the message in errors, e.g. "Receive response". Default: "message". */
  what?: string;
}

class XmlRefusal extends Error {}
function refuse(message: string): never {
  throw new XmlRefusal(message);
}

// The first thing xmldom reported in the current parse. Parsing is synchronous and never calls out to other code,
// so one variable per module is enough.
let reported: string | undefined;
/**
 * xmldom goes on after errors and warnings unless the handler throws; every report stops the parse. The exception
 * is the U+FFFD warning: bytes were decoded strictly above, so a U+FFFD here is a character the peer really sent.
 */
function onXmldomReport(level: 'warning' | 'error' | 'fatalError', message: string): void {
  if (level === 'warning' && /replacement character/i.test(message)) return;
  reported ??= message;
  throw new XmlRefusal(message);
}
const parser = new DOMParser({
  locator: false, // line and column on every node: not used, and a measurable share of the cost
  normalizeLineEndings: (s) => s, // done by parseXml, XML 1.0 style
  onError: onXmldomReport,
});

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
  // A string is ASCII when its UTF-8 length is its length.
  const ascii = typeof input === 'string' ? size === input.length : isAscii(input);
  let text: string;
  try {
    // ASCII bytes are the same characters in latin1 and UTF-8; latin1 is a copy, UTF-8 decoding is not.
    text = typeof input === 'string' ? input : ascii ? input.toString('latin1') : utf8.decode(input);
  } catch (err) {
    throw new ProtocolError(`The ${what} is not valid UTF-8`, { cause: err });
  }
  if (text.trim() === '') throw new ProtocolError(`The ${what} is empty; expected a SOAP envelope`);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.includes('\r')) text = text.replace(/\r\n?/g, '\n');
  reported = undefined;
  try {
    let scan: Prescan;
    try {
      scan = prescan(text, Math.max(MIN_NODES, Math.floor(maxBytes / BYTES_PER_NODE)));
    } catch (err) {
      checkCharacters(text); // a forbidden character is named first, wherever it is
      throw err;
    }
    const plain = ascii ? plainTexts(text, scan.plain) : [];
    const rest = plain.length === 0 ? text : withoutPlainTexts(text, plain);
    // The plain texts hold no forbidden character; a hit in the rest is looked up in the whole text, for its offset.
    if (rest === text || SUSPECT_CHAR.test(rest)) checkCharacters(text);
    const doc = parser.parseFromString(rest, 'text/xml') as Document;
    checkTree(doc, scan.counts, plain, text);
    return doc;
  } catch (err) {
    const msg = reported ?? (err instanceof Error ? err.message : String(err));
    throw new ProtocolError(`The ${what} is not well-formed XML: ${msg}`, { cause: err });
  } finally {
    reported = undefined;
  }
}

/**
 * The candidates (start, end, element: three numbers each) that are canonical base64, with their bytes: four
 * values each. Only for ASCII text (see the module comment: Node's decoder reads a two-byte character by its low
 * byte).
 */
function plainTexts(s: string, candidates: readonly number[]): Array<number | Buffer> {
  const plain: Array<number | Buffer> = [];
  for (let i = 0; i < candidates.length; i += 3) {
    const start = candidates[i]!;
    const end = candidates[i + 1]!;
    const bytes = canonicalBase64(s.slice(start, end));
    if (bytes !== undefined) plain.push(start, end, candidates[i + 2]!, bytes);
  }
  return plain;
}

/** The bytes of `text` if it is canonical base64 and ASCII, else undefined. */
function canonicalBase64(text: string): Buffer | undefined {
  const n = text.length;
  if (n % 4 !== 0 || text.includes('-') || text.includes('_')) return undefined;
  const pad = text.charCodeAt(n - 1) !== 0x3d ? 0 : text.charCodeAt(n - 2) !== 0x3d ? 1 : 2;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length === (n / 4) * 3 - pad ? bytes : undefined;
}

/** `s` without the plain texts that `plain` marks (start, end, element, bytes: four values each, in order). */
function withoutPlainTexts(s: string, plain: ReadonlyArray<number | Buffer>): string {
  let out = s.slice(0, plain[0] as number);
  for (let i = 0; i < plain.length; i += 4) {
    out += s.slice(plain[i + 1] as number, (plain[i + 4] as number | undefined) ?? s.length);
  }
  return out;
}

// Characters XML 1.0 does not allow anywhere (2.2), lone surrogates included. The first expression is a cheap
// screen (any surrogate counts); only a hit pays for the exact one.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding the characters XML forbids is the point
const SUSPECT_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;
const BAD_CHAR =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding the characters XML forbids is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkCharacters(text: string): void {
  const bad = SUSPECT_CHAR.test(text) ? BAD_CHAR.exec(text) : null;
  if (bad) {
    const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    refuse(`character U+${code} at offset ${bad.index} is not allowed in XML`);
  }
}

const isXmlChar = (cp: number) =>
  cp === 0x9 ||
  cp === 0xa ||
  cp === 0xd ||
  (cp >= 0x20 && cp <= 0xd7ff) ||
  (cp >= 0xe000 && cp <= 0xfffd) ||
  (cp >= 0x10000 && cp <= 0x10ffff);

// A reference as XML 1.0 allows it without a DTD; leading zeros are legal, more than 7 significant digits never
// name a character.
const REFERENCE = /&(?:(?:lt|gt|amp|quot|apos)|#0*([0-9]{1,7})|#x0*([0-9A-Fa-f]{1,6}));/y;
// Inside a start tag, what the scan stops at: quotes (a value follows), the end, and what must not be there.
const TAG_STOP = /["'<>/]/g;

/** Next index of `needle` at or after a position that only grows: amortized linear over a whole scan. */
function finder(s: string, needle: string): (from: number) => number {
  let at = s.indexOf(needle);
  return (from) => {
    if (at >= 0 && at < from) at = s.indexOf(needle, from);
    return at;
  };
}

/**
 * One pass over the markup before xmldom sees it. It is exact, not a guess: it follows XML's own delimiters
 * (a comment ends at the first `-->`, CDATA at the first `]]>`, a PI at the first `?>`, an attribute value at its
 * closing quote, which are also where xmldom ends them), so `<` or `&` inside comments, CDATA and attribute
 * values is never mistaken for markup. Anything it cannot delimit is refused here or by xmldom after it.
 * Returns the number of attributes on each start tag in document order (see {@link checkTree}) and the texts
 * that may be plain base64 (see the module comment).
 */
function prescan(s: string, maxNodes: number): Prescan {
  const counts: number[] = [];
  const plain: number[] = [];
  // Index (in `counts`) of the element whose start tag ended right at `pos`, else -1.
  let justOpened = -1;
  const nextAmp = finder(s, '&');
  const nextCdEnd = finder(s, ']]>');
  const references = (from: number, to: number, where: string) => {
    for (let amp = nextAmp(from); amp >= 0 && amp < to; amp = nextAmp(amp + 1)) {
      REFERENCE.lastIndex = amp;
      const m = REFERENCE.exec(s);
      if (!m || amp + m[0].length > to) {
        const shown = s.slice(amp, Math.min(to, amp + 12));
        refuse(
          `"&" at offset ${amp} in ${where} does not start a reference to a predefined entity or a character (${JSON.stringify(shown)}; there is no DTD, so no other entity exists)`,
        );
      }
      const digits = m[1] ?? m[2];
      if (digits !== undefined && !isXmlChar(Number.parseInt(digits, m[1] !== undefined ? 10 : 16))) {
        refuse(`character reference "${m[0]}" at offset ${amp} names a character XML does not allow`);
      }
    }
  };
  let depth = 0;
  let nodes = 0;
  let pos = 0;
  for (;;) {
    const open = s.indexOf('<', pos);
    const textEnd = open < 0 ? s.length : open;
    const c1 = open < 0 ? -1 : s.charCodeAt(open + 1);
    if (textEnd > pos) {
      if (++nodes > maxNodes) refuse(`more than ${maxNodes} elements, attributes and other nodes`);
      references(pos, textEnd, 'text');
      const cdEnd = nextCdEnd(pos);
      if (cdEnd >= 0 && cdEnd < textEnd) refuse(`"]]>" at offset ${cdEnd} is not allowed in text`);
      if (justOpened >= 0 && c1 === 0x2f /* / */ && textEnd - pos >= PLAIN_TEXT_MIN) {
        plain.push(pos, textEnd, justOpened);
      }
    }
    justOpened = -1;
    if (open < 0) return { counts, plain };
    if (c1 === 0x2f /* / */) {
      const gt = s.indexOf('>', open + 2);
      if (gt < 0) refuse(`unterminated end tag at offset ${open}`);
      if (depth === 0) refuse(`end tag at offset ${open} closes no open element`);
      depth--;
      pos = gt + 1;
      continue;
    }
    if (++nodes > maxNodes) refuse(`more than ${maxNodes} elements, attributes and other nodes`);
    if (c1 === 0x21 /* ! */) {
      let end: number;
      if (s.startsWith('<!--', open)) end = s.indexOf('-->', open + 4) + 3;
      else if (s.startsWith('<![CDATA[', open)) end = s.indexOf(']]>', open + 9) + 3;
      else {
        return refuse(
          `a DOCTYPE or markup declaration ("<!") at offset ${open} is not allowed: WinRM never sends one, and without it no entity can be declared`,
        );
      }
      if (end < 3) refuse(`unterminated comment or CDATA section at offset ${open}`);
      pos = end;
      continue;
    }
    if (c1 === 0x3f /* ? */) {
      const end = s.indexOf('?>', open + 2);
      if (end < 0) refuse(`unterminated processing instruction at offset ${open}`);
      const target = /^[^ \t\n?]*/.exec(s.slice(open + 2, Math.min(end, open + 66)))![0];
      if (target.includes(':')) refuse(`processing instruction target "${target}" contains a colon`);
      pos = end + 2;
      continue;
    }
    // A start tag.
    let attributes = 0;
    let selfClosing = false;
    TAG_STOP.lastIndex = open + 1;
    for (;;) {
      const m = TAG_STOP.exec(s);
      if (!m) return refuse(`unterminated start tag at offset ${open}`);
      const c = m[0];
      const at = m.index;
      if (c === '"' || c === "'") {
        const close = s.indexOf(c, at + 1);
        if (close < 0) refuse(`unterminated attribute value at offset ${at}`);
        references(at + 1, close, 'an attribute value');
        attributes++;
        TAG_STOP.lastIndex = close + 1;
      } else if (c === '/') {
        if (s.charCodeAt(at + 1) !== 0x3e)
          refuse(`"/" not followed by ">" in the start tag at offset ${open}`);
        selfClosing = true;
        pos = at + 2;
        break;
      } else if (c === '>') {
        pos = at + 1;
        break;
      } else refuse(`"<" inside the start tag at offset ${open}`);
    }
    nodes += attributes;
    if (nodes > maxNodes) refuse(`more than ${maxNodes} elements, attributes and other nodes`);
    counts.push(attributes);
    if (!selfClosing) {
      if (++depth > MAX_DEPTH) refuse(`elements nested deeper than ${MAX_DEPTH} levels`);
      justOpened = counts.length - 1;
    }
  }
}

interface Prescan {
  /** Attributes on each start tag, in document order. */
  counts: number[];
  /**
   * Texts long enough for the plain base64 path that are an element's whole content, in document order, three
   * numbers each: start and end offset in the text, and the index (as in `counts`) of that element.
   */
  plain: number[];
}

/**
 * What only the tree shows, in document order without recursion: an element with fewer attributes than its tag
 * had (xmldom replaced one with another of the same namespace and local name), and namespace declarations that
 * Namespaces in XML 1.0 (section 3) forbids. Elements whose plain text xmldom did not read get it here, as the
 * one text node xmldom would have made of it.
 */
function checkTree(
  doc: Document,
  counts: readonly number[],
  plain: ReadonlyArray<number | Buffer>,
  text: string,
): void {
  const root = doc.documentElement;
  let index = 0;
  let next = 0; // the next plain text in `plain`
  let n: DomNode | null = root;
  while (n !== null) {
    if (n.nodeType === ELEMENT_NODE) {
      const el = n as Element;
      const attrs = el.attributes;
      if (attrs.length !== counts[index]) {
        refuse(`${describe(el)} has two attributes with the same namespace and local name`);
      }
      for (let i = 0; i < attrs.length; i++) {
        const a = attrs.item(i)!;
        if (a.namespaceURI !== XMLNS_NS) continue;
        const declared = a.prefix === 'xmlns' ? a.localName : null;
        const v = a.value;
        if (declared === 'xmlns') refuse('the prefix "xmlns" must not be declared');
        if (declared === 'xml' && v !== XML_NS) refuse('the prefix "xml" is bound to its own namespace only');
        if (declared !== 'xml' && v === XML_NS) refuse('only the prefix "xml" may name the XML namespace');
        if (v === XMLNS_NS) refuse('the xmlns namespace must not be declared');
        if (declared !== null && v === '') refuse(`the prefix "${declared}" cannot be undeclared in XML 1.0`);
      }
      if (plain[next + 2] === index) {
        // Its start and end tag were adjacent for xmldom, so it has no child yet.
        if (el.firstChild !== null) throw new Error(`${describe(el)} has children besides its plain text`);
        const value = text.slice(plain[next] as number, plain[next + 1] as number);
        const node = el.appendChild(doc.createTextNode(value));
        decoded.set(node, { value, bytes: plain[next + 3] as Buffer });
        next += 4;
      }
      index++;
      if (el.firstChild !== null) {
        n = el.firstChild;
        continue;
      }
    }
    while (n !== null && n !== root && n.nextSibling === null) n = n.parentNode;
    if (n === null || n === root) break;
    n = n.nextSibling;
  }
  if (next !== plain.length) throw new Error('a plain text was not given back to its element');
}

/** Bytes of the plain base64 texts, decoded while parsing, until {@link base64Content} takes them. */
const decoded = new WeakMap<DomNode, { value: string; bytes: Buffer }>();

function isElement(node: DomNode | null): node is Element {
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
 * The bytes of an element's base64 content: `decodeBase64(textOf(el), what)`, without decoding again a plain base64
 * text the parser has decoded already (see the module comment). Each call returns a Buffer of its own.
 */
export function base64Content(el: Element | undefined, what: string): Buffer {
  const only = el?.firstChild;
  if (only != null && only.nextSibling === null) {
    const kept = decoded.get(only);
    if (kept !== undefined) {
      decoded.delete(only); // handed over once: the caller may change the bytes
      if (only.nodeValue === kept.value) return kept.bytes;
    }
  }
  return decodeBase64(textOf(el), what);
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
