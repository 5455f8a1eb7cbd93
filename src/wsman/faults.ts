/**
 * SOAP fault parsing and the table of WSManFault codes we know, with names and remedies.
 * Codes are HRESULT-style values from the WSManFault Code attribute ([MS-WSMV] 2.2.4.43, Windows' winerror.h).
 */
import { WsmanFaultError } from '../errors.ts';
import { FAULT, NS } from './constants.ts';
import { allChildElements, attr, child, descendant, type Element, textOf } from './xml.ts';

export interface KnownFault {
  name: string;
  /** What it means in one line. */
  meaning: string;
  /** What to do about it. Quotes the seed documents' commands where they give one. */
  remedy: string;
}

/** Known WSManFault codes. Keys are the decimal Code attribute values Windows sends. */
export const KNOWN_FAULTS: Readonly<Record<number, KnownFault>> = {
  [FAULT.AccessDenied]: {
    name: 'AccessDenied',
    meaning: 'access is denied to the account for this resource',
    remedy:
      'use an account in the local Administrators or Remote Management Users group; for a local account ' +
      'over the network on a non-domain host, set LocalAccountTokenFilterPolicy=1',
  },
  [FAULT.TimedOut]: {
    name: 'TimedOut',
    meaning: 'no output within OperationTimeout',
    remedy: 'not an error for Receive: poll again; for other operations raise operationTimeout',
  },
  [FAULT.ShellNotFound]: {
    name: 'ShellNotFound',
    meaning: 'the shell or command id is unknown to the server (closed, idled out or never existed)',
    remedy: 'open a new shell; the library does this itself when a reused shell has gone away',
  },
  [FAULT.InvalidHeader]: {
    name: 'InvalidHeader',
    meaning: 'a SOAP header is missing, malformed or not understood',
    remedy: 'report this as a bug in the client; the request header was not accepted',
  },
  [FAULT.SchemaValidationError]: {
    name: 'SchemaValidationError',
    meaning: 'the request body does not match the WS-Management schema',
    remedy: 'report this as a bug in the client, with the debug log of the request',
  },
  [FAULT.CannotProcessFilter]: {
    name: 'CannotProcessFilter',
    meaning: 'the Enumerate filter cannot be processed',
    remedy: 'check the WQL query or selector filter syntax and the class name',
  },
  [FAULT.ResponseTooLarge]: {
    name: 'ResponseTooLarge',
    meaning: 'the service cannot build the response: it is larger than the maximum size allowed',
    remedy: 'ask for less per request (smaller enumeration pages), or raise maxEnvelopeSize',
  },
  [FAULT.MaxEnvelopeSizeTooLarge]: {
    name: 'MaxEnvelopeSizeTooLarge',
    meaning: 'the MaxEnvelopeSize in the request is larger than the service allows',
    remedy:
      'lower maxEnvelopeSize, or raise the server limit: winrm set winrm/config @{MaxEnvelopeSizekb="500"}',
  },
  [FAULT.ResponseExceedsMaxEnvelopeSize]: {
    name: 'ResponseExceedsMaxEnvelopeSize',
    meaning: "the response the service computed exceeds the request's MaxEnvelopeSize",
    remedy: 'raise maxEnvelopeSize in the connection options (Windows 2012+ accepts 512000)',
  },
  [FAULT.MaxEnvelopeSizeTooSmall]: {
    name: 'MaxEnvelopeSizeTooSmall',
    meaning: 'the MaxEnvelopeSize in the request is below the 8192-byte minimum',
    remedy: 'raise maxEnvelopeSize to at least 8192',
  },
  [FAULT.ActionNotSupported]: {
    name: 'ActionNotSupported',
    meaning: 'the service does not support this action for this resource',
    remedy:
      'check the resource URI and that its plugin is enabled on the server: winrm e winrm/config/plugin',
  },
  [FAULT.QuotaMaxShells]: {
    name: 'QuotaMaxShells',
    meaning: 'the user has too many shells open (MaxShellsPerUser)',
    remedy:
      'close shells left open by other tools, or raise the quota: ' +
      'winrm set winrm/config/winrs @{MaxShellsPerUser="30"}',
  },
  [FAULT.QuotaMaxOperations]: {
    name: 'QuotaMaxOperations',
    meaning: 'the user has too many operations (MaxConcurrentOperationsPerUser)',
    remedy:
      'the library reopens its shell when this happens; if it persists raise the quota: ' +
      'winrm set winrm/config/service @{MaxConcurrentOperationsPerUser="1500"}',
  },
  [FAULT.QuotaMaxCommandsPerShell]: {
    name: 'QuotaMaxCommandsPerShell',
    meaning: 'the shell has too many commands (MaxConcurrentCommandsPerShell)',
    remedy: 'the library reopens its shell; or raise the plugin quota MaxConcurrentCommandsPerShell',
  },
  [FAULT.AlreadyExists]: {
    name: 'AlreadyExists',
    meaning: 'the resource to create exists already (for a listener: one with this Address and Transport)',
    remedy:
      'change the existing one with set instead (winrm set winrm/config/Listener?Address=*+Transport=HTTPS ' +
      '@{...}), or delete it first (winrm delete winrm/config/Listener?Address=*+Transport=HTTPS)',
  },
  [FAULT.CertNotFound]: {
    name: 'CertNotFound',
    meaning: "no certificate with this thumbprint is in the local computer's Personal (My) store",
    remedy:
      'import the certificate into Cert:\\LocalMachine\\My, check the thumbprint (Get-ChildItem ' +
      'Cert:\\LocalMachine\\My) and pass it as CertificateThumbprint without spaces',
  },
  [FAULT.ListenerAddressInvalid]: {
    name: 'ListenerAddressInvalid',
    meaning: 'the listener Address selector is not *, IP:<address> or MAC:<address>',
    remedy: 'use Address=* (every address), Address=IP:192.0.2.10 or Address=MAC:...',
  },
};

/** Whether `err` is a WSManFault with one of these codes (values of {@link FAULT}). */
export function isFault(err: unknown, ...codes: number[]): err is WsmanFaultError {
  return err instanceof WsmanFaultError && err.faultCode !== undefined && codes.includes(err.faultCode);
}

/** Look up a code's name and remedy. */
export function knownFault(code: number | undefined): KnownFault | undefined {
  return code === undefined ? undefined : KNOWN_FAULTS[code];
}

/** Subcode local names that say something useful even without a WSManFault detail. */
const SUBCODE_REMEDIES: Readonly<Record<string, string>> = {
  AccessDenied: KNOWN_FAULTS[FAULT.AccessDenied]!.remedy,
  TimedOut: KNOWN_FAULTS[FAULT.TimedOut]!.remedy,
  ActionNotSupported: 'the server does not implement this action for this resource URI',
  DestinationUnreachable: 'check the resource URI and that the plugin for it is enabled on the server',
  InvalidSelectors: KNOWN_FAULTS[FAULT.ShellNotFound]!.remedy,
  EncodingLimit: KNOWN_FAULTS[FAULT.ResponseExceedsMaxEnvelopeSize]!.remedy,
  QuotaLimit: 'close shells and operations or raise the winrm/config quotas',
};

/** Resolve a QName value such as `w:TimedOut` against the element's in-scope namespaces. */
function resolveQName(el: Element, value: string): { local: string; qname: string } {
  const idx = value.indexOf(':');
  if (idx < 0) return { local: value, qname: value };
  const prefix = value.slice(0, idx);
  const local = value.slice(idx + 1);
  const ns = el.lookupNamespaceURI(prefix);
  return { local, qname: ns ? `{${ns}}${local}` : value };
}

/** Turn an s:Fault element into a WsmanFaultError. Never throws. */
export function faultFromElement(fault: Element, httpStatus?: number): WsmanFaultError {
  const code = child(fault, 's', 'Code');
  const codeValue = code ? child(code, 's', 'Value') : undefined;
  const sub = code ? child(code, 's', 'Subcode') : undefined;
  const subValue = sub ? child(sub, 's', 'Value') : undefined;
  const reasonEl = child(fault, 's', 'Reason');
  const reason = reasonEl ? textOf(child(reasonEl, 's', 'Text')) : undefined;
  const detail = child(fault, 's', 'Detail');
  const soapCode = codeValue ? resolveQName(codeValue, textOf(codeValue)).local : undefined;
  const subcode = subValue ? resolveQName(subValue, textOf(subValue)) : undefined;

  let faultCode: number | undefined;
  let machine: string | undefined;
  let faultMessage: string | undefined;
  let providerFault: string | undefined;
  let wmiError: Record<string, string> | undefined;
  if (detail) {
    const wsf = descendant(detail, 'f', 'WSManFault');
    if (wsf) {
      const c = attr(wsf, 'Code');
      faultCode = c !== undefined && /^\d+$/.test(c) ? Number(c) : undefined;
      machine = attr(wsf, 'Machine');
      const msg = child(wsf, 'f', 'Message');
      if (msg) {
        const pf = descendant(msg, 'f', 'ProviderFault');
        providerFault = pf ? flatText(pf) || undefined : undefined;
        faultMessage = flatText(msg) || undefined;
      }
    }
    const wmi = descendant(detail, null, 'MSFT_WmiError');
    if (wmi) {
      wmiError = {};
      for (const el of allChildElements(wmi)) wmiError[el.localName ?? ''] = textOf(el);
      if (faultCode === undefined) {
        const hr = /0x([0-9a-f]{8})/i.exec(wmiError.MessageID ?? '');
        const errCode = wmiError.error_Code;
        if (errCode && /^\d+$/.test(errCode)) faultCode = Number(errCode);
        else if (hr) faultCode = Number.parseInt(hr[1]!, 16);
      }
      faultMessage ??= wmiError.Message || undefined;
    }
  }
  const known = knownFault(faultCode);
  const remedy = known?.remedy ?? (subcode ? SUBCODE_REMEDIES[subcode.local] : undefined);
  return new WsmanFaultError(
    {
      faultCode,
      faultName: known?.name ?? subcode?.local,
      soapCode,
      subcode: subcode?.local,
      subcodeQName: subcode?.qname,
      reason: reason || undefined,
      machine,
      faultMessage,
      providerFault,
      wmiError,
      httpStatus,
    },
    remedy ? { remedy } : {},
  );
}

/** All text below an element, whitespace collapsed (ProviderFault nests elements inside f:Message). */
function flatText(el: Element): string {
  return (el.textContent ?? '').replace(/\s+/g, ' ').trim();
}

/** Namespace of SOAP 1.2 faults; exported for the mock. */
export const SOAP_NS = NS.s;
