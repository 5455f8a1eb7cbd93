/**
 * One mapping from what the HTTP layer can fail with (Node socket and TLS errors, axios errors, our own
 * connect, pinning and proxy checks) to the library's typed errors, each naming the problem and the fix.
 */
import { AbortError, ConnectionError, ProtocolError, TimeoutError, type WinRmError } from '../errors.ts';

export const LISTENER_CHECK =
  'check that WinRM listens there: on the host run `winrm e winrm/config/listener` (expect Transport=HTTP on ' +
  '5985 or HTTPS on 5986), open the port in the firewall, or create a listener with `winrm quickconfig`';

/** Codes the HTTP layer raises itself (besides Node's ECONNREFUSED, ETIMEDOUT...). */
export const HTTP_ERROR = {
  aborted: 'ERR_CANCELED',
  connectTimeout: 'ECONNECTTIMEOUT',
  thumbprint: 'WINRM_THUMBPRINT_MISMATCH',
  tooLarge: 'ERR_RESPONSE_TOO_LARGE',
  malformed: 'ERR_MALFORMED_RESPONSE',
  proxyRefused: 'WINRM_PROXY_REFUSED',
} as const;

/** An error carrying one of the codes above (and, for a proxy refusal, its HTTP status). */
export function httpFailure(code: string, message: string, extra: { status?: number } = {}): Error {
  return Object.assign(new Error(message), { code, ...extra });
}

export interface ErrorContext {
  host: string;
  port: number;
  readTimeoutMs: number;
  connectTimeoutMs: number;
  /** The proxy as shown to users (scheme, host and port; never its credentials). */
  proxy?: string;
}

interface CodedError {
  code?: string;
  message?: string;
  status?: number;
  cause?: unknown;
  isAxiosError?: boolean;
  response?: unknown;
}

/** axios wraps socket errors; the original (with Node's code) is its cause. */
function unwrap(err: unknown): CodedError {
  let e = err as CodedError | undefined;
  for (let i = 0; i < 3 && e?.isAxiosError && e.cause && typeof e.cause === 'object'; i++) {
    e = e.cause as CodedError;
  }
  return e ?? {};
}

/**
 * The cause a typed error keeps: never axios' own error, whose `config.headers`, `request` and `response` hold
 * the Authorization header we sent (for Basic, base64 of user:password) and would print it through
 * `util.inspect(err)` at any depth. The Node error inside it is kept, or a plain copy of message and code.
 */
export function safeCause(err: unknown): unknown {
  const outer = err as CodedError | undefined;
  if (!outer || typeof outer !== 'object' || !outer.isAxiosError) return err;
  const inner = unwrap(err);
  if (inner !== outer && !inner.isAxiosError) return inner;
  const copy = new Error(outer.message ?? 'the HTTP request failed');
  copy.name = 'AxiosError';
  return Object.assign(copy, outer.code === undefined ? {} : { code: outer.code });
}

function codeOf(outer: CodedError, inner: CodedError): string {
  const code = inner.code ?? outer.code ?? '';
  const message = `${outer.message ?? ''} ${inner.message ?? ''}`;
  if (/maxContentLength size of \d+ exceeded/.test(message)) return HTTP_ERROR.tooLarge;
  if (code === 'ECONNABORTED' && /timeout/i.test(message)) return 'ETIMEDOUT';
  if (code.startsWith('HPE_')) return HTTP_ERROR.malformed;
  if (code === 'ERR_BAD_RESPONSE' && /aborted/.test(message)) return 'ECONNRESET';
  return code;
}

export function translateHttpError(err: unknown, ctx: ErrorContext, signal?: AbortSignal): WinRmError {
  const where = `${ctx.host}:${ctx.port}`;
  if (signal?.aborted) return new AbortError('The request was aborted', { cause: signal.reason });
  const outer = (err ?? {}) as CodedError;
  const inner = unwrap(err);
  const code = codeOf(outer, inner);
  const message = inner.message ?? String(err);
  const cause = safeCause(err);
  const hp = { host: ctx.host, port: ctx.port, syscallCode: code, cause };
  switch (code) {
    case HTTP_ERROR.aborted:
      return new AbortError('The request was aborted', { cause });
    case 'ETIMEDOUT':
      return new TimeoutError(
        `No HTTP response from ${where} within the read timeout (${ctx.readTimeoutMs / 1000} s)`,
        {
          timeoutMs: ctx.readTimeoutMs,
          cause,
          remedy: 'raise readTimeout; it must exceed operationTimeout',
        },
      );
    case HTTP_ERROR.connectTimeout:
      return new ConnectionError(
        `Could not connect to ${where}${ctx.proxy ? ` through the proxy ${ctx.proxy}` : ''} within ${ctx.connectTimeoutMs / 1000} s`,
        { ...hp, remedy: LISTENER_CHECK },
      );
    case 'ECONNREFUSED':
      if (ctx.proxy && /proxy/.test(message)) {
        return new ConnectionError(`Connection refused by the proxy ${ctx.proxy}`, {
          ...hp,
          remedy: 'check the proxy option (http://HOST:PORT) and that the proxy runs',
        });
      }
      return new ConnectionError(`Connection refused by ${where}`, { ...hp, remedy: LISTENER_CHECK });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConnectionError(`Cannot resolve host name ${/proxy/.test(message) ? ctx.proxy : ctx.host}`, {
        ...hp,
        remedy: 'check the host name (NetBIOS name, FQDN or IP address) and DNS',
      });
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ERR_SOCKET_CLOSED':
      return new ConnectionError(`The connection to ${where} was closed by the server (${message})`, {
        ...hp,
        remedy: `if this repeats, ${LISTENER_CHECK}; a plain-HTTP client talking to an HTTPS listener also sees this`,
      });
    case HTTP_ERROR.thumbprint:
      return new ConnectionError(`TLS certificate of ${where} does not match: ${message}`, {
        ...hp,
        remedy: 'compare with the CertificateThumbprint of `winrm e winrm/config/listener` on the host',
      });
    case HTTP_ERROR.proxyRefused:
      return proxyRefused(inner.status ?? 0, message, ctx, hp);
    case HTTP_ERROR.tooLarge:
      return new ProtocolError(`The response from ${where} is too large: ${message}`, {
        cause,
        remedy: 'raise maxResponseBytes if the server legitimately sends larger envelopes',
      });
    case HTTP_ERROR.malformed:
      return new ProtocolError(`The response from ${where} is not valid HTTP/1.1: ${message}`, {
        cause,
        remedy: `check that ${where} is a WinRM listener and that nothing between (a proxy) rewrites its answers`,
      });
    default:
      if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO|HOSTNAME|ALTNAME/.test(code) || /certificate/i.test(message)) {
        return new ConnectionError(`TLS verification of ${where} failed (${code}): ${message}`, {
          ...hp,
          remedy:
            'trust the server certificate: pass tls.ca (PEM), or pin it with tls.fingerprint (the ' +
            'CertificateThumbprint from `winrm e winrm/config/listener`); if the name differs from the ' +
            'certificate, connect by the name in the certificate',
        });
      }
      return new ConnectionError(`Request to ${where} failed (${code || 'unknown'}): ${message}`, hp);
  }
}

function proxyRefused(
  status: number,
  message: string,
  ctx: ErrorContext,
  hp: { host: string; port: number; syscallCode: string; cause: unknown },
): ConnectionError {
  const what = `The proxy ${ctx.proxy} refused to open a tunnel to ${ctx.host}:${ctx.port} (${message})`;
  if (status === 407) {
    return new ConnectionError(what, {
      ...hp,
      remedy: 'the proxy wants credentials: give them in the proxy option as http://USER:PASSWORD@HOST:PORT',
    });
  }
  if (status === 403) {
    return new ConnectionError(what, {
      ...hp,
      remedy: `the proxy forbids CONNECT to ${ctx.host}:${ctx.port}: allow the WinRM ports (5985, 5986) there, or connect without the proxy`,
    });
  }
  return new ConnectionError(what, {
    ...hp,
    remedy:
      'check that the proxy option names an HTTP proxy that allows CONNECT, and that it can reach the host',
  });
}
