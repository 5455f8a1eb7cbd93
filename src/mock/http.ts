/**
 * The HTTP layer in front of the dispatcher, shaped like HTTP.sys + WinRM: 404 off the endpoint path, 405 for
 * non-POST, 401 challenges with empty bodies, 413 for bodies over MaxEnvelopeSizekb, SOAP faults with 500,
 * `Server: Microsoft-HTTPAPI/2.0`, keep-alive connections, injected faults.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RequestHeaderInfo, readRequestHeader } from '../wsman/request.ts';
import type { AuthGate } from './auth/gate.ts';
import type { AuthUser, ConnectionAuthState, SecurityContext } from './auth/types.ts';
import { type Dispatcher, type ParsedRequest, parseRequest } from './dispatch/dispatcher.ts';
import { identifyResponse, isIdentify, unauthenticatedIdentifyResponse } from './dispatch/identify.ts';
import { readBody, reasonPhrase, SERVER_HEADER } from './http-server.ts';
import { type FaultInjection, type InjectionRegistry, injectedFault } from './injection.ts';
import { LazyAbortController } from './lazy-abort.ts';
import { type RequestLogEntry, type RequestRecorder, shortAction } from './log.ts';
import { faultEnvelope, MockFault } from './wire/faults.ts';

export interface HttpDeps {
  path: string;
  https: boolean;
  /** AllowUnencrypted: accept plaintext bodies over HTTP. */
  allowUnencrypted: boolean;
  maxEnvelopeSize: number;
  machineName: string;
  productVersion: string;
  gate: AuthGate;
  dispatcher: Dispatcher;
  injections: InjectionRegistry;
  recorder: RequestRecorder;
  connectionState(socket: Socket): ConnectionAuthState;
}

const SOAP_TYPE = 'application/soap+xml;charset=UTF-8';

/** Host the client addressed, for WSManFault's Machine attribute (captures show the name or IP used). */
function machineFrom(req: IncomingMessage, fallback: string): string {
  const host = req.headers.host;
  if (!host) return fallback;
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(host) ?? /^([^:]+)(?::\d+)?$/.exec(host);
  return m?.[1] ?? fallback;
}

function clientIp(socket: Socket): string {
  return (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
}

export function createRequestHandler(deps: HttpDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    void handle(deps, req, res).catch(() => {
      if (!res.headersSent)
        res.writeHead(500, reasonPhrase(500), { Server: SERVER_HEADER, 'Content-Length': 0 }).end();
      else res.destroy();
    });
  };
}

async function handle(deps: HttpDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = Date.now();
  const entry: RequestLogEntry = {
    time: new Date(started),
    method: req.method ?? '',
    path: (req.url ?? '').split('?')[0] ?? '',
    action: undefined,
    authScheme: undefined,
    user: undefined,
    requestBytes: 0,
    responseBytes: 0,
    status: 0,
    durationMs: 0,
  };
  const finish = (
    status: number,
    body: Buffer | string,
    headers: Record<string, string | string[] | number> = {},
  ) => {
    const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    entry.status = status;
    entry.responseBytes = buf.length;
    entry.durationMs = Date.now() - started;
    deps.recorder.record(entry);
    if (res.destroyed) return;
    // Windows' 401 has an empty reason phrase ("HTTP/1.1 401 "). HTTP.sys sends no Keep-Alive header: naming
    // the connection's state here keeps node from adding one.
    res.writeHead(status, reasonPhrase(status), {
      Server: SERVER_HEADER,
      'Content-Length': buf.length,
      ...(buf.length > 0 ? { 'Content-Type': SOAP_TYPE } : {}),
      ...(res.shouldKeepAlive ? { Connection: 'keep-alive' } : {}),
      ...headers,
    });
    res.end(buf);
  };

  if (entry.path.toLowerCase() !== deps.path.toLowerCase()) {
    return finish(404, '');
  }
  if (req.method !== 'POST') {
    return finish(405, '', { Allow: 'POST' });
  }
  const conn = deps.connectionState(req.socket);
  const unauthIdentify = String(req.headers.wsmanidentify ?? '').toLowerCase() === 'unauthenticated';
  const authorization = req.headers.authorization;
  let user: AuthUser | undefined;
  let security: SecurityContext | undefined;
  let authHeader: string | undefined;
  if (!(unauthIdentify && !authorization)) {
    const result = deps.gate.check(authorization, conn, deps.https);
    entry.authScheme = result.scheme;
    if (result.kind === 'challenge') {
      return finish(401, '', result.headers.length > 0 ? { 'WWW-Authenticate': result.headers } : {});
    }
    user = result.user;
    security = result.security;
    authHeader = result.responseHeader;
    entry.user = user.name;
  }
  const read = await readBody(req, deps.maxEnvelopeSize);
  if (read.kind === 'aborted') return;
  entry.requestBytes = read.kind === 'ok' ? read.body.length : read.bytes;
  if (read.kind === 'too-large') return finish(413, '', { Connection: 'close' });
  let body = read.body;
  const contentType = String(req.headers['content-type'] ?? '');
  const encrypted = contentType.toLowerCase().startsWith('multipart/encrypted');
  if (authorization && security && body.length === 0) {
    // The leg that completes a Negotiate handshake may come without a message: clients that encrypt set up the
    // context with an empty POST first (pywinrm's setup_encryption), and Windows answers it 200 with no body.
    return finish(200, '', authHeader ? { 'WWW-Authenticate': authHeader } : {});
  }
  if (encrypted && !security) {
    // Sealed data on a connection that never authenticated with a message-protecting scheme.
    return finish(400, '');
  }
  if (security && encrypted) {
    try {
      body = security.unwrap(body, contentType);
    } catch (err) {
      // A bad signature, replayed sequence number or broken framing: refused without a SOAP answer.
      entry.faultSubcode = `decrypt: ${(err as Error).message.slice(0, 80)}`;
      return finish(400, '');
    }
  }
  // [MS-WSMV] 3.1.4.1.29.1: no unencrypted message over HTTP unless AllowUnencrypted. Basic is never offered
  // then; a message-encrypting scheme (NTLM) that sends plaintext is refused the same way, with 401.
  if (user && !deps.https && !deps.allowUnencrypted && !(security && encrypted)) {
    const offered = deps.gate.challenges(false);
    return finish(401, '', offered.length > 0 ? { 'WWW-Authenticate': offered } : {});
  }
  const machine = machineFrom(req, deps.machineName);
  const extra: Record<string, string> = authHeader ? { 'WWW-Authenticate': authHeader } : {};
  const send = (status: number, xml: string | Buffer) => {
    // Answers are sealed when the request was (inside HTTPS, NTLM clients usually send plain SOAP).
    if (security && encrypted) {
      const wrapped = security.wrap(typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml);
      return finish(status, wrapped.body, { ...extra, 'Content-Type': wrapped.contentType });
    }
    return finish(status, xml, extra);
  };
  const sendFault = (fault: MockFault, parsed: ParsedRequest | undefined) => {
    entry.faultCode = fault.spec.wsmanCode;
    entry.faultSubcode = fault.spec.subcode || `s:${fault.spec.code}`;
    return send(
      fault.status,
      faultEnvelope(fault.spec, { relatesTo: parsed?.messageId, machine, lang: parsed?.lang }),
    );
  };

  let parsed: ParsedRequest;
  try {
    parsed = parseRequest(body, deps.maxEnvelopeSize);
  } catch (e) {
    if (!user) return finish(401, '');
    return sendFault(e as MockFault, undefined);
  }
  if (isIdentify(parsed.msg)) {
    entry.action = 'Identify';
    if (!user) return send(200, unauthenticatedIdentifyResponse());
  } else {
    entry.action = shortAction(parsed.action);
    if (!user) return finish(401, '');
  }

  const injection = deps.injections.pick(entry.action === 'Identify' ? 'Identify' : parsed.action);
  let header: RequestHeaderInfo | undefined;
  if (injection) {
    entry.injected = injection.kind;
    header = readRequestHeader(parsed.msg);
    const handled = await applyBefore(injection, req, res, entry, deps);
    if (handled === 'stop') return;
    if (injection.kind === 'status') return finish(injection.status ?? 503, '');
    if (injection.kind === 'fault') return sendFault(injectedFault(injection, header), parsed);
  }

  const abort = new LazyAbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  let xml: string | Buffer;
  try {
    if (isIdentify(parsed.msg)) {
      xml = identifyResponse({
        osVersion: deps.productVersion,
        securityProfiles: [
          ...new Set(deps.gate.offered(deps.https).map((s) => s.securityProfile(deps.https))),
        ],
      });
    } else {
      xml = await deps.dispatcher.dispatch(parsed, {
        user: user!,
        clientIp: clientIp(req.socket),
        get signal() {
          return abort.signal;
        },
      });
    }
  } catch (e) {
    if (!(e instanceof MockFault)) throw e;
    if (abort.aborted) return;
    return sendFault(e, parsed);
  }
  if (abort.aborted) return;
  if (injection?.kind === 'truncate') return truncate(res, entry, xml, deps);
  return send(200, xml);
}

/** drop / hang / delay: act before processing. Returns 'stop' when the request is finished with. */
async function applyBefore(
  injection: FaultInjection,
  req: IncomingMessage,
  res: ServerResponse,
  entry: RequestLogEntry,
  deps: HttpDeps,
): Promise<'stop' | 'continue'> {
  switch (injection.kind) {
    case 'drop':
      entry.status = 0;
      deps.recorder.record(entry);
      req.socket.destroy();
      return 'stop';
    case 'hang':
      entry.status = 0;
      deps.recorder.record(entry);
      // Nothing is written; close() destroys the socket.
      res.once('close', () => {});
      return 'stop';
    case 'delay':
      await sleep(injection.delayMs ?? 1000);
      return res.destroyed ? 'stop' : 'continue';
    default:
      return 'continue';
  }
}

function truncate(res: ServerResponse, entry: RequestLogEntry, xml: string | Buffer, deps: HttpDeps): void {
  const buf = typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml;
  const half = buf.subarray(0, Math.floor(buf.length / 2));
  entry.status = 200;
  entry.responseBytes = half.length;
  deps.recorder.record(entry);
  res.writeHead(200, reasonPhrase(200), {
    Server: SERVER_HEADER,
    'Content-Type': SOAP_TYPE,
    'Content-Length': buf.length,
  });
  res.write(half, () => res.destroy());
}
