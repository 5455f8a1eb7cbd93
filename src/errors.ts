/**
 * Error hierarchy. Every error thrown by this library is a {@link WinRmError} with a stable string `code`
 * (safe to switch on across versions) and a human message that names the problem and, where one is known,
 * the fix. Secrets never appear in messages: callers pass redacted context only.
 */

/** Stable error codes. Never renamed once released. */
export const ErrorCodes = {
  generic: 'WINRM_ERROR',
  fault: 'WINRM_WSMAN_FAULT',
  http: 'WINRM_HTTP',
  auth: 'WINRM_AUTH',
  timeout: 'WINRM_TIMEOUT',
  aborted: 'WINRM_ABORTED',
  transfer: 'WINRM_TRANSFER',
  invalidArgument: 'WINRM_INVALID_ARGUMENT',
  protocol: 'WINRM_PROTOCOL',
  connection: 'WINRM_CONNECTION',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface WinRmErrorOptions {
  cause?: unknown;
  /** What the user can do about it; appended to the message. */
  remedy?: string;
}

/** Base class of every error this library throws. */
export class WinRmError extends Error {
  readonly code: ErrorCode;
  /** Suggested fix, when one is known (also part of `message`). */
  readonly remedy: string | undefined;

  constructor(message: string, options: WinRmErrorOptions = {}, code: ErrorCode = ErrorCodes.generic) {
    super(options.remedy ? `${message}. Fix: ${options.remedy}` : message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.remedy = options.remedy;
  }
}

export interface WsmanFaultDetails {
  /** Numeric WSManFault code ([MS-WSMV] 2.2.4.43), e.g. 2150858793. Undefined for plain SOAP faults. */
  faultCode?: number;
  /** Our name for a known fault code, e.g. `TimedOut`. */
  faultName?: string;
  /** SOAP Code value, e.g. `s:Receiver` (local name only: `Receiver`). */
  soapCode?: string;
  /** SOAP Subcode local name, e.g. `TimedOut`, `InvalidSelectors`, `AccessDenied`. */
  subcode?: string;
  /** Full subcode as `{namespace}local`. */
  subcodeQName?: string;
  /** SOAP Reason text. */
  reason?: string;
  /** WSManFault Machine attribute. */
  machine?: string;
  /** WSManFault Message text. */
  faultMessage?: string;
  /** ProviderFault text, when a provider (WMI, a plugin) reported the error. */
  providerFault?: string;
  /** MSFT_WmiError fields, when present. */
  wmiError?: Record<string, string>;
  /** HTTP status the fault came with (Windows uses 500, or 400 for some header errors). */
  httpStatus?: number;
}

/** A SOAP fault answered by the WinRM service. */
export class WsmanFaultError extends WinRmError {
  readonly faultCode: number | undefined;
  readonly faultName: string | undefined;
  readonly soapCode: string | undefined;
  readonly subcode: string | undefined;
  readonly subcodeQName: string | undefined;
  readonly reason: string | undefined;
  readonly machine: string | undefined;
  readonly faultMessage: string | undefined;
  readonly providerFault: string | undefined;
  readonly wmiError: Record<string, string> | undefined;
  readonly httpStatus: number | undefined;

  constructor(details: WsmanFaultDetails, options: WinRmErrorOptions = {}) {
    const what = details.faultMessage || details.reason || details.providerFault || 'WS-Management fault';
    const tag = [
      details.faultName,
      details.faultCode === undefined ? undefined : String(details.faultCode),
      details.subcode && details.subcode !== details.faultName ? details.subcode : undefined,
    ]
      .filter(Boolean)
      .join(' ');
    const where = details.machine ? ` (machine ${details.machine})` : '';
    super(`WinRM fault${tag ? ` ${tag}` : ''}${where}: ${what.trim()}`, options, ErrorCodes.fault);
    this.faultCode = details.faultCode;
    this.faultName = details.faultName;
    this.soapCode = details.soapCode;
    this.subcode = details.subcode;
    this.subcodeQName = details.subcodeQName;
    this.reason = details.reason;
    this.machine = details.machine;
    this.faultMessage = details.faultMessage;
    this.providerFault = details.providerFault;
    this.wmiError = details.wmiError;
    this.httpStatus = details.httpStatus;
  }
}

/**
 * Mask secrets, in place, in an error built from a server's answer: its message, stack and every string field
 * (fault reason, message, provider fault, WMI error fields, body excerpt). A server that echoes what it was sent
 * (a command line in a fault, request headers in a proxy's error page) cannot put a secret into it. Errors that
 * are not {@link WinRmError}s are returned untouched.
 */
export function redactError<E>(err: E, redact: (text: string) => string): E {
  if (!(err instanceof WinRmError)) return err;
  const fields = err as unknown as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (key === 'code' || key === 'name') continue; // ours, never the server's
    const value = fields[key];
    if (typeof value === 'string') fields[key] = redact(value);
    else if (key === 'wmiError' && value && typeof value === 'object') {
      const wmi = value as Record<string, unknown>;
      for (const k of Object.keys(wmi)) if (typeof wmi[k] === 'string') wmi[k] = redact(wmi[k] as string);
    }
  }
  err.message = redact(err.message);
  if (err.stack) err.stack = redact(err.stack);
  return err;
}

/** An HTTP answer that is neither a SOAP response nor a SOAP fault. */
export class HttpError extends WinRmError {
  readonly status: number;
  /**
   * First characters of the body (at most 512), for diagnosis. The connection masks its secrets, their
   * encoded forms and any Authorization value before the cut (DebugLog.excerpt), so a server or proxy that
   * echoes the request cannot put the credentials here.
   */
  readonly bodyExcerpt: string;

  constructor(status: number, bodyExcerpt: string, message?: string, options: WinRmErrorOptions = {}) {
    const excerpt = bodyExcerpt.slice(0, 512);
    super(
      message ?? `HTTP ${status} from the WinRM service${excerpt ? `: ${excerpt}` : ''}`,
      options,
      ErrorCodes.http,
    );
    this.status = status;
    this.bodyExcerpt = excerpt;
  }
}

/** Credentials refused, or no common authentication scheme. */
export class AuthenticationError extends WinRmError {
  /** Schemes the server offered in WWW-Authenticate, when known. */
  readonly offeredSchemes: readonly string[];

  constructor(message: string, options: WinRmErrorOptions & { offeredSchemes?: readonly string[] } = {}) {
    super(message, options, ErrorCodes.auth);
    this.offeredSchemes = options.offeredSchemes ?? [];
  }
}

/** A deadline set by the caller passed (not WinRM's OperationTimeout, which is polled through). */
export class TimeoutError extends WinRmError {
  readonly timeoutMs: number | undefined;

  constructor(message: string, options: WinRmErrorOptions & { timeoutMs?: number } = {}) {
    super(message, options, ErrorCodes.timeout);
    this.timeoutMs = options.timeoutMs;
  }
}

/** The operation was cancelled through an AbortSignal. */
export class AbortError extends WinRmError {
  constructor(message = 'The operation was aborted', options: WinRmErrorOptions = {}) {
    super(message, options, ErrorCodes.aborted);
  }
}

/**
 * Why a transfer failed, for callers that branch on it: the remote script's error code (NO_DIR, ACCESS_DENIED,
 * EXISTS, NOT_FOUND, IS_DIR, NOT_DIR, BAD_PATH, HASH_MISMATCH, ...) or a local one (LOCAL_IO, CONNECTION).
 */
export type TransferFailureReason = string;

/** An upload or download failed; the remote target is left as it was. */
export class TransferError extends WinRmError {
  readonly remotePath: string | undefined;
  /** Stable reason code, e.g. 'NO_DIR' or 'HASH_MISMATCH'; undefined when none applies. */
  readonly reason: TransferFailureReason | undefined;

  constructor(
    message: string,
    options: WinRmErrorOptions & { remotePath?: string; reason?: TransferFailureReason } = {},
  ) {
    super(message, options, ErrorCodes.transfer);
    this.remotePath = options.remotePath;
    this.reason = options.reason;
  }
}

/** Bad input from the caller: names the option or value and the accepted forms. */
export class InvalidArgumentError extends WinRmError {
  /** The option or parameter that was wrong. */
  readonly argument: string | undefined;

  constructor(message: string, options: WinRmErrorOptions & { argument?: string } = {}) {
    super(message, options, ErrorCodes.invalidArgument);
    this.argument = options.argument;
  }
}

/** The peer sent something that is not valid WS-Management (bad XML, missing element, wrong RelatesTo...). */
export class ProtocolError extends WinRmError {
  constructor(message: string, options: WinRmErrorOptions = {}) {
    super(message, options, ErrorCodes.protocol);
  }
}

/** The endpoint could not be reached: DNS, refused, reset, TLS failure. */
export class ConnectionError extends WinRmError {
  readonly host: string | undefined;
  readonly port: number | undefined;
  /** Underlying system error code (ECONNREFUSED, ENOTFOUND, CERT_HAS_EXPIRED...). */
  readonly syscallCode: string | undefined;

  constructor(
    message: string,
    options: WinRmErrorOptions & { host?: string; port?: number; syscallCode?: string } = {},
  ) {
    super(message, options, ErrorCodes.connection);
    this.host = options.host;
    this.port = options.port;
    this.syscallCode = options.syscallCode;
  }
}

/**
 * close() could not delete every remote shell (the Delete failed on a fresh socket too, or closeTimeout passed).
 * Windows keeps such shells against MaxShellsPerUser until their IdleTimeout (2 h by default).
 */
export class ShellCleanupError extends ConnectionError {
  /** ShellIds of the shells that may still exist on the server. */
  readonly shellIds: readonly string[];

  constructor(message: string, options: WinRmErrorOptions & { shellIds: readonly string[] }) {
    super(message, options);
    this.shellIds = options.shellIds;
  }
}
