/**
 * The library's own XML reader: what it accepts, what it refuses, and a differential property test against
 * @xmldom/xmldom (a dev dependency here, the independent oracle): on every generated well-formed document both
 * must build the same tree; on mutated documents ours may be stricter, never more lenient or different.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DOMParser, type Element as DomElement, type Node as DomNode } from '@xmldom/xmldom';
import fc from 'fast-check';
import {
  MAX_DEPTH,
  parseXmlDocument,
  XML_NS,
  XMLNS_NS,
  type XmlElement,
  type XmlNode,
  XmlSyntaxError,
} from '../../src/wsman/xml-parser.ts';
import { mutate, mutationArb } from '../helpers/mutation.ts';

interface Canon {
  name: string;
  attrs: Array<[string, string]>;
  content: Array<Canon | string>;
}

/**
 * Tree shape both parsers must agree on: names by namespace, attributes sorted, adjacent text merged (xmldom
 * keeps comments as nodes and drops empty CDATA; ours drops comments and keeps empty CDATA).
 */
function canonOurs(el: XmlElement): Canon {
  const attrs = el.attributes
    .map((a): [string, string] => [`{${a.namespaceURI ?? ''}}${a.localName}`, a.value])
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const content: Array<Canon | string> = [];
  for (let n: XmlNode | null = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1) content.push(canonOurs(n));
    else if (n.nodeValue === '') continue;
    else if (typeof content.at(-1) === 'string') content[content.length - 1] += n.nodeValue;
    else content.push(n.nodeValue);
  }
  return { name: `{${el.namespaceURI ?? ''}}${el.localName}`, attrs, content };
}

function canonDom(el: DomElement): Canon {
  const attrs: Array<[string, string]> = [];
  for (let i = 0; i < el.attributes.length; i++) {
    const a = el.attributes.item(i)!;
    attrs.push([`{${a.namespaceURI ?? ''}}${a.localName}`, a.value]);
  }
  attrs.sort(([a], [b]) => (a < b ? -1 : 1));
  const content: Array<Canon | string> = [];
  for (let n: DomNode | null = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1) content.push(canonDom(n as DomElement));
    else if ((n.nodeType === 3 || n.nodeType === 4) && n.nodeValue) {
      if (typeof content.at(-1) === 'string') content[content.length - 1] += n.nodeValue ?? '';
      else content.push(n.nodeValue ?? '');
    }
  }
  return { name: `{${el.namespaceURI ?? ''}}${el.localName}`, attrs, content };
}

function oracle(xml: string): Canon | undefined {
  let failed = false;
  const doc = new DOMParser({
    // XML 1.0 line ends only: xmldom's default also turns U+0085 and U+2028 into LF, as XML 1.1 does.
    normalizeLineEndings: (src: string) => src.replace(/\r\n?/g, '\n'),
    onError: (level) => {
      if (level !== 'warning') failed = true;
    },
  }).parseFromString(xml, 'text/xml');
  if (failed || !doc.documentElement) return undefined;
  return canonDom(doc.documentElement);
}

const root = (xml: string) => parseXmlDocument(xml).documentElement;
const refuses = (xml: string, pattern: RegExp) =>
  assert.throws(
    () => parseXmlDocument(xml),
    (e: unknown) => e instanceof XmlSyntaxError && pattern.test(e.message),
    `expected ${JSON.stringify(xml)} to be refused with ${pattern}`,
  );

describe('XML reader: what it accepts', () => {
  it('resolves prefixes, the default namespace and its undeclaration', () => {
    const el = root(
      '<s:E xmlns:s="urn:s" xmlns="urn:d"><s:H><a b="1" s:c="2"/></s:H><x xmlns=""><y/></x></s:E>',
    );
    assert.equal(el.namespaceURI, 'urn:s');
    assert.equal(el.localName, 'E');
    assert.equal(el.prefix, 's');
    const h = el.firstChild as XmlElement;
    const a = h.firstChild as XmlElement;
    assert.equal(a.namespaceURI, 'urn:d');
    assert.equal(a.getAttribute('b'), '1');
    assert.equal(a.getAttributeNS(null, 'b'), '1');
    assert.equal(a.getAttributeNS('urn:s', 'c'), '2');
    assert.equal(a.getAttributeNS('urn:d', 'b'), null, 'unprefixed attributes have no namespace');
    const x = h.nextSibling as XmlElement;
    assert.equal(x.namespaceURI, null);
    assert.equal((x.firstChild as XmlElement).namespaceURI, null);
    assert.equal(x.lookupNamespaceURI('s'), 'urn:s');
    assert.equal(x.lookupNamespaceURI(null), null);
    assert.equal(a.lookupNamespaceURI(''), 'urn:d');
    assert.equal(el.getAttributeNS(XMLNS_NS, 's'), 'urn:s');
    assert.equal(root('<a xml:lang="en-US"/>').getAttributeNS(XML_NS, 'lang'), 'en-US');
  });

  it('decodes the five entities and character references; CR survives only as a reference', () => {
    const el = root('<a v="&lt;&amp;&quot;&apos;&gt;&#13;&#x9;">x&#13;&#10;y\r\nz\rw&#x1F600;&amp;amp;</a>');
    assert.equal(el.getAttribute('v'), '<&"\'>\r\t');
    assert.equal(el.textContent, 'x\r\ny\nz\nw\u{1F600}&amp;');
  });

  it('normalizes literal whitespace in attribute values, not referenced whitespace', () => {
    assert.equal(root('<a v="1\t2\n3\r\n4&#10;5"/>').getAttribute('v'), '1 2 3 4\n5');
  });

  it('keeps CDATA as its own node and checks but drops comments and processing instructions', () => {
    const el = root(
      '<?xml version="1.0" encoding="utf-8"?><!-- c --><?pi data?><a>1<![CDATA[<&]]>2<!-- in --><?p q?>3</a><!--e-->',
    );
    const kinds: number[] = [];
    for (let n: XmlNode | null = el.firstChild; n; n = n.nextSibling) kinds.push(n.nodeType);
    assert.deepEqual(kinds, [3, 4, 3, 3]);
    assert.equal(el.textContent, '1<&23');
  });

  it('takes a byte-order mark and whitespace around the root', () => {
    assert.equal(root('\uFEFF<?xml version="1.0"?>\n<a/>\n').localName, 'a');
  });

  it('textContent spans descendants in document order; toString writes the subtree back', () => {
    const xml = '<r xmlns:p="urn:p"><p:a k="&quot;1&quot;">x<b>y<c/>z</b></p:a>w</r>';
    const el = root(xml);
    assert.equal(el.textContent, 'xyzw');
    assert.equal(el.toString(), '<r xmlns:p="urn:p"><p:a k="&quot;1&quot;">x<b>y<c/>z</b></p:a>w</r>');
    assert.deepEqual(canonOurs(root(el.toString())), canonOurs(el));
  });

  it(`nests ${MAX_DEPTH} levels; deeper is refused, not walked`, () => {
    const nest = (n: number) => `${'<a xmlns:p="urn:p">'.repeat(n)}x${'</a>'.repeat(n)}`;
    assert.equal(root(nest(MAX_DEPTH)).textContent, 'x');
    refuses(nest(MAX_DEPTH + 1), /nested deeper than 256 levels/);
    refuses(nest(200_000), /nested deeper than 256 levels/);
  });

  it('many attributes: all kept, a duplicate among them still found', () => {
    const attrs = Array.from({ length: 5000 }, (_, i) => ` a${i}="${i}"`).join('');
    const el = root(`<e xmlns:p="urn:p"${attrs} p:a1="x"/>`);
    assert.equal(el.attributes.length, 5002);
    assert.equal(el.getAttribute('a4999'), '4999');
    assert.equal(el.getAttributeNS('urn:p', 'a1'), 'x');
    refuses(`<e${attrs} a2500="again"/>`, /duplicate attribute "a2500"/);
    refuses(`<e xmlns:p="urn:x" xmlns:q="urn:x"${attrs} p:z="1" q:z="2"/>`, /repeats another one/);
  });

  it('takes long character references and text that merely mentions a DOCTYPE', () => {
    assert.equal(root('<a>&#x0000000041;&#0000000066;</a>').textContent, 'AB');
    assert.equal(root('<a><![CDATA[<!DOCTYPE x>]]><!-- <!DOCTYPE y> --></a>').textContent, '<!DOCTYPE x>');
  });
});

describe('XML reader: what it refuses', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /no root element/],
    ['   ', /no root element/],
    ['text', /text before the root/],
    ['<a>', /unclosed element <a>/],
    ['<a></b>', /does not match <a>/],
    ['<a/><b/>', /content after the root/],
    ['<a/>x', /text after the root/],
    ['<!DOCTYPE a><a/>', /DOCTYPE/],
    ['<a><!DOCTYPE b></a>', /DOCTYPE/],
    ['<a>&nbsp;</a>', /undefined entity "&nbsp;"/],
    ['<a>&constructor;</a>', /undefined entity/],
    ['<a>a & b</a>', /"&" that does not start a reference/],
    ['<a>&#0;</a>', /names a character XML does not allow/],
    ['<a>&#xD800;</a>', /names a character XML does not allow/],
    ['<a>&#x;</a>', /malformed character reference/],
    ['<a>]]></a>', /"]]>" is not allowed/],
    ['<a>\u0001</a>', /U\+0001 is not allowed/],
    ['<a>\uD800</a>', /U\+D800 is not allowed/],
    ['<a>\uFFFE</a>', /U\+FFFE/],
    ['<a b="1" b="2"/>', /duplicate attribute "b"/],
    ['<a xmlns:p="urn:x" xmlns:q="urn:x" p:b="1" q:b="2"/>', /repeats another one in the same namespace/],
    ['<p:a/>', /element prefix "p" is not bound/],
    ['<a p:b="1"/>', /attribute prefix "p" is not bound/],
    ['<a xmlns:p=""/>', /cannot be undeclared/],
    ['<a xmlns:xmlns="urn:x"/>', /must not be declared/],
    ['<a xmlns:xml="urn:x"/>', /bound to its own namespace only/],
    [`<a xmlns:p="${XML_NS}"/>`, /only the prefix "xml"/],
    [`<a xmlns="${XMLNS_NS}"/>`, /xmlns namespace must not be declared/],
    ['<xmlns:a/>', /reserved for declarations/],
    ['<a b=1/>', /not quoted/],
    ['<a b/>', /has no value/],
    ['<a b="<"/>', /"<" is not allowed in an attribute value/],
    ['<a b="1"c="2"/>', /separated by whitespace/],
    ['<a b="1', /unterminated value/],
    ['<a', /unterminated start tag/],
    ['<1a/>', /not a valid element name/],
    ['<a:b:c xmlns:a="urn:a"/>', /not a valid element name/],
    ['< a/>', /missing element name/],
    ['<a/ >', /"\/" not followed by ">"/],
    ['<a></a b>', /malformed end tag/],
    ['<a><!-- x -- y --></a>', /"--" inside a comment/],
    ['<a><!-- x', /unterminated comment/],
    ['<a><![CDATA[x</a>', /unterminated CDATA/],
    ['<a><?xml version="1.0"?></a>', /only allowed at the very start/],
    [' <?xml version="1.0"?><a/>', /only allowed at the very start/],
    ['<?xml version="2"?><a/>', /malformed XML declaration/],
    ['<a><?1x?></a>', /processing instruction target/],
    ['<a><?p:q x?></a>', /processing instruction target/],
    ['<a><?p x', /unterminated processing instruction/],
  ];
  for (const [xml, pattern] of cases) {
    it(`${JSON.stringify(xml)} → ${pattern.source}`, () => refuses(xml, pattern));
  }

  it('errors carry the offset of the problem', () => {
    try {
      parseXmlDocument('<a><b></c></a>');
      assert.fail('accepted');
    } catch (e) {
      assert.ok(e instanceof XmlSyntaxError);
      assert.equal(e.offset, 6);
    }
  });
});

// --- differential property tests against @xmldom/xmldom --------------------------------------------------------

const xmlChar = fc
  .integer({ min: 0x20, max: 0x2ffff })
  .filter((c) => !(c >= 0xd800 && c <= 0xdfff) && c !== 0xfffe && c !== 0xffff)
  .map((c) => String.fromCodePoint(c));
const rawText = fc.oneof(fc.stringOf(xmlChar, { maxLength: 12 }), fc.constantFrom('\t', '\n', ' ', '\r\n'));
const escapeText = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/]]>/g, ']]&gt;');
const escapeAttr = (t: string) =>
  t
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/[\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);
const ncname = fc.constantFrom('a', 'Body', 'x-y', 'é', '_1', 'n.m', 'Envelope');
const prefix = fc.constantFrom(null, 'p', 'q');
const uri = fc.constantFrom('urn:a', 'urn:b', 'http://schemas.xmlsoap.org/ws/2004/08/addressing');

interface Gen {
  prefix: string | null;
  name: string;
  declare: Array<[string | null, string]>;
  attrs: Array<[string | null, string, string]>;
  content: Array<Gen | { text: string } | { cdata: string } | { comment: true }>;
}

const element: fc.Arbitrary<Gen> = fc.letrec<{ el: Gen }>((tie) => ({
  el: fc.record({
    prefix,
    name: ncname,
    declare: fc.array(fc.tuple(prefix, uri), { maxLength: 2 }),
    attrs: fc.array(fc.tuple(prefix, ncname, rawText), { maxLength: 3 }),
    content: fc.array(
      fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        rawText.map((text) => ({ text })),
        fc.stringOf(xmlChar, { maxLength: 8 }).map((cdata) => ({ cdata: cdata.replace(/]]>/g, '') })),
        fc.constant({ comment: true as const }),
        tie('el'),
      ),
      { maxLength: 4 },
    ),
  }),
})).el;

/** Writes a generated tree as XML, declaring every prefix it uses so the document is namespace-well-formed. */
function write(g: Gen): string {
  const decl = new Map<string, string>();
  for (const [p, u] of g.declare) decl.set(p ?? '', u);
  if (g.prefix) decl.set(g.prefix, decl.get(g.prefix) ?? 'urn:elem');
  const seen = new Set<string>();
  let attrs = '';
  for (const [p, n, v] of g.attrs) {
    const key = p ? `${decl.get(p) ?? 'urn:attr'}|${n}` : n;
    if (seen.has(key)) continue;
    seen.add(key);
    if (p) decl.set(p, decl.get(p) ?? 'urn:attr');
    attrs += ` ${p ? `${p}:` : ''}${n}="${escapeAttr(v)}"`;
  }
  const decls = [...decl].map(([p, u]) => ` ${p ? `xmlns:${p}` : 'xmlns'}="${u}"`).join('');
  const tag = `${g.prefix ? `${g.prefix}:` : ''}${g.name}`;
  const body = g.content
    .map((c) =>
      'text' in c
        ? escapeText(c.text)
        : 'cdata' in c
          ? `<![CDATA[${c.cdata}]]>`
          : 'comment' in c
            ? '<!-- note -->'
            : write(c),
    )
    .join('');
  return `<${tag}${decls}${attrs}>${body}</${tag}>`;
}

describe('XML reader: differential tests against @xmldom/xmldom', () => {
  it('builds the same tree for generated well-formed documents', () => {
    fc.assert(
      fc.property(element, fc.boolean(), (g, decl) => {
        const xml = `${decl ? '<?xml version="1.0" encoding="utf-8"?>\n' : ''}${write(g)}`;
        const expected = oracle(xml);
        assert.ok(expected, `the oracle refused a generated document: ${xml}`);
        assert.deepEqual(canonOurs(root(xml)), expected);
      }),
      { numRuns: 600 },
    );
  });

  const fixtureDir = join(import.meta.dirname, '..', 'fixtures');
  const samples = readdirSync(fixtureDir)
    .filter((f) => f.endsWith('.xml'))
    .map((f) => readFileSync(join(fixtureDir, f), 'utf8'));

  it('parses every Windows-form fixture to the same tree', () => {
    assert.ok(samples.length >= 10);
    for (const s of samples) assert.deepEqual(canonOurs(root(s)), oracle(s));
  });

  it('on mutated messages it is never more lenient than the oracle, and agrees whenever it accepts', () => {
    const mutation = mutationArb(samples.length, [
      '<',
      '>',
      '&',
      '"',
      "'",
      '=',
      '/',
      ':',
      ' ',
      '&amp;',
      '&#1;',
      '<![CDATA[',
      ']]>',
      '<!--',
    ]);
    let accepted = 0;
    fc.assert(
      fc.property(mutation, (m) => {
        const mutated = mutate(samples[m.sample]!, m, 3);
        let ours: Canon | undefined;
        try {
          ours = canonOurs(root(mutated));
        } catch (e) {
          if (!(e instanceof XmlSyntaxError)) throw e;
          return;
        }
        accepted++;
        const theirs = oracle(mutated);
        assert.ok(theirs, `accepted what xmldom refuses: ${JSON.stringify(mutated)}`);
        assert.deepEqual(ours, theirs);
      }),
      { numRuns: 2000 },
    );
    assert.ok(accepted > 100, `too few mutations were still well-formed (${accepted}) to compare trees`);
  });
});

describe('parseXml (the ProtocolError wrapper)', () => {
  it('refuses bytes that are not UTF-8 instead of replacing them', async () => {
    const { parseXml } = await import('../../src/wsman/xml.ts');
    const { ProtocolError } = await import('../../src/errors.ts');
    const bad = Buffer.concat([Buffer.from('<a>'), Buffer.from([0xc3, 0x28]), Buffer.from('</a>')]);
    assert.throws(
      () => parseXml(bad),
      (e: unknown) => e instanceof ProtocolError && /not valid UTF-8/.test(e.message),
    );
    assert.equal(parseXml(Buffer.from('<a>é</a>')).documentElement.textContent, 'é');
  });
});
