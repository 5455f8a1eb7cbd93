/**
 * Faults of the resource layer, in the form Windows' WMI plugin and WS-Enumeration answer them. Reasons are the
 * texts `winrm.cmd` prints for the same situations (Windows Server 2016-2022, en-US); where a detail or code is
 * unconfirmed by a capture the comment says so.
 */
import { ACTIONS, FAULT } from '../../wsman/constants.ts';
import { CANNOT_PROCESS, INVALID_SELECTORS_REASON, MockFault } from '../wire/faults.ts';

export const ResourceFaults = {
  /**
   * WS-Transfer Create of a resource that exists (`winrm create winrm/config/Listener?Address=*+Transport=HTTP`
   * on a machine that has it): winerror.h ERROR_WSMAN_ALREADY_EXISTS 0x80338033, "code=Sender,
   * subcode=WS-Management AlreadyExists" (DSP0226 7.5: wsman:AlreadyExists).
   */
  alreadyExists: (): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'w:AlreadyExists',
      reason: 'The WS-Management service cannot create the resource because it already exists. ',
      wsmanCode: FAULT.AlreadyExists,
      message: 'The WS-Management service cannot create the resource because it already exists. ',
    }),

  /**
   * An HTTPS listener naming a CertificateThumbprint the machine has no certificate for: winerror.h
   * ERROR_WSMAN_CERT_NOT_FOUND 0x80338082 (2150858882, the code WEF logs show with this text). The SOAP subcode is
   * unconfirmed by a capture; w:InvalidParameter is the mock's choice.
   */
  certificateNotFound: (): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'w:InvalidParameter',
      reason: 'The WS-Management service cannot find the certificate that was requested. ',
      wsmanCode: FAULT.CertNotFound,
      message: 'The WS-Management service cannot find the certificate that was requested. ',
    }),

  /** A listener Address other than `*`, `IP:<address>`, `MAC:<address>`: ERROR_WSMAN_LISTENER_ADDRESS_INVALID. */
  listenerAddressInvalid: (): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'w:InvalidParameter',
      reason:
        'The listener address specified is invalid. The address can be specified in one of the following ' +
        'formats: *, IP:<ip_address>, MAC:<mac_address>. Change the listener address and try the request again. ',
      wsmanCode: FAULT.ListenerAddressInvalid,
      message:
        'The listener address specified is invalid. The address can be specified in one of the following ' +
        'formats: *, IP:<ip_address>, MAC:<mac_address>. Change the listener address and try the request again. ',
    }),

  /**
   * w:FragmentTransfer on a resource that does not support fragments. [MS-WSMV] 3.1.4.1.18: Windows accepts
   * fragment expressions only for CIM/WMI resource URIs (`http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/`,
   * `http://schemas.microsoft.com/wbem/wsman/1/wmi/root/`) and MUST return a fault when a resource supports the
   * WS-Transfer operation but not the header; DSP0226 R7.7-1 names that fault: wsman:UnsupportedFeature with
   * the FragmentLevelAccess detail. The Windows error code is unconfirmed by a capture, so none is sent.
   */
  fragmentUnsupported: (): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'w:UnsupportedFeature',
      reason: `${CANNOT_PROCESS}The resource does not support fragment-level access. `,
      faultDetail: 'FragmentLevelAccess',
    }),

  /**
   * A class the WMI namespace does not have: `winrm get wmicimv2/Win32_Nope` prints "The WMI service returned an
   * 'invalid class' error" with 0x80338000 (ERROR_WSMAN_RESOURCE_NOT_FOUND = DestinationUnreachable).
   */
  invalidClass: (): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'a:DestinationUnreachable',
      reason: `${CANNOT_PROCESS}The WMI service returned an 'invalid class' error. `,
      wsmanCode: FAULT.DestinationUnreachable,
      faultDetail: 'InvalidResourceURI',
      action: ACTIONS.addressingFault,
    }),

  /** A selector name the class has no key of (DSP0226 R5.1.2.1-2: w:InvalidSelectors, UnexpectedSelectors). */
  unexpectedSelectors: (): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'w:InvalidSelectors',
      reason: INVALID_SELECTORS_REASON,
      wsmanCode: FAULT.ShellNotFound, // 2150858843 ERROR_WSMAN_INVALID_SELECTORS, the shell plugin's code too
      faultDetail: 'UnexpectedSelectors',
    }),

  /** Keys missing for a class with several instances (DSP0226 R5.1.2.1-3: InsufficientSelectors). */
  insufficientSelectors: (): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'w:InvalidSelectors',
      reason: INVALID_SELECTORS_REASON,
      wsmanCode: FAULT.ShellNotFound,
      faultDetail: 'InsufficientSelectors',
    }),

  /**
   * Selectors that name no instance. Windows' WMI plugin answers InvalidSelectors for a key value WMI does not
   * find (`winrm get wmicimv2/Win32_Service?Name=nope`); the detail is unconfirmed, so none is sent.
   */
  noSuchInstance: (): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'w:InvalidSelectors',
      reason: INVALID_SELECTORS_REASON,
      wsmanCode: FAULT.ShellNotFound,
    }),

  /** A WQL text WMI cannot parse: "The WMI service returned an 'invalid query' error" (wsen:CannotProcessFilter). */
  invalidQuery: (): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'n:CannotProcessFilter',
      reason: `${CANNOT_PROCESS}The WMI service returned an 'invalid query' error. `,
      wsmanCode: FAULT.CannotProcessFilter,
    }),

  /** A dialect the resource does not take (WS-Enumeration 4.1: wsen:FilterDialectRequestedUnavailable). */
  dialectUnavailable: (): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'n:FilterDialectRequestedUnavailable',
      reason: `${CANNOT_PROCESS}The filter dialect in the request is not supported. `,
      wsmanCode: FAULT.CannotProcessFilter,
    }),

  /**
   * A method the class does not define. WMI says "invalid method"; the WS-Management subcode (ActionNotSupported:
   * the action URI names the method) follows DSP0226 R9.1-2, the exact Windows text is unconfirmed.
   */
  invalidMethod: (): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'a:ActionNotSupported',
      reason: `${CANNOT_PROCESS}The WMI service returned an 'invalid method' error. `,
      wsmanCode: FAULT.ActionNotSupported,
      action: ACTIONS.addressingFault,
    }),

  /** A Pull or Release of a context that never existed, was released, finished or expired (WS-Enumeration 3.2). */
  invalidContext: (): MockFault =>
    new MockFault({
      code: 'Receiver',
      subcode: 'n:InvalidEnumerationContext',
      reason: 'The enumeration context supplied in the message is not valid. ',
    }),

  /** A Put changing a property the class does not let WMI write (unconfirmed detail: the generic parameter fault). */
  readOnlyProperty: (name: string): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'w:InvalidParameter',
      reason: `${CANNOT_PROCESS}The WMI service returned a 'read-only property' error for ${name}. `,
    }),
} as const;
