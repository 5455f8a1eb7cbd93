/** A raw WS-Management client for driving the mock: the shared builders make requests, node:http sends them. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { WsmanFaultError } from '../../src/errors.ts';
import type { MockServer, MockServerOptions } from '../../src/mock/index.ts';
import { startMockServer } from '../../src/mock/index.ts';
import {
  buildCommand,
  buildCreateShell,
  buildDeleteShell,
  buildReceive,
  buildSend,
  buildSignal,
  type CreateShellParams,
  parseCommandResponse,
  parseCreateShellResponse,
  parseReceiveResponse,
  parseResponse,
  parseSoap,
  type RequestContext,
  type SignalName,
  type SoapMessage,
} from '../../src/wsman/index.ts';

export const USER = { name: 'vagrant', password: 'vagrant' };

/** Start a mock with Basic enabled and allowUnencrypted (plain HTTP tests). */
export function startBasicMock(options: MockServerOptions = {}): Promise<MockServer> {
  return startMockServer({ auth: { basic: true }, allowUnencrypted: true, ...options });
}

export interface RawResponse {
  status: number;
  statusMessage: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Local port of the socket used (keep-alive checks). */
  localPort: number | undefined;
  /** DER of the certificate the server presented (HTTPS). */
  peerCertificate?: Buffer;
}

export interface ClientOptions {
  user?: { name: string; password: string } | null;
  /** Reuse connections. Default: true. */
  keepAlive?: boolean;
  /** Trust this CA/cert (HTTPS). Default: accept any certificate. */
  ca?: string;
}

export class RawClient {
  readonly agent: HttpAgent;
  private readonly https: boolean;

  constructor(
    readonly url: string,
    readonly options: ClientOptions = {},
  ) {
    this.https = url.startsWith('https:');
    const keepAlive = options.keepAlive ?? true;
    this.agent = this.https
      ? new HttpsAgent({
          keepAlive,
          maxSockets: 1,
          ca: options.ca,
          rejectUnauthorized: options.ca !== undefined,
        })
      : new HttpAgent({ keepAlive, maxSockets: 1 });
  }

  ctx(extra: Partial<RequestContext> = {}): RequestContext {
    return { to: this.url, messageId: `uuid:${randomUUID().toUpperCase()}`, ...extra };
  }

  post(body: string | Buffer, headers: Record<string, string> = {}, path?: string): Promise<RawResponse> {
    const u = new URL(this.url);
    const user = this.options.user === undefined ? USER : this.options.user;
    const auth = user
      ? { Authorization: `Basic ${Buffer.from(`${user.name}:${user.password}`).toString('base64')}` }
      : {};
    const payload = typeof body === 'string' ? Buffer.from(body) : body;
    const send = this.https ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(
        {
          host: u.hostname,
          port: u.port,
          path: path ?? u.pathname,
          method: 'POST',
          agent: this.agent,
          headers: {
            'Content-Type': 'application/soap+xml;charset=UTF-8',
            'Content-Length': payload.length,
            ...auth,
            ...headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          const socket = res.socket as TLSSocket;
          const peer = this.https ? socket.getPeerCertificate?.()?.raw : undefined;
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              statusMessage: res.statusMessage ?? '',
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
              localPort: res.socket?.localPort,
              peerCertificate: peer,
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** POST and parse: 200 gives the message (RelatesTo checked), a fault rejects with WsmanFaultError. */
  async soap(xml: string, messageId?: string): Promise<SoapMessage> {
    const res = await this.post(xml);
    if (res.status !== 200 && res.status !== 500) {
      throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
    }
    const msg = parseResponse(res.body, { httpStatus: res.status, relatesTo: messageId });
    assert.equal(res.status, 200, 'a non-fault answer must be HTTP 200');
    return msg;
  }

  /** POST expecting a fault: returns the parsed error and the raw response. */
  async fault(xml: string): Promise<{ error: WsmanFaultError; res: RawResponse; msg: SoapMessage }> {
    const res = await this.post(xml);
    assert.equal(res.status, 500, `expected HTTP 500, got ${res.status}: ${res.body.slice(0, 300)}`);
    const msg = parseSoap(res.body);
    try {
      parseResponse(res.body, { httpStatus: res.status });
    } catch (e) {
      assert.ok(e instanceof WsmanFaultError, String(e));
      return { error: e, res, msg };
    }
    assert.fail('expected a SOAP fault');
  }

  async createShell(params: CreateShellParams = {}): Promise<string> {
    const ctx = this.ctx();
    return parseCreateShellResponse(await this.soap(buildCreateShell(ctx, params), ctx.messageId)).shellId;
  }

  async command(shellId: string, command: string, args?: string[]): Promise<string> {
    const ctx = this.ctx();
    return parseCommandResponse(await this.soap(buildCommand(ctx, { shellId, command, args }), ctx.messageId))
      .commandId;
  }

  async send(shellId: string, commandId: string, data: Buffer | string, end = false): Promise<void> {
    const ctx = this.ctx();
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    await this.soap(buildSend(ctx, { shellId, commandId, data: bytes, end }), ctx.messageId);
  }

  async signal(shellId: string, commandId: string, signal: SignalName): Promise<void> {
    const ctx = this.ctx();
    await this.soap(buildSignal(ctx, { shellId, commandId, signal }), ctx.messageId);
  }

  async deleteShell(shellId: string): Promise<void> {
    const ctx = this.ctx();
    await this.soap(buildDeleteShell(ctx, { shellId }), ctx.messageId);
  }

  /** One Receive; returns the raw response too (for size checks). */
  async receiveOnce(shellId: string, commandId: string, extra: Partial<RequestContext> = {}) {
    const ctx = this.ctx(extra);
    const res = await this.post(buildReceive(ctx, { shellId, commandId }));
    if (res.status !== 200) return { res, result: undefined };
    const msg = parseResponse(res.body, { relatesTo: ctx.messageId });
    return { res, result: parseReceiveResponse(msg, commandId) };
  }

  /** Receive until Done, polling through TimedOut faults. */
  async receiveAll(shellId: string, commandId: string, extra: Partial<RequestContext> = {}) {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let responses = 0;
    let timeouts = 0;
    for (;;) {
      const { res, result } = await this.receiveOnce(shellId, commandId, extra);
      if (!result) {
        const e = (() => {
          try {
            parseResponse(res.body, { httpStatus: res.status });
          } catch (x) {
            return x;
          }
        })();
        if (e instanceof WsmanFaultError && e.faultCode === 2150858793) {
          timeouts++;
          continue;
        }
        throw e ?? new Error(`HTTP ${res.status}`);
      }
      responses++;
      for (const c of result.chunks) (c.name === 'stdout' ? out : err).push(c.data);
      if (result.state === 'Done') {
        return {
          stdout: Buffer.concat(out),
          stderr: Buffer.concat(err),
          exitCode: result.exitCode,
          responses,
          timeouts,
        };
      }
    }
  }

  /** Create a shell, run one command, receive everything, terminate, delete. */
  async run(command: string, options: { stdin?: Buffer | string; codepage?: number; args?: string[] } = {}) {
    const shellId = await this.createShell({ codepage: options.codepage });
    const commandId = await this.command(shellId, command, options.args);
    if (options.stdin !== undefined) await this.send(shellId, commandId, options.stdin, true);
    const r = await this.receiveAll(shellId, commandId);
    await this.signal(shellId, commandId, 'terminate');
    await this.deleteShell(shellId);
    return r;
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Replace ids that differ per run so a response can be compared with a fixture. */
export function normalizeIds(xml: string): string {
  return xml
    .replace(/uuid:[0-9A-Fa-f-]{36}/g, 'uuid:ID')
    .replace(/>[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}</g, '>ID<')
    .replace(/CommandId="[0-9A-F-]{36}"/g, 'CommandId="ID"')
    .replace(/ShellId [0-9A-Fa-f-]{36}/g, 'ShellId ID')
    .replace(/Machine="[^"]*"/g, 'Machine="M"');
}
