/**
 * Writing response envelopes and faults in the form Windows sends them. Used by the mock endpoint and by tests;
 * the client never writes responses.
 */
import { create } from 'xmlbuilder2';
import { ACTIONS, ANONYMOUS_ADDRESS, NS } from './constants.ts';
import { type BodyWriter, xmlText } from './envelope.ts';

const REPLY_PREFIXES = ['s', 'a', 'x', 'w', 'rsp', 'p'] as const;

export interface ReplyHeader {
  action: string;
  /** Our own MessageID for the response. */
  messageId: string;
  /** MessageID of the request being answered. */
  relatesTo?: string;
  /** xml:lang on the Envelope (Windows sets it from the request's Locale). Default: 'en-US'. */
  lang?: string;
}

export function buildReply(header: ReplyHeader, body?: BodyWriter): string {
  const root = create({ version: '1.0', encoding: 'UTF-8' }).ele(NS.s, 's:Envelope');
  root.att(NS.xml, 'xml:lang', header.lang ?? 'en-US');
  for (const p of REPLY_PREFIXES) if (p !== 's') root.att(`xmlns:${p}`, NS[p]);
  const h = root.ele(NS.s, 's:Header');
  h.ele(NS.a, 'a:Action').txt(xmlText(header.action));
  h.ele(NS.a, 'a:MessageID').txt(xmlText(header.messageId));
  h.ele(NS.a, 'a:To').txt(xmlText(ANONYMOUS_ADDRESS));
  if (header.relatesTo) h.ele(NS.a, 'a:RelatesTo').txt(xmlText(header.relatesTo));
  const b = root.ele(NS.s, 's:Body');
  if (body) body(b);
  return root.end({ headless: false, prettyPrint: false });
}

export interface FaultSpec {
  /** 'Sender' or 'Receiver'. */
  code: 'Sender' | 'Receiver';
  /** Subcode as prefix:local with a prefix of {@link NS} (e.g. `w:TimedOut`, `a:ActionNotSupported`). */
  subcode: string;
  reason: string;
  /** WSManFault Code; omit for a plain SOAP fault. */
  wsmanCode?: number;
  machine?: string;
  /** Defaults to the reason. */
  message?: string;
  /** Fault action. Default: the WS-Management fault action. */
  action?: string;
}

export function buildFault(header: Omit<ReplyHeader, 'action'>, fault: FaultSpec): string {
  return buildReply({ ...header, action: fault.action ?? ACTIONS.wsmanFault }, (body) => {
    const f = body.ele(NS.s, 's:Fault');
    const code = f.ele(NS.s, 's:Code');
    code.ele(NS.s, 's:Value').txt(xmlText(`s:${fault.code}`));
    const [prefix] = fault.subcode.split(':');
    const sub = code.ele(NS.s, 's:Subcode').ele(NS.s, 's:Value');
    const ns = (NS as Record<string, string>)[prefix ?? ''];
    if (ns && prefix !== 'a' && prefix !== 'w' && prefix !== 's') sub.att(`xmlns:${prefix}`, ns);
    sub.txt(xmlText(fault.subcode));
    f.ele(NS.s, 's:Reason')
      .ele(NS.s, 's:Text')
      .att(NS.xml, 'xml:lang', header.lang ?? 'en-US')
      .txt(xmlText(fault.reason));
    if (fault.wsmanCode !== undefined) {
      const d = f.ele(NS.s, 's:Detail').ele(NS.f, 'f:WSManFault');
      d.att('xmlns:f', NS.f);
      d.att('Code', xmlText(String(fault.wsmanCode)));
      d.att('Machine', xmlText(fault.machine ?? 'localhost'));
      d.ele(NS.f, 'f:Message').txt(xmlText(fault.message ?? fault.reason));
    }
  });
}
