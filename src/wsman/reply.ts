/**
 * The one writer of response envelopes and faults, in the form Windows sends them (test/fixtures/*.xml,
 * docs/windows-wire-facts.md): compact, `xml:lang` on the Envelope, the namespace declarations Windows puts on
 * each kind of message, header order Action, MessageID, To, RelatesTo. The mock writes every answer with it and
 * tests use it too; the client never writes responses. String templates with escaped slots: the mock writes one
 * per request, and the Receive splitter needs exact sizes.
 */
import { randomUUID } from 'node:crypto';
import { ACTIONS, ANONYMOUS_ADDRESS, COMMAND_STATES, NS, type Prefix } from './constants.ts';
import { escapeXmlAttr, escapeXmlText, type RequestPayload } from './envelope.ts';

/** Prefix sets Windows declares on the Envelope, per kind of message (from captured responses). */
export const REPLY_PREFIXES = {
  /** Create, Command, Send, Signal responses. */
  shell: ['s', 'a', 'x', 'w', 'rsp', 'p'],
  /** Receive responses. */
  receive: ['s', 'a', 'w', 'rsp', 'p'],
  /** Delete responses. */
  delete: ['s', 'a', 'w', 'p'],
  /** Faults. */
  fault: ['s', 'a', 'x', 'e', 'n', 'w', 'p'],
} as const satisfies Record<string, readonly Prefix[]>;

export type ReplyKind = keyof typeof REPLY_PREFIXES;

const DECLARATIONS = Object.fromEntries(
  Object.entries(REPLY_PREFIXES).map(([kind, prefixes]) => [
    kind,
    prefixes.map((p) => ` xmlns:${p}="${NS[p]}"`).join(''),
  ]),
) as Record<ReplyKind, string>;

export interface ReplyHeader {
  action: string;
  /** MessageID of the request; no a:RelatesTo when undefined (the request had none). */
  relatesTo?: string;
  /** Our MessageID. Default: a fresh upper-case `uuid:`. */
  messageId?: string;
  /** Envelope xml:lang (Windows takes it from the request's Locale). Default: 'en-US'. */
  lang?: string;
  /** Which namespace declarations the Envelope carries. Default: 'shell'. */
  kind?: ReplyKind;
}

export function newMessageId(): string {
  return `uuid:${randomUUID().toUpperCase()}`;
}

/** The envelope up to and including `<s:Body>`; `extraHeaders` (already XML) follow a:RelatesTo. */
export function replyHead(h: ReplyHeader, extraHeaders = ''): string {
  const relates = h.relatesTo ? `<a:RelatesTo>${escapeXmlText(h.relatesTo)}</a:RelatesTo>` : '';
  return (
    `<s:Envelope xml:lang="${escapeXmlAttr(h.lang ?? 'en-US')}"${DECLARATIONS[h.kind ?? 'shell']}><s:Header>` +
    `<a:Action>${escapeXmlText(h.action)}</a:Action>` +
    `<a:MessageID>${escapeXmlText(h.messageId ?? newMessageId())}</a:MessageID>` +
    `<a:To>${ANONYMOUS_ADDRESS}</a:To>${relates}${extraHeaders}</s:Header><s:Body>`
  );
}

export const REPLY_TAIL = '</s:Body></s:Envelope>';

/** A complete response envelope around `body` (already XML, e.g. from the writers below). */
export function buildReply(h: ReplyHeader, body = ''): string {
  return replyHead(h) + body + REPLY_TAIL;
}

/** One rsp:Stream of a ReceiveResponse: Name, CommandId, [End], then the base64 data. */
export function streamElement(name: string, commandId: string, base64: string, end = false): string {
  return `${streamStart(name, commandId, end)}${base64}${STREAM_END}`;
}

/** {@link streamElement} around raw bytes, as pieces for {@link joinBytes} (which writes the base64). */
export function streamElementPieces(
  name: string,
  commandId: string,
  data: Uint8Array,
  end = false,
): RequestPayload[] {
  return [streamStart(name, commandId, end), { base64: data }, STREAM_END];
}

function streamStart(name: string, commandId: string, end: boolean): string {
  const e = end ? ' End="true"' : '';
  return `<rsp:Stream Name="${escapeXmlAttr(name)}" CommandId="${escapeXmlAttr(commandId)}"${e}>`;
}
const STREAM_END = '</rsp:Stream>';

/** rsp:CommandState; Done carries rsp:ExitCode when one is given (Windows omits it on errors, note 7). */
export function commandStateElement(
  commandId: string,
  state: 'Running' | 'Done',
  exitCode?: number | string,
): string {
  const uri = state === 'Done' ? COMMAND_STATES.done : COMMAND_STATES.running;
  const ec = state === 'Done' && exitCode !== undefined ? `<rsp:ExitCode>${exitCode}</rsp:ExitCode>` : '';
  return `<rsp:CommandState CommandId="${escapeXmlAttr(commandId)}" State="${uri}">${ec}</rsp:CommandState>`;
}

/** IdentifyResponse ([MS-WSMV] 3.1.4.16, notes 71-73): no addressing headers. */
export function buildIdentifyReply(opts: {
  /** `OS: <maj.min.build> SP: <d.d> Stack: <d.d>`. */
  productVersion: string;
  /** SecurityProfileName URIs. Default: none (no SecurityProfiles element). */
  securityProfiles?: readonly string[];
  /** The unauthenticated form: no xml:lang and `<s:Header/>` (knife-windows capture). Default: false. */
  unauthenticated?: boolean;
}): string {
  const profiles = opts.securityProfiles ?? [];
  const list =
    profiles.length === 0
      ? ''
      : `<wsmid:SecurityProfiles>${profiles
          .map((p) => `<wsmid:SecurityProfileName>${escapeXmlText(p)}</wsmid:SecurityProfileName>`)
          .join('')}</wsmid:SecurityProfiles>`;
  const head = opts.unauthenticated
    ? `<s:Envelope xmlns:s="${NS.s}"><s:Header/>`
    : `<s:Envelope xml:lang="en-US" xmlns:s="${NS.s}"><s:Header></s:Header>`;
  return (
    `${head}<s:Body><wsmid:IdentifyResponse xmlns:wsmid="${NS.wsmid}">` +
    `<wsmid:ProtocolVersion>http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd</wsmid:ProtocolVersion>` +
    `<wsmid:ProductVendor>Microsoft Corporation</wsmid:ProductVendor>` +
    `<wsmid:ProductVersion>${escapeXmlText(opts.productVersion)}</wsmid:ProductVersion>${list}` +
    `</wsmid:IdentifyResponse></s:Body></s:Envelope>`
  );
}

const FAULT_F_NS = 'http://schemas.microsoft.com/wbem/wsman/1/wsmanfault';
const FAULT_DETAIL = 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/';

/** A SOAP fault as Windows writes it. Texts are kept as given, trailing blanks included. */
export interface FaultSpec {
  /** SOAP Code value. */
  code: 'Sender' | 'Receiver' | 'MustUnderstand';
  /** Subcode as Windows writes it: `w:TimedOut`, `a:ActionNotSupported`, ...; '' for none. */
  subcode: string;
  reason: string;
  /** xml:lang of the Reason text. Default: the envelope's (Windows leaves it empty on schema faults). */
  reasonLang?: string;
  /** WSManFault Code; omitted for a plain SOAP fault (no f:WSManFault). */
  wsmanCode?: number;
  /** f:Message text. Default: the reason. */
  message?: string;
  /** w:FaultDetail URI suffix, e.g. 'UnexpectedSelectors' (full URIs are kept as they are). Default: none. */
  faultDetail?: string;
  /** Fault action. Default: the WS-Management fault action (addressing faults use the addressing one). */
  action?: string;
  /** s:NotUnderstood header of a MustUnderstand fault: `{ns}local` of the header. Default: none. */
  notUnderstood?: { ns: string; local: string };
}

export interface FaultContext {
  /** MessageID of the request; undefined when it had none (or could not be read). */
  relatesTo: string | undefined;
  /** f:WSManFault Machine: the host name or address the client addressed. */
  machine: string;
  /** Envelope xml:lang. Default: 'en-US'. */
  lang?: string;
  /** Our MessageID. Default: a fresh one. */
  messageId?: string;
}

/** A fault envelope (sent with HTTP 500). */
export function buildFault(spec: FaultSpec, ctx: FaultContext): string {
  const lang = ctx.lang ?? 'en-US';
  let detail = '';
  if (spec.wsmanCode !== undefined || spec.faultDetail !== undefined) {
    const uri = spec.faultDetail?.includes(':') ? spec.faultDetail : FAULT_DETAIL + spec.faultDetail;
    const fd = spec.faultDetail ? `<w:FaultDetail>${escapeXmlText(uri)}</w:FaultDetail>` : '';
    const wf =
      spec.wsmanCode === undefined
        ? ''
        : `<f:WSManFault xmlns:f="${FAULT_F_NS}" Code="${spec.wsmanCode}" Machine="${escapeXmlAttr(ctx.machine)}">` +
          `<f:Message>${escapeXmlText(spec.message ?? spec.reason)}</f:Message></f:WSManFault>`;
    detail = `<s:Detail>${fd}${wf}</s:Detail>`;
  }
  const sub = spec.subcode ? `<s:Subcode><s:Value>${escapeXmlText(spec.subcode)}</s:Value></s:Subcode>` : '';
  const nu = spec.notUnderstood;
  const extra = nu
    ? `<s:NotUnderstood qname="nu:${escapeXmlAttr(nu.local)}" xmlns:nu="${escapeXmlAttr(nu.ns)}"/>`
    : '';
  const head = replyHead(
    {
      action: spec.action ?? ACTIONS.wsmanFault,
      relatesTo: ctx.relatesTo,
      messageId: ctx.messageId,
      lang,
      kind: 'fault',
    },
    extra,
  );
  return (
    `${head}<s:Fault><s:Code><s:Value>s:${spec.code}</s:Value>${sub}</s:Code>` +
    `<s:Reason><s:Text xml:lang="${escapeXmlAttr(spec.reasonLang ?? lang)}">${escapeXmlText(spec.reason)}</s:Text></s:Reason>` +
    `${detail}</s:Fault>${REPLY_TAIL}`
  );
}
