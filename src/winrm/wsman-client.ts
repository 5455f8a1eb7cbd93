/**
 * WsmanClient: the one object every WS-Management request goes through (pypsrp's WSMan.invoke is the model).
 * invoke() = fresh header context -> build -> send -> parse; HTTP status handling, the RelatesTo check, faults
 * mapped to typed errors through the one fault table (src/wsman/faults.ts) and redacted debug logging happen
 * here, once, for every action. The retry / reopen rules callers apply to its faults are in ./policy.ts.
 */
import { randomUUID } from 'node:crypto';
import type { DebugLog } from '../debug.ts';
import { HttpError, redactError, WinRmError } from '../errors.ts';
import type { HttpResponse, HttpTransport } from '../http/transport.ts';
import type { ResolvedOptions } from '../options/index.ts';
import { IDENTIFY_UNAUTHENTICATED_HEADER } from '../wsman/constants.ts';
import type { RequestContext } from '../wsman/envelope.ts';
import { parseResponse, type SoapMessage } from '../wsman/response.ts';
import type { WsmanAction } from './actions.ts';

export interface SendOptions {
  /** Name of the exchange for errors and logs, e.g. 'Receive'. */
  what: string;
  signal?: AbortSignal;
  /** Check the response's RelatesTo against the request's MessageID. Identify has none. Default: true. */
  checkRelatesTo?: boolean;
  /**
   * Authenticate the request. false sends it without credentials and with `WSMANIDENTIFY: unauthenticated`
   * ([MS-WSMV] 3.1.4.16: only Identify may go so). Default: true.
   */
  authenticate?: boolean;
  /** Extra HTTP headers. Default: none. */
  headers?: Readonly<Record<string, string>>;
}

export interface InvokeOptions extends Omit<SendOptions, 'what' | 'checkRelatesTo'> {
  /** Name of the exchange for errors and logs. Default: the action's. */
  what?: string;
  /** w:OperationTimeout for this request, in milliseconds. Default: the connection's operationTimeout. */
  operationTimeoutMs?: number;
}

export class WsmanClient {
  /** HTTP requests sent so far (stats().requests). */
  requestCount = 0;
  /**
   * Bytes of MaxEnvelopeSize kept free when sizing requests: the multipart/encrypted framing, signature and
   * length prefix of a sealed message (about 250 bytes) count against the server's limit too.
   */
  readonly envelopeReserve: number;

  constructor(
    private readonly opts: ResolvedOptions,
    readonly http: HttpTransport,
    private readonly debug: DebugLog,
  ) {
    this.envelopeReserve = http.encrypts ? 1024 : 0;
  }

  /** A fresh header context (new MessageID) for one request; OperationTimeout in milliseconds. */
  context(operationTimeoutMs?: number): RequestContext {
    return {
      to: this.opts.url.toString(),
      messageId: `uuid:${randomUUID().toUpperCase()}`,
      maxEnvelopeSize: this.opts.maxEnvelopeSize,
      // The envelope writes xs:duration in seconds.
      operationTimeout: (operationTimeoutMs ?? this.opts.operationTimeoutMs) / 1000,
      locale: this.opts.locale,
    };
  }

  /** Send one action: a fresh context, its request, the checked answer parsed by the action. Faults are thrown. */
  async invoke<P, R>(action: WsmanAction<P, R>, params: P, options: InvokeOptions = {}): Promise<R> {
    const ctx = this.context(options.operationTimeoutMs);
    const msg = await this.send(ctx, action.build(ctx, params), {
      what: options.what ?? action.what,
      signal: options.signal,
      checkRelatesTo: action.relatesTo ?? true,
      authenticate: options.authenticate,
      headers: options.headers,
    });
    return action.parse(msg, params);
  }

  /**
   * Send an envelope built with `ctx` (a string, or its UTF-8 bytes) and return the parsed, checked response;
   * faults are thrown.
   */
  async send(ctx: RequestContext, envelope: string | Buffer, options: SendOptions): Promise<SoapMessage> {
    const authenticate = options.authenticate ?? true;
    const headers: Record<string, string> = { ...options.headers };
    if (!authenticate) headers[IDENTIFY_UNAUTHENTICATED_HEADER.name] = IDENTIFY_UNAUTHENTICATED_HEADER.value;
    this.requestCount++;
    this.debug.log('wsman', () => `>>> ${options.what} ${envelope}`);
    const body = typeof envelope === 'string' ? Buffer.from(envelope, 'utf8') : envelope;
    const res = await this.http.post(body, {
      signal: options.signal,
      headers,
      authenticate,
    });
    this.debug.log('wsman', () => `<<< ${options.what} HTTP ${res.status} ${res.body.toString('utf8')}`);
    try {
      return this.interpret(res, options.checkRelatesTo === false ? undefined : ctx.messageId, options.what);
    } catch (err) {
      throw redactError(err, (text) => this.debug.redact(text));
    }
  }

  private interpret(res: HttpResponse, messageId: string | undefined, what: string): SoapMessage {
    const contentType = String(res.headers['content-type'] ?? '');
    const looksSoap =
      /soap\+xml|text\/xml|application\/xml/i.test(contentType) ||
      /^\s*<(\?xml|[\w-]+:Envelope)/.test(res.body.subarray(0, 200).toString('utf8'));
    if (res.status === 200) {
      return parseResponse(res.body, this.parseOptions(messageId, res.status, what));
    }
    if ((res.status === 500 || res.status === 400) && looksSoap && res.body.length > 0) {
      // A fault is thrown by parseResponse; a non-fault body with an error status is an HTTP error.
      let parsed = false;
      try {
        parseResponse(res.body, this.parseOptions(undefined, res.status, what));
        parsed = true;
      } catch (err) {
        if (err instanceof WinRmError && err.code === 'WINRM_WSMAN_FAULT') throw err;
      }
      throw new HttpError(
        res.status,
        this.debug.excerpt(res.body),
        `HTTP ${res.status} from ${this.opts.url.host} for ${what} without a ${parsed ? 'SOAP fault' : 'readable body'}`,
      );
    }
    const excerpt = this.debug.excerpt(res.body);
    if (res.status === 413) {
      throw new HttpError(
        res.status,
        excerpt,
        `The WinRM service refused a ${what} request as too large (HTTP 413)`,
        {
          remedy:
            'lower maxEnvelopeSize, or raise it on the server: winrm set winrm/config @{MaxEnvelopeSizekb="500"}',
        },
      );
    }
    if (res.status === 404) {
      throw new HttpError(res.status, excerpt, `No WinRM service at ${this.opts.url} (HTTP 404)`, {
        remedy:
          'check the path (normally /wsman) and that the listener is WinRM: winrm e winrm/config/listener',
      });
    }
    throw new HttpError(res.status, excerpt, `HTTP ${res.status} from ${this.opts.url.host} for ${what}`);
  }

  private parseOptions(relatesTo: string | undefined, httpStatus: number, what: string) {
    return { relatesTo, maxBytes: this.opts.maxResponseBytes, httpStatus, what: `${what} response` };
  }

  close(): void {
    this.http.close();
  }

  /** Drop every socket now; requests in flight reject with a ConnectionError, later ones are refused. */
  destroy(): void {
    this.http.destroy();
  }
}
