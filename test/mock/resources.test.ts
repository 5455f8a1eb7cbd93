/**
 * The mock's generic resource layer: a provider registered through `resourceProviders` answers Get; Enumerate
 * with Pull pages (MaxElements), optimized enumeration, Release, context expiry (fake clock, no sleeps), and
 * ActionNotSupported for an operation the provider lacks.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DOMParser } from '@xmldom/xmldom';
import { resourceHandler } from '../../src/mock/dispatch/resources.ts';
import type { MockServer } from '../../src/mock/index.ts';
import type { MockResourceProvider, ResourceAnswer } from '../../src/mock/resources/types.ts';
import { RawClient, startBasicMock } from './helpers.ts';
import { A, contextOf, enumerateBody, faultOf, pullBody, releaseBody, soap } from './resource-soap.ts';

const URI = 'http://example.test/wsman/Thing';
const item = (i: number): ResourceAnswer => ({ xml: `<t:Thing xmlns:t="${URI}"><t:N>${i}</t:N></t:Thing>` });
const provider: MockResourceProvider = {
  name: 'things',
  serves: (u) => u.toLowerCase() === URI.toLowerCase(),
  get: (req) => item(Number(req.selectors.N ?? 0)),
  enumerate: () => [1, 2, 3, 4, 5].map(item),
};
const numbers = (body: string) => [...body.matchAll(/<t:N>(\d+)<\/t:N>/g)].map((m) => Number(m[1]));

describe('mock resource providers', () => {
  let mock: MockServer;
  let client: RawClient;
  let clock = 1_000_000;
  before(async () => {
    mock = await startBasicMock({ resourceProviders: [provider], enumerationContextTimeoutMs: 5000 });
    client = new RawClient(mock.url);
  });
  after(async () => {
    client.close();
    await mock.close();
  });

  it('Get goes to the provider; its instance is the body', async () => {
    const res = await client.post(soap({ action: A.get, resourceUri: URI, selectors: { N: '7' } }));
    assert.equal(res.status, 200, res.body);
    assert.match(
      res.body,
      /<a:Action>http:\/\/schemas\.xmlsoap\.org\/ws\/2004\/09\/transfer\/GetResponse<\/a:Action>/,
    );
    assert.match(
      res.body,
      /<s:Body><t:Thing xmlns:t="http:\/\/example\.test\/wsman\/Thing"><t:N>7<\/t:N><\/t:Thing><\/s:Body>/,
    );
  });

  it('Put on a provider without put: ActionNotSupported', async () => {
    const res = await client.post(soap({ action: A.put, resourceUri: URI, body: '<t:Thing xmlns:t="x"/>' }));
    assert.equal(res.status, 500);
    assert.equal(faultOf(res.body).subcode, 'a:ActionNotSupported');
  });

  it('Enumerate then Pull with MaxElements 2: 2, 2, 1 items, no context on the last PullResponse', async () => {
    const en = await client.post(soap({ action: A.enumerate, resourceUri: URI, body: enumerateBody() }));
    assert.equal(en.status, 200, en.body);
    assert.doesNotMatch(en.body, /Items/);
    let ctx = contextOf(en.body);
    assert.ok(ctx);
    const seen: number[][] = [];
    let last = '';
    while (ctx) {
      const p = await client.post(soap({ action: A.pull, resourceUri: URI, body: pullBody(ctx, 2) }));
      assert.equal(p.status, 200, p.body);
      seen.push(numbers(p.body));
      ctx = contextOf(p.body);
      last = p.body;
      assert.ok(seen.length < 10, 'the enumeration ends');
    }
    assert.deepEqual(seen, [[1, 2], [3, 4], [5]]);
    assert.match(last, /<n:EndOfSequence\/><\/n:PullResponse>/);
  });

  it('Pull without MaxElements takes one item (WS-Enumeration default)', async () => {
    const en = await client.post(soap({ action: A.enumerate, resourceUri: URI, body: enumerateBody() }));
    const p = await client.post(
      soap({ action: A.pull, resourceUri: URI, body: pullBody(contextOf(en.body)!) }),
    );
    assert.deepEqual(numbers(p.body), [1]);
  });

  it('optimized Enumerate: items in w:Items; all of them with w:EndOfSequence and no context', async () => {
    const some = await client.post(
      soap({ action: A.enumerate, resourceUri: URI, body: enumerateBody({ optimize: true, max: 3 }) }),
    );
    assert.deepEqual(numbers(some.body), [1, 2, 3]);
    assert.doesNotMatch(some.body, /EndOfSequence/);
    const rest = await client.post(
      soap({ action: A.pull, resourceUri: URI, body: pullBody(contextOf(some.body)!, 10) }),
    );
    assert.deepEqual(numbers(rest.body), [4, 5]);
    const all = await client.post(
      soap({ action: A.enumerate, resourceUri: URI, body: enumerateBody({ optimize: true, max: 50 }) }),
    );
    assert.deepEqual(numbers(all.body), [1, 2, 3, 4, 5]);
    assert.match(all.body, /<w:Items>.*<\/w:Items><w:EndOfSequence\/><\/n:EnumerateResponse>/);
    assert.equal(contextOf(all.body), undefined);
  });

  it('Release ends the context: a later Pull is InvalidEnumerationContext', async () => {
    const en = await client.post(soap({ action: A.enumerate, resourceUri: URI, body: enumerateBody() }));
    const ctx = contextOf(en.body)!;
    const rel = await client.post(soap({ action: A.release, resourceUri: URI, body: releaseBody(ctx) }));
    assert.equal(rel.status, 200, rel.body);
    assert.match(rel.body, /ReleaseResponse<\/a:Action>/);
    const p = await client.post(soap({ action: A.pull, resourceUri: URI, body: pullBody(ctx) }));
    assert.equal(p.status, 500);
    assert.equal(faultOf(p.body).subcode, 'n:InvalidEnumerationContext');
  });

  it('Enumerate on an unserved URI: DestinationUnreachable', async () => {
    const res = await client.post(
      soap({ action: A.enumerate, resourceUri: 'http://example.test/none', body: enumerateBody() }),
    );
    assert.equal(faultOf(res.body).subcode, 'a:DestinationUnreachable');
  });

  it('contexts expire after contextTimeoutMs without a Pull (fake clock)', () => {
    const handler = resourceHandler({ providers: [provider], contextTimeoutMs: 5000, now: () => clock });
    const req = (action: string, body: string) =>
      ({
        msg: {
          body: new DOMParser().parseFromString(
            `<s:Body xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">${body}</s:Body>`,
            'text/xml',
          ).documentElement,
        },
        header: { resourceUri: URI, selectors: {}, options: {}, action, messageId: 'uuid:1' },
        user: { name: 'vagrant' },
        lang: 'en-US',
        maxEnvelopeSize: 512000,
      }) as never;
    const en = handler.actions[A.enumerate]!(req(A.enumerate, enumerateBody())) as string;
    const ctx = contextOf(en)!;
    assert.equal(handler.openContexts(), 1);
    clock += 4000;
    const p = handler.actions[A.pull]!(req(A.pull, pullBody(ctx))) as string;
    assert.deepEqual(numbers(p), [1]);
    clock += 4000; // 4 s after the Pull: still alive (each Pull renews the lifetime)
    assert.equal(handler.openContexts(), 1);
    clock += 1001;
    assert.equal(handler.openContexts(), 0);
    assert.throws(
      () => handler.actions[A.pull]!(req(A.pull, pullBody(ctx))),
      (e: Error) => /InvalidEnumerationContext/.test(e.message),
    );
  });
});
