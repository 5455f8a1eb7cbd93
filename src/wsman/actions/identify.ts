/** Identify ([MS-WSMV] 3.1.4.16, [DSP0226] 11): no addressing headers, body wsmid:Identify. */
import { create } from 'xmlbuilder2';
import { NS } from '../constants.ts';
import { bodyElement, type SoapMessage } from '../response.ts';
import { child, childElements, textOf } from '../xml.ts';

/** The Identify request. Send it with the header `WSMANIDENTIFY: unauthenticated` to skip authentication. */
export function buildIdentify(): string {
  const root = create({ version: '1.0', encoding: 'UTF-8' }).ele(NS.s, 's:Envelope');
  root.att('xmlns:wsmid', NS.wsmid);
  root.ele(NS.s, 's:Header');
  root.ele(NS.s, 's:Body').ele(NS.wsmid, 'wsmid:Identify');
  return root.end({ headless: false, prettyPrint: false });
}

export interface IdentifyResult {
  protocolVersion: string;
  productVendor: string;
  productVersion: string;
  /** Parsed from Windows' `OS: 10.0.17763 SP: 0.0 Stack: 3.0`, when in that form. */
  os?: string;
  servicePack?: string;
  stack?: string;
  securityProfiles: string[];
}

export function parseIdentifyResponse(msg: SoapMessage): IdentifyResult {
  const resp = bodyElement(msg, 'wsmid', 'IdentifyResponse', 'Identify response');
  const field = (name: string): string => textOf(child(resp, 'wsmid', name));
  const productVersion = field('ProductVersion');
  const result: IdentifyResult = {
    protocolVersion: field('ProtocolVersion'),
    productVendor: field('ProductVendor'),
    productVersion,
    securityProfiles: [],
  };
  const m = /OS:\s*(\S+)\s+SP:\s*(\S+)\s+Stack:\s*(\S+)/.exec(productVersion);
  if (m) {
    result.os = m[1];
    result.servicePack = m[2];
    result.stack = m[3];
  }
  const profiles = child(resp, 'wsmid', 'SecurityProfiles');
  if (profiles) {
    for (const p of childElements(profiles, 'wsmid', 'SecurityProfileName'))
      result.securityProfiles.push(textOf(p));
  }
  return result;
}
