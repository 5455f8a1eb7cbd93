/**
 * The parser's fast paths (ASCII read as latin1; a long canonical base64 element text decoded once and kept out of
 * xmldom) and the byte writers (Send requests, the mock's Receive answers): same trees, same refusals, same bytes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../src/errors.ts';
import { buildSend, buildSendBytes } from '../../src/wsman/actions/send.ts';
import { joinBytes } from '../../src/wsman/envelope.ts';
import { streamElement, streamElementPieces } from '../../src/wsman/reply.ts';
import { base64Content, decodeBase64, PLAIN_TEXT_MIN, parseXml, textOf } from '../../src/wsman/xml.ts';

const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7919) % 256));
const b64 = bytes.toString('base64'); // 4000 characters, no padding
const doc = (content: string) => `<s:E xmlns:s="urn:s"><s:S Name="x">${content}</s:S></s:E>`;
const first = (xml: string | Buffer) => parseXml(xml).documentElement.firstChild as never;

describe('parseXml plain base64 fast path', () => {
  it("a long canonical base64 text comes back as its element's one text node, and its bytes once decoded", () => {
    assert.ok(b64.length >= PLAIN_TEXT_MIN);
    for (const input of [Buffer.from(doc(b64)), doc(b64)]) {
      const el = first(input) as import('../../src/wsman/xml.ts').Element;
      assert.equal(el.childNodes.length, 1);
      assert.equal(el.firstChild!.nodeValue, b64);
      assert.deepEqual(base64Content(el, 'x'), bytes);
      assert.deepEqual(base64Content(el, 'x'), bytes, 'a second call decodes again');
    }
  });

  it('padding is kept and decoded exactly', () => {
    for (const n of [2999, 2998]) {
      const t = bytes.subarray(0, n).toString('base64');
      const el = first(Buffer.from(doc(t))) as import('../../src/wsman/xml.ts').Element;
      assert.equal(textOf(el), t);
      assert.deepEqual(base64Content(el, 'x'), bytes.subarray(0, n));
    }
  });

  it('texts the fast path must not take give the tree the full path gives', () => {
    const cases = [
      `${b64.slice(0, 2000)}\n${b64.slice(2000)}`, // a blank
      `${b64.slice(0, 2000)}&amp;${b64.slice(2000)}`, // a reference
      `${b64.slice(0, 2000)}-_${b64.slice(2002)}`, // base64url
      `${b64.slice(0, 2000)}=${b64.slice(2001)}`, // '=' inside
      `${b64.slice(0, 2000)}é${b64.slice(2001)}`, // non-ASCII
      `${b64.slice(0, 1999)}`, // not a multiple of 4
      `<![CDATA[x]]>${b64}`,
      `<b/>${b64}`,
      `${b64}<!--c-->`,
      b64.slice(0, PLAIN_TEXT_MIN - 4), // too short
    ];
    for (const content of cases) {
      const el = first(Buffer.from(doc(content))) as import('../../src/wsman/xml.ts').Element;
      const again = first(doc(content)) as import('../../src/wsman/xml.ts').Element; // the same, as a string
      assert.equal(el.textContent, again.textContent);
      const expected = content
        .replace('&amp;', '&')
        .replace(/<!\[CDATA\[(.*?)\]\]>/, '$1')
        .replace(/<b\/>|<!--c-->/, '');
      assert.equal(el.textContent, expected);
      let want: Buffer | string;
      try {
        want = decodeBase64(textOf(el), 'x');
      } catch (e) {
        want = (e as Error).message;
      }
      let got: Buffer | string;
      try {
        got = base64Content(el, 'x');
      } catch (e) {
        got = (e as Error).message;
      }
      assert.deepEqual(got, want);
    }
  });

  it('refusals inside and around a long text still hold, with offsets in the whole message', () => {
    const refuses = (xml: string, pattern: RegExp) =>
      assert.throws(
        () => parseXml(Buffer.from(xml)),
        (e: unknown) => e instanceof ProtocolError && pattern.test(e.message),
        pattern.source,
      );
    const at = doc('').indexOf('</s:S>');
    refuses(
      doc(`${b64.slice(0, 100)}\u0001${b64.slice(101)}`),
      new RegExp(`U\\+0001 at offset ${at + 100} `),
    );
    refuses(doc(`${b64}]]>`), /"]]>" .* not allowed in text/);
    refuses(doc(`${b64}&x;`), /does not start a reference/);
    refuses(`${doc(b64)}\u0002`, /U\+0002/);
    refuses(doc(b64).replace('</s:S>', '</s:T>'), /mismatch/);
    refuses(doc(b64).replace('<s:S Name="x">', '<s:S Name="x" Name="y">'), /redefined/);
    refuses(`<!DOCTYPE a>${doc(b64)}`, /DOCTYPE/);
  });
});

describe('envelopes written as bytes', () => {
  const ctx = { to: 'http://sérveur:5985/wsman', messageId: 'uuid:0AB58087-C2C3-0005-0000-000000010000' };
  it('buildSendBytes gives the bytes of buildSend', () => {
    for (const data of [Buffer.alloc(0), Buffer.from('dir\r\n'), bytes, bytes.subarray(1)]) {
      for (const end of [false, true]) {
        const p = { shellId: 'S-1', commandId: 'C&"1', data, end, stream: 'stdin' };
        assert.deepEqual(buildSendBytes(ctx, p), Buffer.from(buildSend(ctx, p), 'utf8'));
      }
    }
  });

  it('joinBytes and streamElementPieces give the bytes of the string writers', () => {
    assert.deepEqual(joinBytes([]), Buffer.alloc(0));
    assert.deepEqual(
      joinBytes(['é', { base64: bytes }, '', { base64: Buffer.from('a') }, 'ü']),
      Buffer.from(`é${b64}YQ==ü`),
    );
    for (const end of [false, true]) {
      assert.deepEqual(
        joinBytes(streamElementPieces('stdoüt', 'C"1', bytes, end)),
        Buffer.from(streamElement('stdoüt', 'C"1', b64, end), 'utf8'),
      );
    }
  });
});
