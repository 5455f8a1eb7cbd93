/**
 * Reading a response envelope: structure checks, RelatesTo check, faults turned into WsmanFaultError.
 * Action parsers (wsman/actions/*) take the {@link SoapMessage} this returns.
 */
import { ProtocolError } from '../errors.ts';
import { NS } from './constants.ts';
import { faultFromElement } from './faults.ts';
import { child, type Document, type Element, parseXml, textOf } from './xml.ts';

export interface SoapMessage {
  doc: Document;
  envelope: Element;
  header: Element | undefined;
  body: Element;
  action: string | undefined;
  messageId: string | undefined;
  relatesTo: string | undefined;
}

export interface ParseResponseOptions {
  /** The MessageID of the request; the response's RelatesTo must match (case-insensitive). */
  relatesTo?: string;
  /** Size cap in bytes. Default: DEFAULT_MAX_RESPONSE_BYTES (4 x 512,000). */
  maxBytes?: number;
  /** HTTP status the body came with, recorded on faults. */
  httpStatus?: number;
  /** Name of the expected message, for errors, e.g. "Receive response". */
  what?: string;
}

/** Parse a SOAP message without interpreting faults (the mock uses this for requests). */
export function parseSoap(input: string | Buffer, options: ParseResponseOptions = {}): SoapMessage {
  const what = options.what ?? 'response';
  const doc = parseXml(input, { maxBytes: options.maxBytes, what });
  const envelope = doc.documentElement!;
  if (envelope.localName !== 'Envelope' || envelope.namespaceURI !== NS.s) {
    const found = `{${envelope.namespaceURI ?? ''}}${envelope.localName}`;
    throw new ProtocolError(`The ${what} is not a SOAP 1.2 envelope (root element ${found})`);
  }
  const header = child(envelope, 's', 'Header');
  const body = child(envelope, 's', 'Body');
  if (!body) throw new ProtocolError(`The ${what} has no s:Body`);
  const hdr = (local: string): string | undefined => {
    if (!header) return undefined;
    const el = child(header, 'a', local);
    return el ? textOf(el) : undefined;
  };
  return {
    doc,
    envelope,
    header,
    body,
    action: hdr('Action'),
    messageId: hdr('MessageID'),
    relatesTo: hdr('RelatesTo'),
  };
}

/**
 * Parse a response: a SOAP fault becomes a thrown WsmanFaultError; otherwise RelatesTo is checked against the
 * request's MessageID (a missing or different RelatesTo is a ProtocolError: the answer is not to our request).
 */
export function parseResponse(input: string | Buffer, options: ParseResponseOptions = {}): SoapMessage {
  const msg = parseSoap(input, options);
  const fault = child(msg.body, 's', 'Fault');
  if (fault) throw faultFromElement(fault, options.httpStatus);
  if (options.relatesTo !== undefined) {
    const want = options.relatesTo.toLowerCase();
    if (msg.relatesTo === undefined) {
      throw new ProtocolError(
        `The ${options.what ?? 'response'} has no a:RelatesTo header; expected ${want}`,
      );
    }
    if (msg.relatesTo.toLowerCase() !== want) {
      throw new ProtocolError(
        `The ${options.what ?? 'response'} relates to ${msg.relatesTo}, not to the request ${options.relatesTo}`,
      );
    }
  }
  return msg;
}

/** The first element child of s:Body with the given name, or a ProtocolError naming what was expected. */
export function bodyElement(
  msg: SoapMessage,
  prefix: keyof typeof NS,
  localName: string,
  what: string,
): Element {
  const el = child(msg.body, prefix, localName);
  if (!el) {
    throw new ProtocolError(`The ${what} has no ${prefix}:${localName} in s:Body (namespace ${NS[prefix]})`);
  }
  return el;
}
