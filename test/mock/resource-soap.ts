/** Hand-written WS-Management requests for the resource tests (written like wsl and winrm.cmd send them). */
import { randomUUID } from 'node:crypto';
import { parseSoap, type SoapMessage } from '../../src/wsman/response.ts';

const T = 'http://schemas.xmlsoap.org/ws/2004/09/transfer';
const E = 'http://schemas.xmlsoap.org/ws/2004/09/enumeration';

export interface SoapOpts {
  action: string;
  resourceUri: string;
  selectors?: Record<string, string>;
  body?: string;
  maxEnvelopeSize?: number;
}

export function soap(o: SoapOpts): string {
  const sels = Object.entries(o.selectors ?? {})
    .map(([k, v]) => `<w:Selector Name="${k}">${v}</w:Selector>`)
    .join('');
  return (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
    `xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:n="${E}" xmlns:x="${T}"><s:Header>` +
    '<a:To>http://127.0.0.1/wsman</a:To>' +
    `<w:ResourceURI s:mustUnderstand="true">${o.resourceUri}</w:ResourceURI>` +
    '<a:ReplyTo><a:Address s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>' +
    `<a:Action s:mustUnderstand="true">${o.action}</a:Action>` +
    `<w:MaxEnvelopeSize s:mustUnderstand="true">${o.maxEnvelopeSize ?? 512000}</w:MaxEnvelopeSize>` +
    `<a:MessageID>uuid:${randomUUID().toUpperCase()}</a:MessageID><w:OperationTimeout>PT60S</w:OperationTimeout>` +
    `${sels ? `<w:SelectorSet>${sels}</w:SelectorSet>` : ''}</s:Header><s:Body>${o.body ?? ''}</s:Body></s:Envelope>`
  );
}

export const A = {
  get: `${T}/Get`,
  put: `${T}/Put`,
  enumerate: `${E}/Enumerate`,
  pull: `${E}/Pull`,
  release: `${E}/Release`,
};

export function enumerateBody(
  o: { optimize?: boolean; max?: number; filter?: string; dialect?: string; mode?: string } = {},
): string {
  const filter =
    o.filter !== undefined
      ? `<w:Filter${o.dialect ? ` Dialect="${o.dialect}"` : ''}>${o.filter}</w:Filter>`
      : '';
  return (
    `<n:Enumerate>${o.optimize ? '<w:OptimizeEnumeration/>' : ''}` +
    `${o.max !== undefined ? `<w:MaxElements>${o.max}</w:MaxElements>` : ''}` +
    `${o.mode ? `<w:EnumerationMode>${o.mode}</w:EnumerationMode>` : ''}${filter}</n:Enumerate>`
  );
}

export function pullBody(context: string, max?: number): string {
  return `<n:Pull><n:EnumerationContext>${context}</n:EnumerationContext>${max ? `<n:MaxElements>${max}</n:MaxElements>` : ''}</n:Pull>`;
}

export function releaseBody(context: string): string {
  return `<n:Release><n:EnumerationContext>${context}</n:EnumerationContext></n:Release>`;
}

export function parse(body: string): SoapMessage {
  return parseSoap(body);
}

/** The EnumerationContext text of a response, or undefined when absent. */
export function contextOf(body: string): string | undefined {
  return /<n:EnumerationContext>([^<]*)<\/n:EnumerationContext>/.exec(body)?.[1];
}

/** Fault subcode and WSManFault Code of a fault body. */
export function faultOf(body: string): {
  subcode: string | undefined;
  code: string | undefined;
  detail: string | undefined;
} {
  return {
    subcode: /<s:Subcode><s:Value>([^<]*)<\/s:Value>/.exec(body)?.[1],
    code: /<f:WSManFault[^>]* Code="(\d+)"/.exec(body)?.[1],
    detail: /<w:FaultDetail>([^<]*)<\/w:FaultDetail>/.exec(body)?.[1],
  };
}
