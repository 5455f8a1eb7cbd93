/**
 * Identify ([MS-WSMV] 3.1.4.16, notes 71-73). Authenticated: the real OS version and the SecurityProfiles of the
 * offered schemes. Unauthenticated (`WSMANIDENTIFY: unauthenticated`): `OS: 0.0.0 SP: 0.0 Stack: 3.0`, no profiles,
 * and the envelope without xml:lang and with `<s:Header/>` (knife-windows capture).
 */
import { buildIdentifyReply } from '../../wsman/reply.ts';
import type { SoapMessage } from '../../wsman/response.ts';
import { child } from '../../wsman/xml.ts';

export function isIdentify(msg: SoapMessage): boolean {
  return child(msg.body, 'wsmid', 'Identify') !== undefined;
}

export function identifyResponse(opts: { osVersion: string; securityProfiles: readonly string[] }): string {
  return buildIdentifyReply({
    productVersion: `OS: ${opts.osVersion} SP: 0.0 Stack: 3.0`,
    securityProfiles: opts.securityProfiles,
  });
}

export function unauthenticatedIdentifyResponse(): string {
  return buildIdentifyReply({ productVersion: 'OS: 0.0.0 SP: 0.0 Stack: 3.0', unauthenticated: true });
}
