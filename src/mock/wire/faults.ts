/**
 * The faults the mock answers, in the form Windows sends them (test/fixtures/fault-*.xml,
 * docs/windows-wire-facts.md). Handlers throw {@link MockFault}; the HTTP layer writes it with wsman/reply.ts
 * and HTTP 500. Reason and Message texts keep Windows' trailing blanks: clients that compare texts see the same bytes.
 */
import { ACTIONS, FAULT } from '../../wsman/constants.ts';
import { buildFault, type FaultSpec } from '../../wsman/reply.ts';

export interface MockFaultSpec extends FaultSpec {
  /** HTTP status. Default: 500 (Windows sends every SOAP fault with 500). */
  status?: number;
}

/** A fault to answer; thrown by handlers, written by the dispatcher. */
export class MockFault extends Error {
  readonly spec: MockFaultSpec;
  constructor(spec: MockFaultSpec) {
    super(
      `${spec.subcode}${spec.wsmanCode !== undefined ? ` ${spec.wsmanCode}` : ''}: ${spec.reason.trim()}`,
    );
    this.name = 'MockFault';
    this.spec = spec;
  }
  get status(): number {
    return this.spec.status ?? 500;
  }
}

/** Write a fault envelope: the shared writer ({@link buildFault}), under the name the HTTP layer calls. */
export const faultEnvelope: typeof buildFault = buildFault;

/** Windows' reason texts used by more than one fault (winrm.cmd prints them). */
export const CANNOT_PROCESS = 'The WS-Management service cannot process the request. ';
export const INVALID_SELECTORS_REASON =
  'The WS-Management service cannot process the request because the request contained invalid selectors for the resource. ';
const SCHEMA_REASON =
  'The SOAP XML in the message does not match the corresponding XML schema definition. Change the XML and retry. ';

/** Windows' faults, by situation. */
export const Faults = {
  timedOut: (): MockFault =>
    new MockFault({
      code: 'Receiver',
      subcode: 'w:TimedOut',
      reason:
        'The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  ',
      wsmanCode: FAULT.TimedOut,
    }),

  shellNotFound: (shellId: string): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'w:InvalidSelectors',
      reason: INVALID_SELECTORS_REASON,
      wsmanCode: FAULT.ShellNotFound,
      faultDetail: 'UnexpectedSelectors',
      message:
        `The request for the Windows Remote Shell with ShellId ${shellId} failed because the shell was not found on the server. ` +
        'Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server. ' +
        'Provide the correct ShellId or create a new shell and retry the operation. ',
    }),

  commandNotFound: (): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'w:InvalidSelectors',
      reason: INVALID_SELECTORS_REASON,
      wsmanCode: FAULT.ShellNotFound,
      faultDetail: 'UnexpectedSelectors',
      message:
        'The Windows Remote Shell received a request to perform an operation on a command identifier that does not exist. ' +
        'Either the command has completed execution or the client specified an invalid command identifier. ',
    }),

  actionNotSupported: (): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'a:ActionNotSupported',
      reason: 'The WS-Management service does not support the action specified in the request. ',
      wsmanCode: FAULT.ActionNotSupported,
      action: ACTIONS.addressingFault,
    }),

  /** Schema validation (2150858817): `detail` is the f:Message text Windows gives for the specific problem. */
  schema: (detail?: string): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'w:SchemaValidationError',
      reason: SCHEMA_REASON,
      reasonLang: '',
      wsmanCode: FAULT.SchemaValidationError,
      message: detail ?? SCHEMA_REASON,
    }),

  /** An element of a WinRS body the shell plugin does not accept (Windows names it in the message). */
  invalidShellElement: (element: string): MockFault =>
    Faults.schema(
      `The Windows Remote Shell cannot process the request. The SOAP packet contains an element ${element} that is invalid. ` +
        'Retry the request with the correct XML element. ',
    ),

  responseTooLarge: (): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'w:EncodingLimit',
      reason:
        'The response that the WS-Management service computed exceeds the maximum envelope size in the request. ',
      wsmanCode: FAULT.ResponseExceedsMaxEnvelopeSize,
      faultDetail: 'MaxEnvelopeSize',
    }),

  quotaShells: (max: number): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'w:QuotaLimit',
      reason:
        `${CANNOT_PROCESS}The maximum number of concurrent shells for this user has been exceeded. ` +
        'Close existing shells or raise the quota for this user. ',
      wsmanCode: FAULT.QuotaMaxShells,
      message:
        `${CANNOT_PROCESS}This user is allowed a maximum number of ${max} concurrent shells, which has been exceeded. ` +
        'Close existing shells or raise the quota for this user. ',
    }),

  quotaOperations: (max: number): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'w:QuotaLimit',
      reason:
        `${CANNOT_PROCESS}The maximum number of concurrent operations for this user has been exceeded. ` +
        'Close existing operations for this user, or raise the quota for this user. ',
      wsmanCode: FAULT.QuotaMaxOperations,
      message:
        `${CANNOT_PROCESS}This user is allowed a maximum number of ${max} concurrent operations, which has been exceeded. ` +
        'Close existing operations for this user, or raise the quota for this user. ',
    }),

  /** Unknown resource URI: captured from Windows 2012 R2 (OMI's wsman parser tests replay it). */
  resourceNotFound: (): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'a:DestinationUnreachable',
      reason: `${CANNOT_PROCESS}The service cannot find the resource identified by the resource URI and selectors. `,
      wsmanCode: FAULT.DestinationUnreachable,
      faultDetail: 'InvalidResourceURI',
      action: ACTIONS.addressingFault,
    }),

  /** A header that is present but malformed (ERROR_WSMAN_INVALID_MESSAGE_INFORMATION_HEADER). */
  invalidHeader: (): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'a:InvalidMessageInformationHeader',
      reason: `${CANNOT_PROCESS}The request contains one or more invalid SOAP headers. `,
      wsmanCode: FAULT.InvalidHeader,
      action: ACTIONS.addressingFault,
    }),

  /** A required header is missing (ERROR_WSMAN_MESSAGE_INFORMATION_HEADER_REQUIRED). */
  missingHeader: (): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'a:MessageInformationHeaderRequired',
      reason: `${CANNOT_PROCESS}The request does not have all the expected SOAP headers. `,
      wsmanCode: FAULT.MessageInformationHeaderRequired,
      action: ACTIONS.addressingFault,
    }),

  /** A mustUnderstand="true" header the service does not know (SOAP 1.2 5.4.8). */
  mustUnderstand: (ns: string, local: string): MockFault =>
    new MockFault({
      code: 'MustUnderstand',
      subcode: '',
      reason:
        'The WS-Management service cannot process a SOAP header in the request that is marked as mustUnderstand by the client. ' +
        'This could be caused by the use of a version of the protocol which is not supported, or may be an incompatibility ' +
        'between the client and server implementations. ',
      action: ACTIONS.addressingFault,
      notUnderstood: { ns, local },
    }),

  /** MaxEnvelopeSize below 8192 ([MS-WSMV] 3.1.4.1.7). */
  envelopeLimitTooSmall: (): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'w:EncodingLimit',
      reason:
        'The WS-Management service cannot process the request because the envelope size in the request is too small. ',
      wsmanCode: FAULT.MaxEnvelopeSizeTooSmall,
      faultDetail: 'MinimumEnvelopeLimit',
    }),

  /** Missing ShellId selector (Openwsman#83 shows the message). */
  missingShellSelector: (): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'w:InvalidSelectors',
      reason: INVALID_SELECTORS_REASON,
      wsmanCode: FAULT.ShellNotFound,
      faultDetail: 'UnexpectedSelectors',
      message:
        'The Windows Remote Shell cannot process the request because it requires the following selector: ShellId. ' +
        'Retry with the correct selector.',
    }),

  /** MaxConcurrentCommandsPerShell: the exact Windows fault is unconfirmed; QuotaLimit with the plugin code. */
  quotaCommands: (max: number): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'w:QuotaLimit',
      reason:
        `${CANNOT_PROCESS}The maximum number of concurrent commands per shell has been exceeded. ` +
        'Retry after some time or raise the quota for concurrent commands per shell. ',
      wsmanCode: FAULT.QuotaMaxCommandsPerShell,
      message:
        `${CANNOT_PROCESS}This shell is allowed a maximum number of ${max} concurrent commands, which has been exceeded. ` +
        'Close existing commands or raise the quota. ',
    }),

  /** w:InvalidParameter (masterzen/winrm#80 capture): a value the service cannot use. */
  invalidParameter: (): MockFault =>
    new MockFault({ code: 'Sender', subcode: 'w:InvalidParameter', reason: 'The parameter is incorrect. ' }),

  /** Not well-formed XML (ERROR_WSMAN_INVALID_XML); the subcode is our choice, Windows' is unconfirmed. */
  invalidXml: (): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'w:SchemaValidationError',
      reason: SCHEMA_REASON,
      reasonLang: '',
      wsmanCode: FAULT.InvalidXml,
      message: 'The WS-Management service cannot process the request because the XML is invalid. ',
    }),

  /** An OperationTimeout that is not an xs:duration (ERROR_WSMAN_INVALID_TIMEOUT_HEADER). */
  invalidTimeoutHeader: (): MockFault =>
    new MockFault({
      code: 'Sender',
      subcode: 'a:InvalidMessageInformationHeader',
      reason: `${CANNOT_PROCESS}The request contains one or more invalid SOAP headers. `,
      wsmanCode: FAULT.InvalidTimeoutHeader,
      message:
        'The WS-Management service cannot process the request because the timeout header in the request is invalid. ',
      action: ACTIONS.addressingFault,
    }),

  accessDenied: (): MockFault =>
    new MockFault({ code: 'Sender', subcode: 'w:AccessDenied', reason: 'Access is denied. ', wsmanCode: 5 }),

  internalError: (): MockFault =>
    new MockFault({
      code: 'Receiver',
      subcode: 'w:InternalError',
      reason: 'The WS-Management service cannot process the request. ',
    }),
} as const;
