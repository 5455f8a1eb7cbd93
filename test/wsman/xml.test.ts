/**
 * The hardened XML wrapper around @xmldom/xmldom: what it accepts, every protection the old home-made reader had,
 * bounded work on hostile input, and a mutation property test over the Windows-form fixtures.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { XMLSerializer } from '@xmldom/xmldom';
import fc from 'fast-check';
import { ProtocolError } from '../../src/errors.ts';
import { NS } from '../../src/wsman/constants.ts';
import { type Element, MAX_DEPTH, parseXml } from '../../src/wsman/xml.ts';
import { mutate, mutationArb } from '../helpers/mutation.ts';
import { canonical } from '../helpers/xml.ts';

const XML_NS = NS.xml;
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

const root = (xml: string) => parseXml(xml).documentElement;
const refuses = (xml: string | Buffer, pattern: RegExp, what = 'message', maxBytes?: number) =>
  assert.throws(
    () => parseXml(xml, { what, maxBytes }),
    (e: unknown) =>
      e instanceof ProtocolError && e.message.startsWith(`The ${what} `) && pattern.test(e.message),
    `expected ${JSON.stringify(String(xml).slice(0, 80))} to be refused with ${pattern}`,
  );
const nodeTypes = (el: Element) => {
  const kinds: number[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) kinds.push(n.nodeType);
  return kinds;
};

describe('XML wrapper: what it accepts', () => {
  it('resolves prefixes, the default namespace and its undeclaration', () => {
    const el = root(
      '<s:E xmlns:s="urn:s" xmlns="urn:d"><s:H><a b="1" s:c="2"/></s:H><x xmlns=""><y/></x></s:E>',
    );
    assert.equal(el.namespaceURI, 'urn:s');
    assert.equal(el.localName, 'E');
    assert.equal(el.prefix, 's');
    const h = el.firstChild as Element;
    const a = h.firstChild as Element;
    assert.equal(a.namespaceURI, 'urn:d');
    assert.equal(a.getAttribute('b'), '1');
    assert.equal(a.getAttributeNS(null, 'b'), '1');
    assert.equal(a.getAttributeNS('urn:s', 'c'), '2');
    assert.equal(a.getAttributeNS('urn:d', 'b'), null, 'unprefixed attributes have no namespace');
    const x = h.nextSibling as Element;
    assert.equal(x.namespaceURI, null);
    assert.equal((x.firstChild as Element).namespaceURI, null);
    assert.equal(x.lookupNamespaceURI('s'), 'urn:s');
    assert.equal(x.lookupNamespaceURI(null), null);
    // xmldom answers the default namespace for '' only (null gives null); callers pass the prefix they split off.
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
    assert.equal(root('<a v="1\t2\n3\r\n4&#10;5\r6"/>').getAttribute('v'), '1 2 3 4\n5 6');
  });

  it('keeps XML 1.0 line ends: U+0085, U+2028 and U+2029 are characters, not line breaks', () => {
    assert.equal(root('<a v="1\u00852">x\u2028y\u2029z\r\u0085</a>').textContent, 'x\u2028y\u2029z\n\u0085');
    assert.equal(root('<a v="1\u00852"/>').getAttribute('v'), '1\u00852');
  });

  it('keeps CDATA as its own node; comments and PIs are checked and do not count as text', () => {
    const el = root(
      '<?xml version="1.0" encoding="utf-8"?><!-- c --><?pi data?><a>1<![CDATA[<&]]>2<!-- in --><?p q?>3</a><!--e-->',
    );
    assert.deepEqual(nodeTypes(el), [3, 4, 3, 8, 7, 3]);
    assert.equal(el.textContent, '1<&23');
  });

  it('takes a byte-order mark and whitespace around the root', () => {
    assert.equal(root('\uFEFF<?xml version="1.0"?>\n<a/>\n').localName, 'a');
    assert.equal(parseXml(Buffer.from('\uFEFF<a>é</a>')).documentElement.textContent, 'é');
  });

  it('takes U+FFFD when the bytes really carry it (xmldom only warns about it)', () => {
    assert.equal(parseXml(Buffer.from('<a>\uFFFD</a>')).documentElement.textContent, '\uFFFD');
  });

  it('takes long character references and text that merely mentions a DOCTYPE', () => {
    assert.equal(root('<a>&#x0000000041;&#0000000066;</a>').textContent, 'AB');
    assert.equal(root('<a><![CDATA[<!DOCTYPE x>]]><!-- <!DOCTYPE y> --></a>').textContent, '<!DOCTYPE x>');
  });

  it('is not fooled by markup characters inside attribute values, CDATA and comments', () => {
    const el = root(`<a b="/>" c='"/>'><![CDATA[</a><b>&]]><!-- </a> <!DOCTYPE & --><?p </a>?>x</a>`);
    assert.equal(el.getAttribute('b'), '/>');
    assert.equal(el.getAttribute('c'), '"/>');
    assert.equal(el.textContent, '</a><b>&x');
    // CDATA full of start tags does not count towards the nesting cap.
    const deep = `${'<a>'.repeat(MAX_DEPTH)}<![CDATA[${'<a>'.repeat(10)}]]>${'</a>'.repeat(MAX_DEPTH)}`;
    assert.equal(root(deep).textContent, '<a>'.repeat(10));
  });
});

describe('XML wrapper: what it refuses', () => {
  const cases: Array<[string, RegExp]> = [
    ['text', /missing root element/],
    ['<a>', /unclosed xml tag/],
    ['<a></b>', /tag mismatch/],
    ['<a></a></a>', /closes no open element/],
    ['<a/><b/>', /Only one element/],
    ['<a/>x', /Extra content/],
    ['x<a/>', /outside root element/],
    ['<!DOCTYPE a><a/>', /DOCTYPE .* not allowed/],
    ['<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', /DOCTYPE .* not allowed/],
    ['<a><!DOCTYPE b></a>', /DOCTYPE .* not allowed/],
    ['<a><!ENTITY b "c"></a>', /declaration .* not allowed/],
    ['<a>&nbsp;</a>', /"&" at offset 3 in text does not start a reference/],
    ['<a>&constructor;</a>', /does not start a reference/],
    ['<a b="&x;"/>', /in an attribute value does not start a reference/],
    ['<a>a & b</a>', /does not start a reference/],
    ['<a>&#0;</a>', /"&#0;" .* names a character XML does not allow/],
    ['<a>&#xD800;</a>', /names a character XML does not allow/],
    ['<a>&#x110000;</a>', /names a character XML does not allow/],
    ['<a b="&#xFFFE;"/>', /names a character XML does not allow/],
    ['<a>&#99999999999;</a>', /does not start a reference/],
    ['<a>&#x;</a>', /does not start a reference/],
    ['<a>]]></a>', /"]]>" at offset 3 is not allowed/],
    ['<a>\u0001</a>', /U\+0001 at offset 3 is not allowed/],
    ['<a>\uD800</a>', /U\+D800 .* is not allowed/],
    ['<a>\uFFFE</a>', /U\+FFFE/],
    ['<a b="1" b="2"/>', /Attribute b redefined/],
    ['<a xmlns:p="urn:x" xmlns:q="urn:x" p:b="1" q:b="2"/>', /two attributes with the same namespace/],
    ['<p:a/>', /NamespaceError/],
    ['<a p:b="1"/>', /NamespaceError/],
    ['<a xmlns:p=""/>', /cannot be undeclared/],
    ['<a xmlns:xmlns="urn:x"/>', /must not be declared/],
    ['<a xmlns:xml="urn:x"/>', /bound to its own namespace only/],
    [`<a xmlns:p="${XML_NS}"/>`, /only the prefix "xml"/],
    [`<a xmlns="${XML_NS}"/>`, /only the prefix "xml"/],
    [`<a xmlns:p="${XMLNS_NS}"/>`, /xmlns namespace must not be declared/],
    [`<a xmlns="${XMLNS_NS}"/>`, /XMLNS namespace/],
    ['<xmlns:a/>', /NamespaceError/],
    ['<a b=1/>', /missed quot/],
    ['<a b/>', /missed value/],
    ['<a b="<"/>', /Unescaped '<'/],
    ['<a b="1"c="2"/>', /attribute space is required/],
    ['<a b="1', /unterminated attribute value/],
    ['<a', /unterminated start tag/],
    ['<a <b/>', /"<" inside the start tag/],
    ['<1a/>', /invalid tagName/],
    ['<a:b:c xmlns:a="urn:a"/>', /invalid tagName/],
    ['< a/>', /invalid tagName/],
    ['<a/ >', /"\/" not followed by ">"/],
    ['<a></a b>', /end tag name contains invalid characters/],
    ['<a></a', /unterminated end tag/],
    ['<a><!-- x -- y --></a>', /comment is not well-formed/],
    ['<a><!-- x', /unterminated comment/],
    ['<a><![CDATA[x</a>', /unterminated comment or CDATA/],
    ['<a><?xml version="1.0"?></a>', /xml declaration/],
    [' <?xml version="1.0"?><a/>', /xml declaration/],
    ['<?xml version="2"?><a/>', /xml declaration is not well-formed/],
    ['<a><?1x?></a>', /processing instruction/],
    ['<a><?p:q x?></a>', /target "p:q" contains a colon/],
    ['<a><?p x', /unterminated processing instruction/],
  ];
  for (const [xml, pattern] of cases) {
    it(`${JSON.stringify(xml)} → ${pattern.source}`, () => refuses(xml, pattern));
  }

  it('names the message in every refusal', () => {
    refuses('<a>', /not well-formed XML: unclosed/, 'Receive response');
    refuses('<!DOCTYPE a><a/>', /not well-formed XML/, 'Command request');
    refuses('  ', /is empty; expected a SOAP envelope/, 'Signal response');
  });

  it('refuses bytes that are not UTF-8 instead of replacing them', () => {
    const bad = Buffer.concat([Buffer.from('<a>'), Buffer.from([0xc3, 0x28]), Buffer.from('</a>')]);
    refuses(bad, /not valid UTF-8/);
    refuses(Buffer.from([0x3c, 0x61, 0x3e, 0xed, 0xa0, 0x80, 0x3c, 0x2f, 0x61, 0x3e]), /not valid UTF-8/); // CESU
  });

  it('refuses input over the size cap before reading it', () => {
    refuses(`<a>${'x'.repeat(100)}</a>`, /107 bytes, over the 100-byte limit/, 'message', 100);
    refuses(`<a>${'é'.repeat(50)}</a>`, /107 bytes/, 'message', 100); // bytes, not characters
    assert.equal(root(`<a>${'x'.repeat(93)}</a>`).textContent?.length, 93);
  });
});

// Hostile inputs under the default 2 MB cap. The outcome is asserted, never the time; CPU times measured on the
// project's 2-core machine under load are in the commit message and the report.
describe('XML wrapper: bounded work on hostile input', () => {
  const attrs = (n: number, prefix = '') =>
    Array.from({ length: n }, (_, i) => ` ${prefix}a${i}="${i}"`).join('');

  it(`nests ${MAX_DEPTH} levels; deeper is refused, not walked`, () => {
    const nest = (n: number) => `${'<a xmlns:p="urn:p">'.repeat(n)}x${'</a>'.repeat(n)}`;
    assert.equal(root(nest(MAX_DEPTH)).textContent, 'x');
    refuses(nest(MAX_DEPTH + 1), /nested deeper than 256 levels/);
  });

  it('1.95 MB of nested namespace declarations is refused', () => {
    const xml = `${'<a xmlns:p="urn:p">'.repeat(85_000)}${'</a>'.repeat(85_000)}`;
    assert.ok(xml.length > 1_900_000 && xml.length < 2_048_000);
    refuses(xml, /nested deeper than 256 levels/);
  });

  it('2 MB of unclosed start tags is refused', () => {
    refuses('<a>'.repeat(680_000), /nested deeper than 256 levels/);
  });

  it('256 levels of declarations with the rest of 2 MB in prefixed elements is refused', () => {
    const open = '<a xmlns:p="urn:p" xmlns:q="urn:q">'.repeat(MAX_DEPTH);
    const inner = '<p:x q:y="1"/>'.repeat(Math.floor((2_000_000 - open.length * 2) / 14));
    refuses(`${open}${inner}${'</a>'.repeat(MAX_DEPTH)}`, /more than 32000 elements, attributes/);
  });

  it('many attributes: all kept up to the node budget, duplicates among them still found', () => {
    const el = root(`<e xmlns:p="urn:p"${attrs(5000)} p:a1="x"/>`);
    assert.equal(el.attributes.length, 5002);
    assert.equal(el.getAttribute('a4999'), '4999');
    assert.equal(el.getAttributeNS('urn:p', 'a1'), 'x');
    refuses(`<e${attrs(5000)} a2500="again"/>`, /Attribute a2500 redefined/);
    refuses(`<e xmlns:p="urn:x" xmlns:q="urn:x"${attrs(5000)} p:z="1" q:z="2"/>`, /same namespace/);
  });

  it('tens of thousands of attributes or namespace declarations on one element are refused', () => {
    refuses(`<e${attrs(50_000)}/>`, /more than 32000 elements, attributes/);
    refuses(`<e${attrs(50_000, 'xmlns:')}/>`, /more than 32000/);
  });

  it('2 MB of tiny elements or comments is refused; up to the budget is parsed', () => {
    refuses(`<a>${'<b/>'.repeat(500_000)}</a>`, /more than 32000/);
    refuses(`<a>${'<!---->'.repeat(280_000)}</a>`, /more than 32000/);
    const el = root(`<a>${'<b>x</b>'.repeat(15_998)}</a>`);
    assert.equal(el.childNodes.length, 15_998);
  });

  it('2 MB of text, of references or of one attribute value is parsed', () => {
    assert.equal(root(`<a>${'x'.repeat(2_000_000)}</a>`).textContent?.length, 2_000_000);
    assert.equal(root(`<a>${'&amp;'.repeat(400_000)}</a>`).textContent, '&'.repeat(400_000));
    assert.equal(root(`<a v="${'x'.repeat(2_000_000)}"/>`).getAttribute('v')?.length, 2_000_000);
  });

  it('a megabyte of "<" or "&" is refused at the first one', () => {
    refuses(`<a>${'<'.repeat(1_000_000)}</a>`, /"<" inside the start tag at offset 3/);
    refuses(`<a>${'&'.repeat(1_000_000)}</a>`, /"&" at offset 3/);
  });
});

describe('XML wrapper: generated and mutated messages', () => {
  const fixtureDir = join(import.meta.dirname, '..', 'fixtures');
  const samples = readdirSync(fixtureDir)
    .filter((f) => f.endsWith('.xml'))
    .map((f) => readFileSync(join(fixtureDir, f), 'utf8'));
  const serializer = new XMLSerializer();

  it('parses every Windows-form fixture', () => {
    assert.ok(samples.length >= 10);
    for (const s of samples) {
      const doc = parseXml(s);
      assert.equal(doc.documentElement.localName, 'Envelope');
      assert.equal(doc.documentElement.namespaceURI, NS.s);
    }
  });

  it('on mutated fixtures it accepts or throws ProtocolError, consistently, and what it accepts round-trips', () => {
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
      '&#x10FFFF;',
      '<![CDATA[',
      ']]>',
      '<!--',
      '<!DOCTYPE a>',
      '\r',
      'xmlns:s="urn:x" ',
    ]);
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(mutation, (m) => {
        const mutated = mutate(samples[m.sample]!, m, 3);
        const outcome = () => {
          try {
            return parseXml(mutated);
          } catch (e) {
            if (!(e instanceof ProtocolError)) throw e;
            return e.message;
          }
        };
        const first = outcome();
        const second = outcome();
        if (typeof first === 'string') {
          refused++;
          assert.equal(second, first, 'the same input must be refused the same way');
          return;
        }
        accepted++;
        assert.ok(typeof second !== 'string', 'accepted once, refused the next time');
        const written = serializer.serializeToString(first);
        const reread = parseXml(written);
        assert.deepEqual(canonical(serializer.serializeToString(reread)), canonical(written));
      }),
      { numRuns: 2000 },
    );
    assert.ok(accepted > 100, `too few mutations were still well-formed (${accepted})`);
    assert.ok(refused > 100, `too few mutations were refused (${refused})`);
  });
});
