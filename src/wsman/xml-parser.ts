/**
 * A strict, namespace-aware XML 1.0 reader for WS-Management messages, written for this library because a general
 * DOM parser cost a third of the CPU on both ends of an execute (see docs/architecture.md, "XML reading").
 *
 * What it accepts is a well-formed XML 1.0 document with namespaces (Namespaces in XML 1.0), minus what WinRM never
 * sends: no DOCTYPE (so no DTD, no entity declarations and no named entities beyond the five predefined ones).
 * Everything else that is not well-formed is refused with an XmlSyntaxError naming the offset: mismatched or
 * unclosed tags, duplicate attributes (also after namespace resolution), unbound prefixes, reserved-prefix
 * misuse, characters XML does not allow, `]]>` in text, `--` in comments, text or a second element after the root.
 *
 * The tree it builds is a small read-only subset of the DOM (the property names are the DOM's, so callers read it
 * the same way): elements, text and CDATA nodes. Comments and processing instructions are checked and dropped.
 * Line ends are normalized first (CRLF and lone CR become LF, XML 1.0 2.11); a CR written as `&#13;` survives.
 * Attribute values get the CDATA normalization of XML 1.0 3.3.3 (literal tab and LF become a space).
 * The reader is iterative: nesting depth is bounded only by memory, never by the call stack.
 */

export const XML_NS = 'http://www.w3.org/XML/1998/namespace';
export const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

export const ELEMENT_NODE = 1;
export const TEXT_NODE = 3;
export const CDATA_SECTION_NODE = 4;

export class XmlSyntaxError extends Error {
  override name = 'XmlSyntaxError';
  /** Offset (UTF-16 code units, after line-end normalization) where the problem was found. */
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} at offset ${offset}`);
    this.offset = offset;
  }
}

export interface XmlAttribute {
  readonly name: string;
  readonly prefix: string | null;
  readonly localName: string;
  readonly namespaceURI: string | null;
  readonly value: string;
}

interface NodeLinks {
  parentNode: XmlElement | null;
  nextSibling: XmlNode | null;
  previousSibling: XmlNode | null;
}

export class XmlText implements NodeLinks {
  parentNode: XmlElement | null = null;
  nextSibling: XmlNode | null = null;
  previousSibling: XmlNode | null = null;
  readonly firstChild = null;
  readonly lastChild = null;
  constructor(
    readonly nodeType: typeof TEXT_NODE | typeof CDATA_SECTION_NODE,
    readonly nodeValue: string,
  ) {}
  get textContent(): string {
    return this.nodeValue;
  }
}

export class XmlElement implements NodeLinks {
  readonly nodeType = ELEMENT_NODE;
  readonly nodeValue = null;
  parentNode: XmlElement | null = null;
  nextSibling: XmlNode | null = null;
  previousSibling: XmlNode | null = null;
  firstChild: XmlNode | null = null;
  lastChild: XmlNode | null = null;
  constructor(
    /** Qualified name as written, e.g. `s:Envelope`. */
    readonly tagName: string,
    readonly prefix: string | null,
    readonly localName: string,
    readonly namespaceURI: string | null,
    /** In document order, namespace declarations included (their namespace is {@link XMLNS_NS}). */
    readonly attributes: readonly XmlAttribute[],
    private readonly inScope: Readonly<Record<string, string>>,
  ) {}

  /** Namespace bound to `prefix` here (null or '' for the default namespace), or null when unbound. */
  lookupNamespaceURI(prefix: string | null): string | null {
    return this.inScope[prefix ?? ''] || null;
  }

  /** Value of the attribute with this qualified name (as written), or null. */
  getAttribute(name: string): string | null {
    for (const a of this.attributes) if (a.name === name) return a.value;
    return null;
  }

  /** Value of the attribute with this namespace (null: none) and local name, or null. */
  getAttributeNS(namespaceURI: string | null, localName: string): string | null {
    const ns = namespaceURI === '' ? null : namespaceURI;
    for (const a of this.attributes) if (a.localName === localName && a.namespaceURI === ns) return a.value;
    return null;
  }

  hasAttribute(name: string): boolean {
    return this.getAttribute(name) !== null;
  }

  /** Text of every descendant text and CDATA node, in document order. */
  get textContent(): string {
    let s = '';
    let n: XmlNode | null = this.firstChild;
    while (n !== null && n !== this) {
      if (n.nodeType !== ELEMENT_NODE) s += n.nodeValue;
      else if (n.firstChild !== null) {
        n = n.firstChild;
        continue;
      }
      while (n !== null && n !== this && n.nextSibling === null) n = n.parentNode;
      if (n === null || n === this) break;
      n = n.nextSibling;
    }
    return s;
  }

  /** The element written back as XML (attributes as declared, text escaped); for diagnostics and tests. */
  toString(): string {
    let out = '';
    const open = (el: XmlElement) => {
      out += `<${el.tagName}`;
      for (const a of el.attributes) out += ` ${a.name}="${escapeAttr(a.value)}"`;
      out += el.firstChild ? '>' : '/>';
    };
    open(this);
    let n: XmlNode | null = this.firstChild;
    while (n !== null && n !== this) {
      if (n.nodeType !== ELEMENT_NODE)
        out += n.nodeType === TEXT_NODE ? escapeText(n.nodeValue) : cdata(n.nodeValue);
      else {
        open(n);
        if (n.firstChild !== null) {
          n = n.firstChild;
          continue;
        }
      }
      while (n !== null && n !== this && n.nextSibling === null) {
        n = n.parentNode;
        if (n !== null) out += `</${n.tagName}>`;
      }
      if (n === null || n === this) break;
      n = n.nextSibling;
    }
    return out;
  }

  appendChild(node: XmlNode): void {
    node.parentNode = this;
    node.previousSibling = this.lastChild;
    if (this.lastChild) this.lastChild.nextSibling = node;
    else this.firstChild = node;
    this.lastChild = node;
  }
}

export type XmlNode = XmlElement | XmlText;

const escapeText = (v: string) =>
  v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#13;');
const escapeAttr = (v: string) =>
  v
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/[\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);
const cdata = (v: string) => `<![CDATA[${v.replace(/]]>/g, ']]]]><![CDATA[>')}]]>`;

export interface XmlDocument {
  readonly documentElement: XmlElement;
}

// XML 1.0 (fifth edition) NameStartChar / NameChar, without ':' (NCName, Namespaces in XML 1.0).
const NC_START =
  'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D' +
  '\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NC_CHAR = `${NC_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F-\\u2040`;
const QNAME = new RegExp(`^(?:([${NC_START}][${NC_CHAR}]*):)?([${NC_START}][${NC_CHAR}]*)$`, 'u');
const PI_TARGET = new RegExp(`^[${NC_START}][${NC_CHAR}]*$`, 'u'); // Namespaces in XML: no colon
// Characters XML 1.0 does not allow anywhere (2.2), lone surrogates included.
// The first expression is a cheap screen (any surrogate counts); only a hit pays for the exact one.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding the characters XML forbids is the point
const SUSPECT_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;
const BAD_CHAR =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding the characters XML forbids is the point
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const XML_DECL =
  /^<\?xml[ \t\n]+version[ \t\n]*=[ \t\n]*(?:"1\.[0-9]+"|'1\.[0-9]+')(?:[ \t\n]+encoding[ \t\n]*=[ \t\n]*(?:"[A-Za-z][A-Za-z0-9._-]*"|'[A-Za-z][A-Za-z0-9._-]*'))?(?:[ \t\n]+standalone[ \t\n]*=[ \t\n]*(?:"(?:yes|no)"|'(?:yes|no)'))?[ \t\n]*\?>/;

interface QName {
  prefix: string | null;
  local: string;
}
// Names repeat on every message (s:Envelope, a:Action, ...): validate each spelling once.
const qnameCache = new Map<string, QName | null>();
function splitQName(name: string): QName | null {
  let q = qnameCache.get(name);
  if (q === undefined) {
    const m = QNAME.exec(name);
    q = m ? { prefix: m[1] ?? null, local: m[2]! } : null;
    if (qnameCache.size < 4096) qnameCache.set(name, q);
  }
  return q;
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

type Scope = Record<string, string>;

/**
 * Deepest element nesting accepted. WS-Management messages are about ten levels deep (WMI instances a few more);
 * the cap also bounds namespace lookups, which walk one scope per declaring ancestor.
 */
export const MAX_DEPTH = 256;
/** From this many attributes on, duplicates are found through sets rather than pairwise comparison. */
const MANY_ATTRIBUTES = 8;
const ROOT_SCOPE: Scope = Object.freeze(
  Object.assign(Object.create(null) as Scope, { xml: XML_NS, xmlns: XMLNS_NS }),
);

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a;
}

/** Parse a whole document. Throws XmlSyntaxError for anything not well-formed. */
export function parseXmlDocument(input: string): XmlDocument {
  let src = input;
  if (src.charCodeAt(0) === 0xfeff) src = src.slice(1);
  if (src.includes('\r')) src = src.replace(/\r\n?/g, '\n');
  const bad = SUSPECT_CHAR.test(src) ? BAD_CHAR.exec(src) : null;
  if (bad) {
    const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    throw new XmlSyntaxError(`character U+${code} is not allowed in XML`, bad.index);
  }
  return new Reader(src).document();
}

class Reader {
  private pos = 0;
  constructor(private readonly s: string) {}

  private fail(message: string, at = this.pos): never {
    throw new XmlSyntaxError(message, at);
  }

  document(): XmlDocument {
    const s = this.s;
    if (s.startsWith('<?xml') && (isSpace(s.charCodeAt(5)) || s.startsWith('<?xml?>'))) {
      const m = XML_DECL.exec(s);
      if (!m) this.fail('malformed XML declaration');
      this.pos = m[0].length;
    }
    this.misc();
    if (s.charCodeAt(this.pos) !== 0x3c /* < */) {
      this.fail(this.pos >= s.length ? 'no root element' : 'text before the root element');
    }
    if (s.startsWith('<!', this.pos)) this.fail('a DOCTYPE or declaration is not allowed');
    const root = this.elementTree();
    this.misc();
    if (this.pos < s.length) {
      this.fail(
        s.charCodeAt(this.pos) === 0x3c ? 'content after the root element' : 'text after the root element',
      );
    }
    return { documentElement: root };
  }

  /** Whitespace, comments and processing instructions outside the root element. */
  private misc(): void {
    const s = this.s;
    for (;;) {
      while (isSpace(s.charCodeAt(this.pos))) this.pos++;
      if (s.startsWith('<!--', this.pos)) this.comment();
      else if (s.startsWith('<?', this.pos)) this.pi();
      else return;
    }
  }

  private comment(): void {
    const start = this.pos;
    const end = this.s.indexOf('--', start + 4);
    if (end < 0) this.fail('unterminated comment', start);
    if (this.s.charCodeAt(end + 2) !== 0x3e) this.fail('"--" inside a comment', end);
    this.pos = end + 3;
  }

  private pi(): void {
    const start = this.pos;
    const end = this.s.indexOf('?>', start + 2);
    if (end < 0) this.fail('unterminated processing instruction', start);
    const body = this.s.slice(start + 2, end);
    const sp = body.search(/[ \t\n]/);
    const target = sp < 0 ? body : body.slice(0, sp);
    if (!PI_TARGET.test(target)) this.fail('malformed processing instruction target', start + 2);
    if (target.toLowerCase() === 'xml')
      this.fail('an XML declaration is only allowed at the very start', start);
    this.pos = end + 2;
  }

  private elementTree(): XmlElement {
    const s = this.s;
    const stack: Array<{ el: XmlElement; scope: Scope }> = [];
    let scope: Scope = ROOT_SCOPE;
    let root: XmlElement | undefined;
    for (;;) {
      // At '<' of a start tag.
      const { el, scope: inner, selfClosing } = this.startTag(scope);
      if (stack.length > 0) stack[stack.length - 1]!.el.appendChild(el);
      else root = el;
      if (!selfClosing) {
        if (stack.length >= MAX_DEPTH) this.fail(`elements nested deeper than ${MAX_DEPTH} levels`);
        stack.push({ el, scope: inner });
        scope = inner;
      }
      // Content until the next start tag, or until the root closes.
      for (;;) {
        if (stack.length === 0) return root!;
        const parent = stack[stack.length - 1]!.el;
        const lt = s.indexOf('<', this.pos);
        if (lt < 0) this.fail(`unclosed element <${parent.tagName}>`, s.length);
        if (lt > this.pos) parent.appendChild(new XmlText(TEXT_NODE, this.text(this.pos, lt)));
        this.pos = lt;
        const next = s.charCodeAt(lt + 1);
        if (next === 0x2f /* / */) {
          this.endTag(parent);
          stack.pop();
          scope = stack.length > 0 ? stack[stack.length - 1]!.scope : ROOT_SCOPE;
        } else if (next === 0x21 /* ! */) {
          if (s.startsWith('<!--', lt)) this.comment();
          else if (s.startsWith('<![CDATA[', lt)) {
            const end = s.indexOf(']]>', lt + 9);
            if (end < 0) this.fail('unterminated CDATA section', lt);
            parent.appendChild(new XmlText(CDATA_SECTION_NODE, s.slice(lt + 9, end)));
            this.pos = end + 3;
          } else this.fail('a DOCTYPE or declaration is not allowed', lt);
        } else if (next === 0x3f /* ? */) this.pi();
        else break;
      }
    }
  }

  /** Character data between markup: entity references decoded, `]]>` refused. */
  private text(from: number, to: number): string {
    const raw = this.s.slice(from, to);
    const cdEnd = raw.indexOf(']]>');
    if (cdEnd >= 0) this.fail('"]]>" is not allowed in text', from + cdEnd);
    return raw.includes('&') ? this.decode(raw, from) : raw;
  }

  private decode(raw: string, offset: number): string {
    let out = '';
    let last = 0;
    for (let amp = raw.indexOf('&'); amp >= 0; amp = raw.indexOf('&', last)) {
      out += raw.slice(last, amp);
      const semi = raw.indexOf(';', amp + 1);
      if (semi < 0 || semi - amp > 64) this.fail('"&" that does not start a reference', offset + amp);
      const ref = raw.slice(amp + 1, semi);
      if (ref.charCodeAt(0) === 0x23 /* # */) {
        const hex = ref.charCodeAt(1) === 0x78; /* x */
        const digits = ref.slice(hex ? 2 : 1);
        if (!(hex ? /^[0-9A-Fa-f]+$/ : /^[0-9]+$/).test(digits)) {
          this.fail(`malformed character reference "&${ref};"`, offset + amp);
        }
        const cp = Number.parseInt(digits, hex ? 16 : 10);
        const allowed =
          cp === 0x9 ||
          cp === 0xa ||
          cp === 0xd ||
          (cp >= 0x20 && cp <= 0xd7ff) ||
          (cp >= 0xe000 && cp <= 0xfffd) ||
          (cp >= 0x10000 && cp <= 0x10ffff);
        if (!allowed)
          this.fail(`character reference "&${ref};" names a character XML does not allow`, offset + amp);
        out += String.fromCodePoint(cp);
      } else {
        const ch = PREDEFINED[ref];
        if (ch === undefined || !Object.hasOwn(PREDEFINED, ref)) {
          this.fail(
            `undefined entity "&${ref};" (only the five predefined entities exist without a DTD)`,
            offset + amp,
          );
        }
        out += ch;
      }
      last = semi + 1;
    }
    return out + raw.slice(last);
  }

  private name(what: string): string {
    const s = this.s;
    const start = this.pos;
    let i = start;
    for (;;) {
      const c = s.charCodeAt(i);
      // Stop at whitespace, '/', '>', '=', or the end; anything else is checked by the QName test.
      if (Number.isNaN(c) || c === 0x20 || c === 0x0a || c === 0x09 || c === 0x2f || c === 0x3e || c === 0x3d)
        break;
      i++;
    }
    if (i === start) this.fail(`missing ${what} name`);
    this.pos = i;
    return s.slice(start, i);
  }

  private startTag(parentScope: Scope): { el: XmlElement; scope: Scope; selfClosing: boolean } {
    const s = this.s;
    const tagStart = this.pos;
    this.pos++; // '<'
    const tagName = this.name('element');
    const q = splitQName(tagName);
    if (!q) this.fail(`"${tagName}" is not a valid element name`, tagStart + 1);
    const raw: Array<{ name: string; q: QName; value: string; at: number }> = [];
    let names: Set<string> | undefined;
    let scope = parentScope;
    let selfClosing = false;
    for (;;) {
      const before = this.pos;
      while (isSpace(s.charCodeAt(this.pos))) this.pos++;
      const c = s.charCodeAt(this.pos);
      if (c === 0x3e /* > */) {
        this.pos++;
        break;
      }
      if (c === 0x2f /* / */) {
        if (s.charCodeAt(this.pos + 1) !== 0x3e) this.fail('"/" not followed by ">" in a start tag');
        this.pos += 2;
        selfClosing = true;
        break;
      }
      if (Number.isNaN(c)) this.fail(`unterminated start tag <${tagName}`, tagStart);
      if (this.pos === before) this.fail('attributes must be separated by whitespace');
      const at = this.pos;
      const name = this.name('attribute');
      const aq = splitQName(name);
      if (!aq) this.fail(`"${name}" is not a valid attribute name`, at);
      while (isSpace(s.charCodeAt(this.pos))) this.pos++;
      if (s.charCodeAt(this.pos) !== 0x3d /* = */) this.fail(`attribute "${name}" has no value`);
      this.pos++;
      while (isSpace(s.charCodeAt(this.pos))) this.pos++;
      const quote = s.charCodeAt(this.pos);
      if (quote !== 0x22 && quote !== 0x27) this.fail(`the value of attribute "${name}" is not quoted`);
      const close = s.indexOf(quote === 0x22 ? '"' : "'", this.pos + 1);
      if (close < 0) this.fail(`unterminated value of attribute "${name}"`);
      const rawValue = s.slice(this.pos + 1, close);
      const lt = rawValue.indexOf('<');
      if (lt >= 0) this.fail('"<" is not allowed in an attribute value', this.pos + 1 + lt);
      // CDATA attribute-value normalization (XML 1.0 3.3.3) applies to literal tabs and line ends, not to
      // characters written as references, so it runs before decoding (one for one: offsets stay right).
      const normalized = /[\t\n]/.test(rawValue) ? rawValue.replace(/[\t\n]/g, ' ') : rawValue;
      const value = normalized.includes('&') ? this.decode(normalized, this.pos + 1) : normalized;
      this.pos = close + 1;
      if (names) {
        if (names.has(name)) this.fail(`duplicate attribute "${name}"`, at);
        names.add(name);
      } else {
        for (const r of raw) if (r.name === name) this.fail(`duplicate attribute "${name}"`, at);
        if (raw.length + 1 >= MANY_ATTRIBUTES) names = new Set([...raw.map((r) => r.name), name]);
      }
      raw.push({ name, q: aq, value, at });
      if (name === 'xmlns' || aq.prefix === 'xmlns') {
        if (scope === parentScope) scope = Object.create(parentScope) as Scope;
        this.declare(scope, aq.prefix === null ? '' : aq.local, value, at);
      }
    }
    const attributes: XmlAttribute[] = [];
    const keys = raw.length >= MANY_ATTRIBUTES ? new Set<string>() : undefined;
    for (const r of raw) {
      let ns: string | null;
      if (r.name === 'xmlns' || r.q.prefix === 'xmlns') ns = XMLNS_NS;
      else if (r.q.prefix === null) ns = null;
      else {
        ns = scope[r.q.prefix] ?? null;
        if (ns === null) this.fail(`attribute prefix "${r.q.prefix}" is not bound to a namespace`, r.at);
      }
      // Elements usually carry a handful of attributes: a linear scan beats building a set of keys then.
      if (keys) {
        const key = `${ns ?? ''}\u0000${r.q.local}`;
        if (keys.has(key)) this.fail(`attribute "${r.name}" repeats another one in the same namespace`, r.at);
        keys.add(key);
      } else {
        for (const a of attributes) {
          if (a.localName === r.q.local && a.namespaceURI === ns) {
            this.fail(`attribute "${r.name}" repeats another one in the same namespace`, r.at);
          }
        }
      }
      attributes.push({
        name: r.name,
        prefix: r.q.prefix,
        localName: r.q.local,
        namespaceURI: ns,
        value: r.value,
      });
    }
    let ns: string | null;
    if (q.prefix === null) ns = scope[''] || null;
    else {
      if (q.prefix === 'xmlns') this.fail('the prefix "xmlns" is reserved for declarations', tagStart + 1);
      ns = scope[q.prefix] ?? null;
      if (ns === null) this.fail(`element prefix "${q.prefix}" is not bound to a namespace`, tagStart + 1);
    }
    return { el: new XmlElement(tagName, q.prefix, q.local, ns, attributes, scope), scope, selfClosing };
  }

  private declare(scope: Scope, prefix: string, uri: string, at: number): void {
    if (prefix === 'xmlns') this.fail('the prefix "xmlns" must not be declared', at);
    if (prefix === 'xml' && uri !== XML_NS)
      this.fail('the prefix "xml" is bound to its own namespace only', at);
    if (prefix !== 'xml' && uri === XML_NS) this.fail('only the prefix "xml" may name the XML namespace', at);
    if (uri === XMLNS_NS) this.fail('the xmlns namespace must not be declared', at);
    if (prefix !== '' && uri === '') this.fail(`the prefix "${prefix}" cannot be undeclared in XML 1.0`, at);
    scope[prefix] = uri;
  }

  private endTag(open: XmlElement): void {
    const s = this.s;
    const start = this.pos;
    this.pos += 2;
    const name = this.name('end tag');
    while (isSpace(s.charCodeAt(this.pos))) this.pos++;
    if (s.charCodeAt(this.pos) !== 0x3e) this.fail(`malformed end tag </${name}`, start);
    if (name !== open.tagName) this.fail(`end tag </${name}> does not match <${open.tagName}>`, start);
    this.pos++;
  }
}
