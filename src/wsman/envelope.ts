/**
 * The one SOAP envelope writer, shared by every action builder, both strategies and the mock.
 * Header layout follows [MS-WSMV] 2.2.4 and the order Windows' own client (WsmSvc) uses.
 */
import { create } from 'xmlbuilder2';
import type { XMLBuilder } from 'xmlbuilder2/lib/interfaces.js';
import { InvalidArgumentError } from '../errors.ts';
import { ANONYMOUS_ADDRESS, DEFAULTS, NS } from './constants.ts';

export type { XMLBuilder };

/** One w:Option in a w:OptionSet ([MS-WSMV] 2.2.4.23). */
export interface WsmanOption {
  name: string;
  value: string;
  /** Adds MustComply="true". Default: false. */
  mustComply?: boolean;
}

/** Per-connection header values that every request carries. */
export interface RequestContext {
  /** Endpoint URL, e.g. `https://host:5986/wsman`. */
  to: string;
  /** `uuid:` + UUID; a bare UUID is prefixed. Passed in so tests are deterministic. */
  messageId: string;
  /** w:MaxEnvelopeSize in bytes. Default: 512000 (Windows 2012+). */
  maxEnvelopeSize?: number;
  /** w:OperationTimeout in seconds (fractions allowed). Default: 20. */
  operationTimeout?: number;
  /** w:Locale xml:lang. Default: 'en-US'. `null` omits the header. */
  locale?: string | null;
  /** p:DataLocale xml:lang. Default: same as locale. `null` omits the header. */
  dataLocale?: string | null;
  /** p:SessionId (`uuid:` + UUID), optional. */
  sessionId?: string;
}

/** Everything an action adds to the header. */
export interface ActionHeader {
  action: string;
  resourceUri?: string;
  selectors?: Readonly<Record<string, string>>;
  options?: readonly WsmanOption[];
  /** Adds s:mustUnderstand="true" to the OptionSet (Create shell does). Default: false. */
  optionSetMustUnderstand?: boolean;
  /** Overrides the context's OperationTimeout for this message. */
  operationTimeout?: number;
}

export type BodyWriter = (body: XMLBuilder) => void;

const ROOT_PREFIXES = ['s', 'a', 'w', 'p', 'rsp', 'x', 'n', 'b', 'xsi'] as const;

/** ISO-8601 duration as Windows writes it: whole seconds `PT20S`, fractions with milliseconds `PT0.500S`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new InvalidArgumentError(`A duration must be a finite number of seconds >= 0, got ${seconds}`, {
      argument: 'operationTimeout',
    });
  }
  return Number.isInteger(seconds) ? `PT${seconds}S` : `PT${seconds.toFixed(3)}S`;
}

/** Parse xs:duration (`PT60.000S`, `P1DT2H`, `PT5M`) into seconds; undefined if not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text.trim());
  if (!m || text.trim() === 'P' || text.trim().endsWith('T')) return undefined;
  const [, d, h, mi, s] = m;
  return Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(mi ?? 0) * 60 + Number(s ?? 0);
}

/** `uuid:` + lower-case UUID. */
export function normalizeMessageId(id: string): string {
  const bare = id.startsWith('uuid:') ? id.slice(5) : id;
  if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(bare)) {
    throw new InvalidArgumentError(`A message id must be a UUID (optionally prefixed "uuid:"), got "${id}"`, {
      argument: 'messageId',
    });
  }
  return `uuid:${bare.toUpperCase()}`;
}

// XML 1.0 Char production: anything else (C0 controls, lone surrogates, U+FFFE/FFFF) cannot be sent at all.
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * Prepare caller data for xmlbuilder2's text/attribute writer. xmlbuilder2 leaves `&amp;`, `&lt;`... untouched
 * (it assumes they are already escaped), so `a&amp;b` would arrive as `a&b`; escaping every `&` first makes
 * the writer emit exactly the caller's characters. Characters XML cannot carry are refused.
 */
export function xmlText(value: string): string {
  if (value.includes('\r')) {
    throw new InvalidArgumentError(
      'The value contains a carriage return, which would arrive as a plain line feed',
      {
        remedy: 'remove CR characters from paths, names and environment values',
      },
    );
  }
  return checkedXmlText(value);
}

function checkedXmlText(value: string): string {
  const bad = NOT_XML_CHAR.exec(value);
  if (bad) {
    const cp = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new InvalidArgumentError(
      `The value contains U+${cp}, which an XML (SOAP) message cannot carry; WinRM cannot send it`,
      { remedy: 'remove control characters from commands, arguments, paths and environment values' },
    );
  }
  return value.includes('&') ? value.replace(/&/g, '&amp;') : value;
}

/**
 * Escape text for direct insertion into a template (the {@link PAYLOAD_SLOT}): `&`, `<`, `>`, and CR as `&#13;`
 * so a receiver's line-end normalization cannot turn CRLF into LF. Refuses what XML cannot carry.
 */
export function escapeXmlText(value: string): string {
  checkedXmlText(value);
  return value.replace(/[&<>\r]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;',
  );
}

/** Like {@link escapeXmlText}, for a double-quoted attribute value (also escapes `"`, tab and LF). */
export function escapeXmlAttr(value: string): string {
  return escapeXmlText(value).replace(/["\t\n]/g, (c) =>
    c === '"' ? '&quot;' : c === '\t' ? '&#9;' : '&#10;',
  );
}

function mustUnderstand(el: XMLBuilder, value: boolean): XMLBuilder {
  return el.att(NS.s, 's:mustUnderstand', value ? 'true' : 'false');
}

const ID_SLOT = 'uuid:00000000-0000-0000-0000-0000000000FF';
/** Text standing for caller payload `i` in a cached template; never valid base64, never produced by escaping. */
export function payloadSlot(i = 0): string {
  return `#PAYLOAD${i}#`;
}
export const PAYLOAD_SLOT = payloadSlot(0);
const templates = new Map<string, string>();
const TEMPLATE_LIMIT = 512;
let compiled = 0;

/** Diagnostics of the envelope template cache: entries held, the cap, and templates written so far. */
export function templateCacheStats(): { size: number; limit: number; compiled: number } {
  return { size: templates.size, limit: TEMPLATE_LIMIT, compiled };
}

/**
 * Cached variant of {@link buildRequest} for the hot path (Receive, Send, Signal, Command): the envelope is written
 * once by xmlbuilder2 per distinct header and body key, then reused with a fresh MessageID and, when the body
 * writer wrote {@link PAYLOAD_SLOT}, the payload (already safe text, e.g. base64) put in its place.
 */
export function buildRequestCached(
  ctx: RequestContext,
  header: ActionHeader,
  bodyKey: string,
  body?: BodyWriter,
  payload?: string | readonly string[],
): string {
  const key = JSON.stringify([
    bodyKey,
    ctx.to,
    ctx.maxEnvelopeSize,
    ctx.operationTimeout,
    ctx.locale,
    ctx.dataLocale,
    ctx.sessionId,
    header,
  ]);
  let template = templates.get(key);
  if (template === undefined) {
    template = buildRequest({ ...ctx, messageId: ID_SLOT }, header, body);
    compiled++;
    if (templates.size >= TEMPLATE_LIMIT) templates.delete(templates.keys().next().value as string);
    templates.set(key, template);
  }
  let out = template.replace(ID_SLOT, normalizeMessageId(ctx.messageId));
  if (payload !== undefined) {
    const list = typeof payload === 'string' ? [payload] : payload;
    // Replace from the last slot backwards so a payload can never be mistaken for a later slot.
    let before = out.length;
    for (let i = list.length - 1; i >= 0; i--) {
      const slot = payloadSlot(i);
      const at = out.lastIndexOf(slot, before - slot.length);
      out = out.slice(0, at) + list[i] + out.slice(at + slot.length);
      before = at;
    }
  }
  return out;
}

/** Build a complete request envelope as a string. */
export function buildRequest(ctx: RequestContext, header: ActionHeader, body?: BodyWriter): string {
  const root = create({ version: '1.0', encoding: 'UTF-8' }).ele(NS.s, 's:Envelope');
  for (const p of ROOT_PREFIXES) if (p !== 's') root.att(`xmlns:${p}`, NS[p]);
  const h = root.ele(NS.s, 's:Header');
  h.ele(NS.a, 'a:To').txt(xmlText(ctx.to));
  mustUnderstand(h.ele(NS.a, 'a:ReplyTo').ele(NS.a, 'a:Address'), true).txt(xmlText(ANONYMOUS_ADDRESS));
  mustUnderstand(h.ele(NS.a, 'a:Action'), true).txt(xmlText(header.action));
  mustUnderstand(h.ele(NS.w, 'w:MaxEnvelopeSize'), true).txt(
    xmlText(String(ctx.maxEnvelopeSize ?? DEFAULTS.maxEnvelopeSize)),
  );
  h.ele(NS.a, 'a:MessageID').txt(xmlText(normalizeMessageId(ctx.messageId)));
  const locale = ctx.locale === undefined ? DEFAULTS.locale : ctx.locale;
  const dataLocale = ctx.dataLocale === undefined ? locale : ctx.dataLocale;
  if (locale !== null) mustUnderstand(h.ele(NS.w, 'w:Locale'), false).att(NS.xml, 'xml:lang', locale);
  if (dataLocale !== null) {
    mustUnderstand(h.ele(NS.p, 'p:DataLocale'), false).att(NS.xml, 'xml:lang', dataLocale);
  }
  if (ctx.sessionId)
    mustUnderstand(h.ele(NS.p, 'p:SessionId'), false).txt(xmlText(normalizeMessageId(ctx.sessionId)));
  h.ele(NS.w, 'w:OperationTimeout').txt(
    xmlText(
      formatDuration(header.operationTimeout ?? ctx.operationTimeout ?? DEFAULTS.operationTimeoutSeconds),
    ),
  );
  if (header.resourceUri) mustUnderstand(h.ele(NS.w, 'w:ResourceURI'), true).txt(xmlText(header.resourceUri));
  if (header.selectors && Object.keys(header.selectors).length > 0) {
    const set = h.ele(NS.w, 'w:SelectorSet');
    for (const [name, value] of Object.entries(header.selectors)) {
      set.ele(NS.w, 'w:Selector').att('Name', xmlText(name)).txt(xmlText(value));
    }
  }
  if (header.options && header.options.length > 0) {
    const set = h.ele(NS.w, 'w:OptionSet');
    if (header.optionSetMustUnderstand) mustUnderstand(set, true);
    for (const o of header.options) {
      const opt = set.ele(NS.w, 'w:Option').att('Name', xmlText(o.name));
      if (o.mustComply) opt.att('MustComply', 'true');
      opt.txt(xmlText(o.value));
    }
  }
  const b = root.ele(NS.s, 's:Body');
  if (body) body(b);
  return root.end({ headless: false, prettyPrint: false });
}
