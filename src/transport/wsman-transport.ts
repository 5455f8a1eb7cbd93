/**
 * Sends WS-Management envelopes and returns parsed responses. HTTP status handling, fault parsing, RelatesTo
 * checks and redacted debug logging happen here, once, for every action.
 */
import { randomUUID } from 'node:crypto';
import type { AuthMechanismImpl } from '../auth/types.ts';
import type { DebugLog } from '../debug.ts';
import { AuthenticationError, HttpError, WinRmError } from '../errors.ts';
import type { ResolvedOptions } from '../options.ts';
import type { RequestContext } from '../wsman/envelope.ts';
import { parseResponse, type SoapMessage } from '../wsman/response.ts';
import { ChannelPool, type HttpResponse } from './http.ts';

export interface SendOptions {
  /** Name of the exchange for errors and logs, e.g. 'Receive'. */
  what: string;
  signal?: AbortSignal;
  /** Check the response's RelatesTo against the request's MessageID. Identify has none. Default: true. */
  checkRelatesTo?: boolean;
}

export class WsmanTransport {
  readonly pool: ChannelPool;
  requestCount = 0;
  /**
   * Bytes of MaxEnvelopeSize kept free when sizing requests: the multipart/encrypted framing, signature and
   * length prefix of a sealed message (about 250 bytes) count against the server's limit too.
   */
  readonly envelopeReserve: number;

  constructor(
    private readonly opts: ResolvedOptions,
    private readonly auth: AuthMechanismImpl,
    private readonly debug: DebugLog,
  ) {
    this.pool = new ChannelPool(opts);
    this.envelopeReserve = auth.encrypts ? 1024 : 0;
  }

  /** A fresh header context (new MessageID) for one request. */
  context(operationTimeout?: number): RequestContext {
    return {
      to: this.opts.url.toString(),
      messageId: `uuid:${randomUUID().toUpperCase()}`,
      maxEnvelopeSize: this.opts.maxEnvelopeSize,
      operationTimeout: operationTimeout ?? this.opts.operationTimeout,
      locale: this.opts.locale,
    };
  }

  /** Send an envelope built with `ctx` and return the parsed, checked response; faults are thrown. */
  async send(ctx: RequestContext, envelope: string, options: SendOptions): Promise<SoapMessage> {
    const channel = await this.pool.acquire(options.signal);
    let broken = true;
    try {
      this.requestCount++;
      this.debug.log('wsman', () => `>>> ${options.what} ${envelope}`);
      const res = await this.auth.exchange(channel, Buffer.from(envelope, 'utf8'), {
        signal: options.signal,
      });
      broken = false;
      this.debug.log('wsman', () => `<<< ${options.what} HTTP ${res.status} ${res.body.toString('utf8')}`);
      return this.interpret(res, options.checkRelatesTo === false ? undefined : ctx.messageId, options.what);
    } finally {
      this.pool.release(channel, broken);
    }
  }

  private interpret(res: HttpResponse, messageId: string | undefined, what: string): SoapMessage {
    const contentType = String(res.headers['content-type'] ?? '');
    const looksSoap =
      /soap\+xml|text\/xml|application\/xml/i.test(contentType) ||
      /^\s*<(\?xml|[\w-]+:Envelope)/.test(res.body.subarray(0, 200).toString('utf8'));
    if (res.status === 401) throw this.authError(res);
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
        this.debug.redact(res.body.subarray(0, 512).toString('utf8')),
        `HTTP ${res.status} from ${this.opts.url.host} for ${what} without a ${parsed ? 'SOAP fault' : 'readable body'}`,
      );
    }
    const excerpt = this.debug.redact(res.body.subarray(0, 512).toString('utf8'));
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

  private authError(res: HttpResponse): AuthenticationError {
    const raw = res.headers['www-authenticate'];
    const offered = (Array.isArray(raw) ? raw : raw ? [raw] : []).flatMap((h) =>
      h.split(/,(?=\s*[A-Za-z]+(?:\s|$))/).map((s) => s.trim().split(/\s+/)[0] ?? ''),
    );
    const account = this.opts.account;
    const form =
      account.kind === 'local' ? `local account "${account.user}"` : `domain account "${account.original}"`;
    const basicOffered = offered.some((s) => s.toLowerCase() === 'basic');
    let remedy: string;
    if (this.auth.scheme === 'Basic' && !basicOffered) {
      remedy =
        'the service does not offer Basic authentication; enable it for local accounts with ' +
        'winrm set winrm/config/service/Auth @{Basic="true"}' +
        (this.opts.https
          ? ''
          : ', and for plain HTTP also winrm set winrm/config/service @{AllowUnencrypted="true"}');
    } else if (this.auth.scheme === 'Basic') {
      remedy =
        'check the password, and that the account is a local account (Basic accepts only local accounts; ' +
        'write it as USER or .\\USER); Basic must be enabled: winrm set winrm/config/service/Auth @{Basic="true"}' +
        (this.opts.https ? '' : '; over HTTP the service also needs @{AllowUnencrypted="true"}');
    } else {
      remedy = 'check the user name, domain and password';
    }
    return new AuthenticationError(
      `Authentication as ${form} with ${this.auth.scheme} was refused by ${this.opts.url.host} (HTTP 401; ` +
        `server offers: ${offered.length > 0 ? offered.join(', ') : 'nothing'})`,
      { remedy, offeredSchemes: offered },
    );
  }

  close(): void {
    this.pool.close();
  }
}
