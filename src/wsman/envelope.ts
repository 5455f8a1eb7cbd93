/**
 * The one SOAP envelope writer, shared by every action builder, both strategies and the mock.
 * Header layout follows [MS-WSMV] 2.2.4 and the order Windows' own client (WsmSvc) uses.
 */
import { randomBytes } from 'node:crypto';
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
  /**
   * w:FragmentTransfer ([DSP0226] 7.7, [MS-WSMV] 3.1.4.1.30): an XPath-like path to one property of the
   * resource, e.g. 'LoadPercentage' (winrm.cmd's -fragment). Default: none (the whole resource).
   */
  fragment?: string;
}

/** Dialect Windows takes for w:FragmentTransfer ([MS-WSMV] 3.1.4.1.30.1: the XPath 1.0 subset). */
export const FRAGMENT_DIALECT = 'http://www.w3.org/TR/1999/REC-xpath-19991116';

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
  checkXmlChars(value);
  return value.includes('&') ? value.replace(/&/g, '&amp;') : value;
}

function checkXmlChars(value: string): void {
  const bad = NOT_XML_CHAR.exec(value);
  if (bad) {
    const cp = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new InvalidArgumentError(
      `The value contains U+${cp}, which an XML (SOAP) message cannot carry; WinRM cannot send it`,
      { remedy: 'remove control characters from commands, arguments, paths and environment values' },
    );
  }
}

const TEXT_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '\r': '&#13;',
};
const ATTR_ESCAPES: Readonly<Record<string, string>> = {
  ...TEXT_ESCAPES,
  '"': '&quot;',
  '\t': '&#9;',
  '\n': '&#10;',
};
const TEXT_SPECIAL = /[&<>\r]/;
const ATTR_SPECIAL = /[&<>\r"\t\n]/;

/**
 * Escape text for direct insertion into a template (the {@link PAYLOAD_SLOT}): `&`, `<`, `>`, and CR as `&#13;`
 * so a receiver's line-end normalization cannot turn CRLF into LF. Refuses what XML cannot carry.
 */
export function escapeXmlText(value: string): string {
  checkXmlChars(value);
  return TEXT_SPECIAL.test(value) ? value.replace(/[&<>\r]/g, (c) => TEXT_ESCAPES[c]!) : value;
}

/** Like {@link escapeXmlText}, for a double-quoted attribute value (also escapes `"`, tab and LF). */
export function escapeXmlAttr(value: string): string {
  checkXmlChars(value);
  return ATTR_SPECIAL.test(value) ? value.replace(/[&<>\r"\t\n]/g, (c) => ATTR_ESCAPES[c]!) : value;
}

function mustUnderstand(el: XMLBuilder, value: boolean): XMLBuilder {
  return el.att(NS.s, 's:mustUnderstand', value ? 'true' : 'false');
}

// Slot markers carry a per-process nonce, so no text written into a template (action, option values, stream
// names) can be taken for a slot; none of their characters is changed by escaping.
const NONCE = randomBytes(6).toString('hex');
const SLOT = new RegExp(`#([HP])(\\d+)\\.${NONCE}#`);
const headerSlot = (i: number) => `#H${i}.${NONCE}#`;
/** Header slots: To, MessageID, SessionId, then one per selector value. */
const TO = 0;
const MESSAGE_ID = 1;
const SESSION_ID = 2;
const FIRST_SELECTOR = 3;

/** Text standing for caller payload `i` in a cached template; never valid base64, never produced by escaping. */
export function payloadSlot(i = 0): string {
  return `#P${i}.${NONCE}#`;
}
export const PAYLOAD_SLOT = payloadSlot(0);

/** A template split at its slots: `parts[0] + value(refs[0]) + parts[1] + ...`. */
interface Template {
  parts: readonly string[];
  /** Index into the value list of each slot: header slots first, then the payloads. */
  refs: readonly number[];
  payloads: number;
}

const templates = new Map<string, Template>();
/** Envelope shapes kept (least recently used evicted first); one host or a thousand need the same few. */
const TEMPLATE_LIMIT = 256;
let compiled = 0;

/** Diagnostics of the envelope template cache: entries held, the cap, and templates written so far. */
export function templateCacheStats(): { size: number; limit: number; compiled: number } {
  return { size: templates.size, limit: TEMPLATE_LIMIT, compiled };
}

function compile(ctx: RequestContext, header: ActionHeader, body: BodyWriter | undefined): Template {
  const names = Object.keys(header.selectors ?? {});
  const xml = writeRequest(
    {
      to: headerSlot(TO),
      messageId: headerSlot(MESSAGE_ID),
      sessionId: ctx.sessionId ? headerSlot(SESSION_ID) : undefined,
      selectors: names.map((_, i) => headerSlot(FIRST_SELECTOR + i)),
    },
    ctx,
    header,
    body,
  );
  const split = xml.split(SLOT);
  const parts: string[] = [];
  const refs: number[] = [];
  let payloads = 0;
  for (let i = 0; i < split.length; i += 3) {
    parts.push(split[i]!);
    if (i + 1 >= split.length) break;
    const n = Number(split[i + 2]);
    if (split[i + 1] === 'H') refs.push(n);
    else {
      refs.push(FIRST_SELECTOR + names.length + n);
      payloads = Math.max(payloads, n + 1);
    }
  }
  return { parts, refs, payloads };
}

/** Text for a header slot: what {@link buildRequest} writes for the value (xmlText, then xmlbuilder2's `<` `>`). */
function slotText(value: string): string {
  const text = xmlText(value);
  return /[<>]/.test(text) ? text.replace(/</g, '&lt;').replace(/>/g, '&gt;') : text;
}

/**
 * Cached variant of {@link buildRequest} for the hot path (Receive, Send, Signal, Command), byte for byte the same
 * output. The envelope is written once by xmlbuilder2 per shape: the body key and the header minus its values.
 * a:To, MessageID, SessionId and the selector values are slots, as are the payloads the body writer marked with
 * {@link payloadSlot} (already safe text, e.g. base64), so a fan-out over many hosts and shells reuses one template.
 */
export function buildRequestCached(
  ctx: RequestContext,
  header: ActionHeader,
  bodyKey: string,
  body?: BodyWriter,
  payload?: string | readonly string[],
): string {
  const list = payload === undefined ? [] : typeof payload === 'string' ? [payload] : payload;
  const { parts, refs, values } = fill(ctx, header, bodyKey, body, list);
  let out = parts[0]!;
  for (let i = 0; i < refs.length; i++) out += values[refs[i]!]! + parts[i + 1]!;
  return out;
}

/** A payload of {@link buildRequestBytes}: safe text (as for {@link buildRequestCached}), or bytes to write as base64. */
export type RequestPayload = string | { readonly base64: Uint8Array };

/**
 * {@link buildRequestCached} written as UTF-8 bytes, for envelopes that carry a large payload: a `{ base64 }`
 * payload is encoded and copied into the envelope as ASCII, so the envelope is never one long string to flatten
 * and encode. The bytes are those of `Buffer.from(buildRequestCached(...same, with the base64 text))`.
 */
export function buildRequestBytes(
  ctx: RequestContext,
  header: ActionHeader,
  bodyKey: string,
  body: BodyWriter | undefined,
  payload: readonly RequestPayload[],
): Buffer {
  const { parts, refs, values } = fill(ctx, header, bodyKey, body, payload);
  const pieces: RequestPayload[] = [parts[0]!];
  for (let i = 0; i < refs.length; i++) pieces.push(values[refs[i]!]!, parts[i + 1]!);
  return joinBytes(pieces);
}

/**
 * A message as UTF-8 bytes from its pieces: text pieces as UTF-8, `{ base64 }` pieces base64-encoded and copied in
 * as ASCII (one byte per character), so a large payload is never part of one long string to flatten and encode.
 * The bytes are those of `Buffer.from(texts and base64 joined, 'utf8')`.
 */
export function joinBytes(pieces: readonly RequestPayload[]): Buffer {
  // The texts around the base64 pieces, each joined into one string (a few hundred bytes to a few KB).
  const texts: string[] = [];
  const blobs: string[] = [];
  let text = '';
  for (const p of pieces) {
    if (typeof p === 'string') text += p;
    else {
      texts.push(text);
      blobs.push(Buffer.from(p.base64.buffer, p.base64.byteOffset, p.base64.byteLength).toString('base64'));
      text = '';
    }
  }
  texts.push(text);
  let size = 0;
  for (const t of texts) size += Buffer.byteLength(t, 'utf8');
  for (const b of blobs) size += b.length;
  const out = Buffer.allocUnsafe(size);
  let at = out.write(texts[0]!, 0, 'utf8');
  for (let i = 0; i < blobs.length; i++) {
    at += out.write(blobs[i]!, at, 'latin1'); // base64 is ASCII
    at += out.write(texts[i + 1]!, at, 'utf8');
  }
  return out;
}

/** The template for a request's shape (compiled and cached on first use) and the values for its slots. */
function fill<P extends RequestPayload>(
  ctx: RequestContext,
  header: ActionHeader,
  bodyKey: string,
  body: BodyWriter | undefined,
  list: readonly P[],
): { parts: readonly string[]; refs: readonly number[]; values: ReadonlyArray<string | P> } {
  const selectors = header.selectors ?? {};
  const key = JSON.stringify([
    bodyKey,
    ctx.maxEnvelopeSize,
    header.operationTimeout ?? ctx.operationTimeout,
    ctx.locale,
    ctx.dataLocale,
    Boolean(ctx.sessionId),
    header.action,
    header.resourceUri,
    Object.keys(selectors),
    header.options,
    header.optionSetMustUnderstand,
    header.fragment,
  ]);
  let template = templates.get(key);
  if (template === undefined) {
    template = compile(ctx, header, body);
    compiled++;
    if (templates.size >= TEMPLATE_LIMIT) templates.delete(templates.keys().next().value as string);
  } else {
    templates.delete(key); // re-inserted below: the Map's order is the recency order
  }
  templates.set(key, template);
  if (list.length < template.payloads) {
    throw new InvalidArgumentError(
      `The envelope has ${template.payloads} payload slots, got ${list.length}`,
      {
        argument: 'payload',
      },
    );
  }
  const values: Array<string | P> = [
    slotText(ctx.to),
    normalizeMessageId(ctx.messageId),
    ctx.sessionId ? normalizeMessageId(ctx.sessionId) : '',
    ...Object.values(selectors).map(slotText),
    ...list,
  ];
  return { parts: template.parts, refs: template.refs, values };
}

/** Build a complete request envelope as a string. */
export function buildRequest(ctx: RequestContext, header: ActionHeader, body?: BodyWriter): string {
  const values: HeaderValues = {
    to: xmlText(ctx.to),
    messageId: normalizeMessageId(ctx.messageId),
    sessionId: ctx.sessionId ? normalizeMessageId(ctx.sessionId) : undefined,
    selectors: Object.values(header.selectors ?? {}).map(xmlText),
  };
  return writeRequest(values, ctx, header, body);
}

/** The per-message header texts, ready for xmlbuilder2 (values or slot markers). */
interface HeaderValues {
  to: string;
  messageId: string;
  sessionId: string | undefined;
  /** One per selector, in the order of `header.selectors`. */
  selectors: readonly string[];
}

function writeRequest(
  values: HeaderValues,
  ctx: RequestContext,
  header: ActionHeader,
  body: BodyWriter | undefined,
): string {
  const root = create({ version: '1.0', encoding: 'UTF-8' }).ele(NS.s, 's:Envelope');
  for (const p of ROOT_PREFIXES) if (p !== 's') root.att(`xmlns:${p}`, NS[p]);
  const h = root.ele(NS.s, 's:Header');
  h.ele(NS.a, 'a:To').txt(values.to);
  mustUnderstand(h.ele(NS.a, 'a:ReplyTo').ele(NS.a, 'a:Address'), true).txt(xmlText(ANONYMOUS_ADDRESS));
  mustUnderstand(h.ele(NS.a, 'a:Action'), true).txt(xmlText(header.action));
  mustUnderstand(h.ele(NS.w, 'w:MaxEnvelopeSize'), true).txt(
    xmlText(String(ctx.maxEnvelopeSize ?? DEFAULTS.maxEnvelopeSize)),
  );
  h.ele(NS.a, 'a:MessageID').txt(values.messageId);
  const locale = ctx.locale === undefined ? DEFAULTS.locale : ctx.locale;
  const dataLocale = ctx.dataLocale === undefined ? locale : ctx.dataLocale;
  if (locale !== null) mustUnderstand(h.ele(NS.w, 'w:Locale'), false).att(NS.xml, 'xml:lang', locale);
  if (dataLocale !== null) {
    mustUnderstand(h.ele(NS.p, 'p:DataLocale'), false).att(NS.xml, 'xml:lang', dataLocale);
  }
  if (values.sessionId !== undefined) mustUnderstand(h.ele(NS.p, 'p:SessionId'), false).txt(values.sessionId);
  h.ele(NS.w, 'w:OperationTimeout').txt(
    xmlText(
      formatDuration(header.operationTimeout ?? ctx.operationTimeout ?? DEFAULTS.operationTimeoutSeconds),
    ),
  );
  if (header.resourceUri) mustUnderstand(h.ele(NS.w, 'w:ResourceURI'), true).txt(xmlText(header.resourceUri));
  const names = Object.keys(header.selectors ?? {});
  if (names.length > 0) {
    const set = h.ele(NS.w, 'w:SelectorSet');
    names.forEach((name, i) => {
      set.ele(NS.w, 'w:Selector').att('Name', xmlText(name)).txt(values.selectors[i]!);
    });
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
  if (header.fragment !== undefined) {
    mustUnderstand(h.ele(NS.w, 'w:FragmentTransfer'), true)
      .att('Dialect', FRAGMENT_DIALECT)
      .txt(xmlText(header.fragment));
  }
  const b = root.ele(NS.s, 's:Body');
  if (body) body(b);
  return root.end({ headless: false, prettyPrint: false });
}
