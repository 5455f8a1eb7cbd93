/** Namespace-aware XML comparison for golden tests: prefixes and insignificant whitespace do not matter. */
import assert from 'node:assert/strict';
import { DOMParser, type Element, type Node } from '@xmldom/xmldom';

export interface CanonicalElement {
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: CanonicalElement[];
}

function canon(el: Element): CanonicalElement {
  const attrs: Record<string, string> = {};
  for (let i = 0; i < el.attributes.length; i++) {
    const a = el.attributes.item(i)!;
    if (a.name === 'xmlns' || a.prefix === 'xmlns') continue;
    attrs[`{${a.namespaceURI ?? ''}}${a.localName}`] = a.value;
  }
  const children: CanonicalElement[] = [];
  let text = '';
  for (let n: Node | null = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1) children.push(canon(n as Element));
    else if (n.nodeType === 3 || n.nodeType === 4) text += n.nodeValue ?? '';
  }
  return { name: `{${el.namespaceURI ?? ''}}${el.localName}`, attrs, text: text.trim(), children };
}

export function canonical(xml: string): CanonicalElement {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  return canon(doc.documentElement!);
}

/** Assert two XML documents are the same infoset modulo prefixes, attribute order and whitespace. */
export function assertXmlEqual(actual: string, expected: string): void {
  assert.deepEqual(canonical(actual), canonical(expected));
}
