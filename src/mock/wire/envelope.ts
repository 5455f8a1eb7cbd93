/**
 * Response envelopes written as Windows writes them: compact (no whitespace), `xml:lang` on the Envelope, the
 * namespace declarations Windows puts on each kind of message (test/fixtures/*.xml), header order
 * Action, MessageID, To, RelatesTo. Written as strings so the sizes the Receive splitter computes are exact.
 */
import { randomUUID } from 'node:crypto';
import { ANONYMOUS_ADDRESS, NS } from '../../wsman/constants.ts';

/** Escape text content and attribute values. */
export function xmlEscape(s: string): string {
  return s.replace(/[&<>"]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;',
  );
}

/** Prefix sets Windows declares on the Envelope, per kind of message (from captured responses). */
export const PREFIX_SETS = {
  /** Create, Command, Send, Signal responses. */
  shell: ['s', 'a', 'x', 'w', 'rsp', 'p'],
  /** Receive responses. */
  receive: ['s', 'a', 'w', 'rsp', 'p'],
  /** Delete responses. */
  delete: ['s', 'a', 'w', 'p'],
  /** Faults. */
  fault: ['s', 'a', 'x', 'e', 'n', 'w', 'p'],
} as const satisfies Record<string, readonly (keyof typeof NS)[]>;

export interface EnvelopeHeader {
  action: string;
  /** MessageID of the request; omitted (no a:RelatesTo) when the request had none. */
  relatesTo: string | undefined;
  /** Envelope xml:lang. Default: 'en-US'. */
  lang?: string;
  prefixes: readonly (keyof typeof NS)[];
  /** Our MessageID. Default: a fresh upper-case `uuid:`. */
  messageId?: string;
  /** Extra header elements after a:RelatesTo (s:NotUnderstood). Default: none. */
  extraHeaders?: string;
}

export function newMessageId(): string {
  return `uuid:${randomUUID().toUpperCase()}`;
}

/** Opening part of an envelope up to and including `<s:Body>`. */
export function envelopeHead(h: EnvelopeHeader): string {
  const decls = h.prefixes.map((p) => ` xmlns:${p}="${NS[p]}"`).join('');
  const relates = h.relatesTo ? `<a:RelatesTo>${xmlEscape(h.relatesTo)}</a:RelatesTo>` : '';
  return (
    `<s:Envelope xml:lang="${xmlEscape(h.lang ?? 'en-US')}"${decls}><s:Header>` +
    `<a:Action>${xmlEscape(h.action)}</a:Action>` +
    `<a:MessageID>${h.messageId ?? newMessageId()}</a:MessageID>` +
    `<a:To>${ANONYMOUS_ADDRESS}</a:To>${relates}${h.extraHeaders ?? ''}</s:Header><s:Body>`
  );
}

export const ENVELOPE_TAIL = '</s:Body></s:Envelope>';

/** A complete envelope around a body string. */
export function envelope(h: EnvelopeHeader, body: string): string {
  return envelopeHead(h) + body + ENVELOPE_TAIL;
}
