/**
 * WS-Management constants as tables: namespaces, actions, resource URIs, signals, options, states.
 * Values are from [MS-WSMV] 2.2 and [DSP0226]; comments cite sections instead of narrating.
 */

/** Namespace table, keyed by the prefixes Windows itself uses ([MS-WSMV] 2.2). */
export const NS = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  a: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  w: 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd',
  p: 'http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd',
  rsp: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell',
  x: 'http://schemas.xmlsoap.org/ws/2004/09/transfer',
  n: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration',
  f: 'http://schemas.microsoft.com/wbem/wsman/1/wsmanfault',
  cfg: 'http://schemas.microsoft.com/wbem/wsman/1/config',
  wsmid: 'http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  b: 'http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd',
  e: 'http://schemas.xmlsoap.org/ws/2004/08/eventing',
  xml: 'http://www.w3.org/XML/1998/namespace',
} as const;
export type Prefix = keyof typeof NS;

/** WS-Addressing anonymous reply address ([MS-WSMV] 2.2.4.2 ReplyTo). */
export const ANONYMOUS_ADDRESS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';

const TRANSFER = 'http://schemas.xmlsoap.org/ws/2004/09/transfer';
const ENUMERATION = 'http://schemas.xmlsoap.org/ws/2004/09/enumeration';
const SHELL = 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell';

/** Action URIs ([MS-WSMV] 3.1.4). Invoke actions are `${resourceUri}/${method}`. */
export const ACTIONS = {
  create: `${TRANSFER}/Create`,
  createResponse: `${TRANSFER}/CreateResponse`,
  delete: `${TRANSFER}/Delete`,
  deleteResponse: `${TRANSFER}/DeleteResponse`,
  get: `${TRANSFER}/Get`,
  getResponse: `${TRANSFER}/GetResponse`,
  put: `${TRANSFER}/Put`,
  putResponse: `${TRANSFER}/PutResponse`,
  enumerate: `${ENUMERATION}/Enumerate`,
  enumerateResponse: `${ENUMERATION}/EnumerateResponse`,
  pull: `${ENUMERATION}/Pull`,
  pullResponse: `${ENUMERATION}/PullResponse`,
  release: `${ENUMERATION}/Release`,
  releaseResponse: `${ENUMERATION}/ReleaseResponse`,
  command: `${SHELL}/Command`,
  commandResponse: `${SHELL}/CommandResponse`,
  send: `${SHELL}/Send`,
  sendResponse: `${SHELL}/SendResponse`,
  receive: `${SHELL}/Receive`,
  receiveResponse: `${SHELL}/ReceiveResponse`,
  signal: `${SHELL}/Signal`,
  signalResponse: `${SHELL}/SignalResponse`,
  /** Action of a WS-Management fault ([MS-WSMV] 2.2.4.43). */
  wsmanFault: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/fault',
  /** Action of a WS-Addressing fault (ActionNotSupported, DestinationUnreachable...). */
  addressingFault: 'http://schemas.xmlsoap.org/ws/2004/08/addressing/fault',
} as const;

/** Resource URIs. */
export const RESOURCE_URIS = {
  cmd: `${SHELL}/cmd`,
  powershell: 'http://schemas.microsoft.com/powershell/Microsoft.PowerShell',
  wmi: 'http://schemas.microsoft.com/wbem/wsman/1/wmi',
  cimv2: 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2',
  config: 'http://schemas.microsoft.com/wbem/wsman/1/config',
} as const;

/** Signal codes ([MS-WSMV] 2.2.4.38). */
export const SIGNALS = {
  terminate: `${SHELL}/signal/terminate`,
  ctrl_c: `${SHELL}/signal/ctrl_c`,
  ctrl_break: `${SHELL}/signal/ctrl_break`,
} as const;
export type SignalName = keyof typeof SIGNALS;

/** Command states in ReceiveResponse ([MS-WSMV] 2.2.4.6). */
export const COMMAND_STATES = {
  done: `${SHELL}/CommandState/Done`,
  running: `${SHELL}/CommandState/Running`,
  pending: `${SHELL}/CommandState/Pending`,
} as const;

/** WinRS option names carried in w:OptionSet ([MS-WSMV] 2.2.4.37, 3.1.4.1.4). */
export const SHELL_OPTIONS = {
  noProfile: 'WINRS_NOPROFILE',
  codepage: 'WINRS_CODEPAGE',
  consoleModeStdin: 'WINRS_CONSOLEMODE_STDIN',
  skipCmdShell: 'WINRS_SKIP_CMD_SHELL',
} as const;

/** Dialect URIs for Enumerate filters. */
export const FILTER_DIALECTS = {
  wql: 'http://schemas.microsoft.com/wbem/wsman/1/WQL',
  selector: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter',
} as const;

/**
 * WSManFault codes by name: the decimal Code attribute of f:WSManFault ([MS-WSMV] 2.2.4.43; Windows' winerror.h).
 * The one place these numbers are written in src/; the client's remedies (faults.ts) and the mock's fault
 * writers (mock/wire/faults.ts) both key on these names.
 */
export const FAULT = {
  AccessDenied: 5,
  DestinationUnreachable: 2150858752,
  InvalidHeader: 2150858767,
  MessageInformationHeaderRequired: 2150858769,
  ActionNotSupported: 2150858771,
  CannotProcessFilter: 2150858778,
  ResponseTooLarge: 2150858790,
  TimedOut: 2150858793,
  AlreadyExists: 2150858803,
  SchemaValidationError: 2150858817,
  InvalidXml: 2150858819,
  MaxEnvelopeSizeTooLarge: 2150858823,
  ResponseExceedsMaxEnvelopeSize: 2150858824,
  ShellNotFound: 2150858843,
  MaxEnvelopeSizeTooSmall: 2150858878,
  InvalidTimeoutHeader: 2150858881,
  CertNotFound: 2150858882,
  ListenerAddressInvalid: 2150858889,
  QuotaMaxShells: 2150859173,
  QuotaMaxOperations: 2150859174,
  QuotaMaxCommandsPerShell: 2150859181,
} as const;
export type FaultName = keyof typeof FAULT;

/** Defaults shared by client and mock. */
export const DEFAULTS = {
  /** Windows Server 2012+ MaxEnvelopeSizekb = 500 ([MS-WSMV] 3.1.4.1.31 ... default configuration). */
  maxEnvelopeSize: 512_000,
  /** WinRM 2.0 (2008 R2) MaxEnvelopeSizekb = 150. */
  maxEnvelopeSizeLegacy: 153_600,
  operationTimeoutSeconds: 20,
  locale: 'en-US',
  httpPort: 5985,
  httpsPort: 5986,
  path: '/wsman',
} as const;

/** Header attribute and value Windows clients send for an unauthenticated Identify ([MS-WSMV] 3.1.4.16). */
export const IDENTIFY_UNAUTHENTICATED_HEADER = { name: 'WSMANIDENTIFY', value: 'unauthenticated' } as const;
