/**
 * WS-Management resources other than the shell: routes WS-Transfer (Get, Put, Create, Delete), WS-Enumeration
 * (Enumerate, Pull, Release) and custom Invoke actions to the {@link MockResourceProvider}s, and owns the
 * enumeration contexts.
 *
 * Envelopes as Windows writes them (captures of `winrm get/enumerate/invoke` traffic; [MS-WSMV] 4.2 examples):
 * GetResponse/PutResponse bodies hold the instance element itself; an EnumerateResponse holds n:EnumerationContext
 * and, with wsman:OptimizeEnumeration, w:Items (then w:EndOfSequence when nothing is left); a PullResponse holds
 * n:EnumerationContext (absent on the last one), n:Items and n:EndOfSequence on the last. An Invoke answers with
 * action `{action}Response` and the `_OUTPUT` element.
 *
 * Enumeration ([MS-WSMAN] DSP0226 8.2-8.5, WS-Enumeration 3): the items are computed at Enumerate time; Pull's
 * n:MaxElements defaults to 1 (WS-Enumeration 3.2), so does w:MaxElements of an optimized Enumerate (DSP0226
 * R8.2.3-3); fewer items are sent when the envelope would exceed MaxEnvelopeSize (DSP0226 R8.2.3-5); a context
 * ends when its last item is sent, on Release, or after `contextTimeoutMs` without a Pull; then Pull and Release
 * answer wsen:InvalidEnumerationContext.
 */
import { randomUUID } from 'node:crypto';
import { ACTIONS, ANONYMOUS_ADDRESS, NS } from '../../wsman/constants.ts';
import { escapeXmlAttr, escapeXmlText } from '../../wsman/envelope.ts';
import { newMessageId } from '../../wsman/reply.ts';
import { allChildElements, attr, child, type Element, textOf } from '../../wsman/xml.ts';
import { ResourceFaults } from '../resources/faults.ts';
import type {
  EnumerationFilter,
  MockResourceProvider,
  ResourceAnswer,
  ResourceRequest,
} from '../resources/types.ts';
import { Faults } from '../wire/faults.ts';
import type { ActionHandler, MockRequest, ResourceHandler } from './types.ts';

/** Default idle lifetime of an enumeration context: 60 000 ms (the mock's choice; Windows' value is unpublished). */
export const DEFAULT_ENUMERATION_CONTEXT_TIMEOUT_MS = 60_000;

export interface ResourceDispatchOptions {
  providers: readonly MockResourceProvider[];
  /** Idle lifetime of an enumeration context, in ms. Default: {@link DEFAULT_ENUMERATION_CONTEXT_TIMEOUT_MS}. */
  contextTimeoutMs?: number;
  /** Clock in ms (tests pass a fake one). Default: Date.now. */
  now?: () => number;
}

interface EnumerationContext {
  id: string;
  user: string;
  items: string[];
  pos: number;
  expiresAt: number;
}

type Mode = 'object' | 'epr' | 'objepr';

const DECL = {
  transfer: ['s', 'a', 'x', 'w', 'p'],
  enumeration: ['s', 'a', 'n', 'w', 'p'],
  invoke: ['s', 'a', 'w', 'p'],
} as const;

function envelope(req: MockRequest, action: string, kind: keyof typeof DECL, body: string): string {
  const decl = DECL[kind].map((p) => ` xmlns:${p}="${NS[p]}"`).join('');
  const relates = req.header.messageId
    ? `<a:RelatesTo>${escapeXmlText(req.header.messageId)}</a:RelatesTo>`
    : '';
  return (
    `<s:Envelope xml:lang="${escapeXmlAttr(req.lang)}"${decl}><s:Header>` +
    `<a:Action>${escapeXmlText(action)}</a:Action><a:MessageID>${newMessageId()}</a:MessageID>` +
    `<a:To>${ANONYMOUS_ADDRESS}</a:To>${relates}</s:Header><s:Body>${body}</s:Body></s:Envelope>`
  );
}

function eprXml(a: ResourceAnswer, element = 'a:EndpointReference'): string {
  const e = a.epr;
  if (!e) return '';
  const sels = Object.entries(e.selectors)
    .map(([k, v]) => `<w:Selector Name="${escapeXmlAttr(k)}">${escapeXmlText(v)}</w:Selector>`)
    .join('');
  return (
    `<${element}><a:Address>${ANONYMOUS_ADDRESS}</a:Address><a:ReferenceParameters>` +
    `<w:ResourceURI>${escapeXmlText(e.resourceUri)}</w:ResourceURI>` +
    `${sels ? `<w:SelectorSet>${sels}</w:SelectorSet>` : ''}</a:ReferenceParameters></${element}>`
  );
}

function itemXml(a: ResourceAnswer, mode: Mode): string {
  if (mode === 'epr') return eprXml(a);
  if (mode === 'objepr') return `<w:Item>${a.xml}${eprXml(a)}</w:Item>`;
  return a.xml;
}

function positiveInt(el: Element | undefined, fallback: number): number {
  if (!el) return fallback;
  const n = Number(textOf(el).trim());
  if (!Number.isInteger(n) || n < 1) throw Faults.invalidParameter();
  return n;
}

export function resourceHandler(opts: ResourceDispatchOptions): ResourceHandler & {
  /** Open enumeration contexts (for tests and stats). */
  readonly openContexts: () => number;
} {
  const timeout = opts.contextTimeoutMs ?? DEFAULT_ENUMERATION_CONTEXT_TIMEOUT_MS;
  const now = opts.now ?? Date.now;
  const contexts = new Map<string, EnumerationContext>();

  const sweep = (): void => {
    const t = now();
    for (const [id, c] of contexts) if (c.expiresAt <= t) contexts.delete(id);
  };
  const providerFor = (uri: string): MockResourceProvider | undefined =>
    opts.providers.find((p) => p.serves(uri));
  const request = (req: MockRequest): { provider: MockResourceProvider; r: ResourceRequest } => {
    const uri = req.header.resourceUri ?? '';
    const provider = providerFor(uri);
    if (!provider) throw Faults.resourceNotFound();
    return {
      provider,
      r: {
        resourceUri: uri,
        selectors: req.header.selectors,
        options: req.header.options,
        user: req.user,
        lang: req.lang,
        fragment:
          textOf(req.msg.header && child(req.msg.header, 'w', 'FragmentTransfer')).trim() || undefined,
      },
    };
  };
  const firstBodyElement = (req: MockRequest): Element | undefined => allChildElements(req.msg.body)[0];

  /** Items that fit MaxEnvelopeSize, at most `max`; at least one fits or the response is too large. */
  const page = (
    req: MockRequest,
    items: string[],
    from: number,
    max: number,
    wrap: (xml: string) => string,
  ) => {
    let count = Math.min(max, items.length - from);
    while (count > 0) {
      const xml = wrap(items.slice(from, from + count).join(''));
      if (Buffer.byteLength(xml) <= req.maxEnvelopeSize) return { count, xml };
      count = count > 1 ? Math.max(1, Math.floor(count / 2)) : 0;
    }
    if (items.length - from === 0) return { count: 0, xml: wrap('') };
    throw Faults.responseTooLarge();
  };

  const actions: Record<string, ActionHandler> = {
    [ACTIONS.get]: (req) => {
      const { provider, r } = request(req);
      if (!provider.get) throw Faults.actionNotSupported();
      return envelope(req, ACTIONS.getResponse, 'transfer', provider.get(r).xml);
    },
    [ACTIONS.put]: (req) => {
      const { provider, r } = request(req);
      if (!provider.put) throw Faults.actionNotSupported();
      const body = firstBodyElement(req);
      if (!body) throw Faults.schema();
      return envelope(req, ACTIONS.putResponse, 'transfer', provider.put(r, body).xml);
    },
    [ACTIONS.create]: (req) => {
      const { provider, r } = request(req);
      if (!provider.create) throw Faults.actionNotSupported();
      const body = firstBodyElement(req);
      if (!body) throw Faults.schema();
      const created = provider.create(r, body);
      return envelope(req, ACTIONS.createResponse, 'transfer', eprXml(created, 'x:ResourceCreated'));
    },
    [ACTIONS.delete]: (req) => {
      const { provider, r } = request(req);
      if (!provider.delete) throw Faults.actionNotSupported();
      provider.delete(r);
      return envelope(req, ACTIONS.deleteResponse, 'transfer', '');
    },
    [ACTIONS.enumerate]: (req) => {
      const { provider, r } = request(req);
      if (!provider.enumerate) throw Faults.actionNotSupported();
      const en = child(req.msg.body, 'n', 'Enumerate');
      if (!en) throw Faults.schema();
      const filterEl = child(en, 'w', 'Filter');
      let filter: EnumerationFilter | undefined;
      if (filterEl) {
        const dialect = attr(filterEl, 'Dialect');
        const accepted = provider.dialects ?? [];
        const effective = dialect ?? accepted[0];
        if (!effective || !accepted.some((d) => d.toLowerCase() === effective.toLowerCase())) {
          throw ResourceFaults.dialectUnavailable();
        }
        filter = {
          dialect: accepted.find((d) => d.toLowerCase() === effective.toLowerCase()),
          text: textOf(filterEl),
          element: filterEl,
        };
      }
      const modeText = textOf(child(en, 'w', 'EnumerationMode')).trim();
      const mode: Mode =
        modeText === 'EnumerateEPR' ? 'epr' : modeText === 'EnumerateObjectAndEPR' ? 'objepr' : 'object';
      if (modeText && mode === 'object') throw Faults.invalidParameter();
      const items = provider.enumerate(r, filter).map((a) => itemXml(a, mode));
      sweep();
      const ctx: EnumerationContext = {
        id: `uuid:${randomUUID().toUpperCase()}`,
        user: req.user.name,
        items,
        pos: 0,
        expiresAt: now() + timeout,
      };
      const optimize = child(en, 'w', 'OptimizeEnumeration') !== undefined;
      if (!optimize) {
        contexts.set(ctx.id, ctx);
        return envelope(
          req,
          ACTIONS.enumerateResponse,
          'enumeration',
          `<n:EnumerateResponse><n:EnumerationContext>${ctx.id}</n:EnumerationContext></n:EnumerateResponse>`,
        );
      }
      const max = positiveInt(child(en, 'w', 'MaxElements'), 1);
      const wrapFor = (ended: boolean) => (xml: string) =>
        envelope(
          req,
          ACTIONS.enumerateResponse,
          'enumeration',
          `<n:EnumerateResponse>${ended ? '' : `<n:EnumerationContext>${ctx.id}</n:EnumerationContext>`}` +
            `<w:Items>${xml}</w:Items>${ended ? '<w:EndOfSequence/>' : ''}</n:EnumerateResponse>`,
        );
      const ends = items.length <= max;
      const { count, xml } = page(req, items, 0, max, wrapFor(ends));
      if (ends && count === items.length) return xml;
      const again = page(req, items, 0, count, wrapFor(false));
      ctx.pos = again.count;
      contexts.set(ctx.id, ctx);
      return again.xml;
    },
    [ACTIONS.pull]: (req) => {
      request(req);
      const pull = child(req.msg.body, 'n', 'Pull');
      if (!pull) throw Faults.schema();
      sweep();
      const id = textOf(child(pull, 'n', 'EnumerationContext')).trim();
      const ctx = contexts.get(id);
      if (!ctx || ctx.user !== req.user.name) throw ResourceFaults.invalidContext();
      const max = positiveInt(child(pull, 'n', 'MaxElements'), 1);
      const wrapFor = (ended: boolean) => (xml: string) =>
        envelope(
          req,
          ACTIONS.pullResponse,
          'enumeration',
          `<n:PullResponse>${ended ? '' : `<n:EnumerationContext>${ctx.id}</n:EnumerationContext>`}` +
            `<n:Items>${xml}</n:Items>${ended ? '<n:EndOfSequence/>' : ''}</n:PullResponse>`,
        );
      const remaining = ctx.items.length - ctx.pos;
      const ends = remaining <= max;
      let { count, xml } = page(req, ctx.items, ctx.pos, max, wrapFor(ends));
      if (!(ends && count === remaining))
        ({ count, xml } = page(req, ctx.items, ctx.pos, count, wrapFor(false)));
      ctx.pos += count;
      if (ctx.pos >= ctx.items.length && ends && count === remaining) contexts.delete(ctx.id);
      else ctx.expiresAt = now() + timeout;
      return xml;
    },
    [ACTIONS.release]: (req) => {
      request(req);
      const rel = child(req.msg.body, 'n', 'Release');
      if (!rel) throw Faults.schema();
      sweep();
      const id = textOf(child(rel, 'n', 'EnumerationContext')).trim();
      const ctx = contexts.get(id);
      if (!ctx || ctx.user !== req.user.name) throw ResourceFaults.invalidContext();
      contexts.delete(id);
      return envelope(req, ACTIONS.releaseResponse, 'enumeration', '');
    },
  };

  return {
    matches: (uri) => providerFor(uri) !== undefined,
    actions,
    fallback: (req) => {
      // A custom action `{resourceUri}/{method}` is an Invoke ([MS-WSMV] 3.1.4.13 / DSP0226 9.1).
      const { provider, r } = request(req);
      const action = req.header.action ?? '';
      const base = `${r.resourceUri.replace(/\/+$/, '')}/`;
      if (!action.toLowerCase().startsWith(base.toLowerCase()) || !provider.invoke) {
        throw Faults.actionNotSupported();
      }
      const method = action.slice(base.length);
      if (!method || method.includes('/')) throw Faults.actionNotSupported();
      const out = provider.invoke(r, method, firstBodyElement(req));
      return envelope(req, `${action}Response`, 'invoke', out.xml);
    },
    openContexts: () => {
      sweep();
      return contexts.size;
    },
  };
}
