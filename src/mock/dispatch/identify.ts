/**
 * Identify ([MS-WSMV] 3.1.4.16, notes 71-73). Authenticated: the real OS version and the SecurityProfiles of the
 * offered schemes. Unauthenticated (`WSMANIDENTIFY: unauthenticated`): `OS: 0.0.0 SP: 0.0 Stack: 3.0`, no profiles,
 * and the envelope without xml:lang and with `<s:Header/>` (knife-windows capture).
 */
import { NS } from '../../wsman/constants.ts';
import type { SoapMessage } from '../../wsman/response.ts';
import { child } from '../../wsman/xml.ts';
import { xmlEscape } from '../wire/envelope.ts';

export function isIdentify(msg: SoapMessage): boolean {
  return child(msg.body, 'wsmid', 'Identify') !== undefined;
}

function fields(productVersion: string): string {
  return (
    `<wsmid:ProtocolVersion>http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd</wsmid:ProtocolVersion>` +
    `<wsmid:ProductVendor>Microsoft Corporation</wsmid:ProductVendor>` +
    `<wsmid:ProductVersion>${xmlEscape(productVersion)}</wsmid:ProductVersion>`
  );
}

export function identifyResponse(opts: { osVersion: string; securityProfiles: readonly string[] }): string {
  const profiles =
    opts.securityProfiles.length === 0
      ? ''
      : `<wsmid:SecurityProfiles>${opts.securityProfiles
          .map((p) => `<wsmid:SecurityProfileName>${xmlEscape(p)}</wsmid:SecurityProfileName>`)
          .join('')}</wsmid:SecurityProfiles>`;
  return (
    `<s:Envelope xml:lang="en-US" xmlns:s="${NS.s}"><s:Header></s:Header><s:Body>` +
    `<wsmid:IdentifyResponse xmlns:wsmid="${NS.wsmid}">${fields(`OS: ${opts.osVersion} SP: 0.0 Stack: 3.0`)}${profiles}` +
    `</wsmid:IdentifyResponse></s:Body></s:Envelope>`
  );
}

export function unauthenticatedIdentifyResponse(): string {
  return (
    `<s:Envelope xmlns:s="${NS.s}"><s:Header/><s:Body>` +
    `<wsmid:IdentifyResponse xmlns:wsmid="${NS.wsmid}">${fields('OS: 0.0.0 SP: 0.0 Stack: 3.0')}` +
    `</wsmid:IdentifyResponse></s:Body></s:Envelope>`
  );
}
