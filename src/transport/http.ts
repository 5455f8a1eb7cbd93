/**
 * HTTP layer: a pool of channels, each a keep-alive agent limited to one socket.
 * One socket per channel is what connection-bound authentication (NTLM, Kerberos) needs: a channel carries its
 * authentication state, and a request holds its channel from send to answer. Long-polling Receives of parallel
 * commands use separate channels. TLS trust (CA, thumbprint pinning, hostname checks) is enforced while the
 * socket is created, before any byte of a request is written.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import tls, { type PeerCertificate, type TLSSocket } from 'node:tls';
import { AbortError, ConnectionError, ProtocolError, TimeoutError, type WinRmError } from '../errors.ts';
import type { ResolvedOptions } from '../options.ts';

export interface HttpResponse {
  status: number;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer;
}

export interface PostOptions {
  headers: Record<string, string>;
  signal?: AbortSignal;
}

const LISTENER_CHECK =
  'check that WinRM listens there: on the host run `winrm e winrm/config/listener` (expect Transport=HTTP on ' +
  '5985 or HTTPS on 5986), open the port in the firewall, or create a listener with `winrm quickconfig`';

/** Agent whose sockets are verified against a pinned thumbprint before the agent may use them. */
function createHttpsAgent(opts: ResolvedOptions): https.Agent {
  const pin = opts.tls.fingerprint;
  const base: https.AgentOptions = {
    keepAlive: true,
    maxSockets: 1,
    ca: opts.tls.ca as https.AgentOptions['ca'],
    rejectUnauthorized: !(opts.tls.insecureAcceptAnyCertificate || pin),
    servername: isIp(opts.host) ? undefined : opts.host,
  };
  if (!opts.tls.verifyHostname) base.checkServerIdentity = () => undefined;
  const agent = new https.Agent(base);
  if (pin) {
    type Cb = (err: Error | null, socket?: Socket) => void;
    (
      agent as unknown as { createConnection: (o: tls.ConnectionOptions, cb: Cb) => undefined }
    ).createConnection = (o, cb) => {
      const socket = tls.connect({ ...o, rejectUnauthorized: false });
      const onError = (err: Error) => cb(err);
      socket.once('error', onError);
      socket.once('secureConnect', () => {
        socket.off('error', onError);
        const cert = socket.getPeerCertificate();
        const actual = thumbprint(cert, pin.algorithm);
        if (actual !== pin.hex) {
          socket.destroy();
          const e = new Error(`pinned ${pin.algorithm} thumbprint ${pin.hex}, server presented ${actual}`);
          (e as NodeJS.ErrnoException).code = 'WINRM_THUMBPRINT_MISMATCH';
          cb(e);
          return;
        }
        if (opts.tls.verifyHostname && !isIp(opts.host) && cert.subject) {
          const err = tls.checkServerIdentity(opts.host, cert);
          if (err) {
            socket.destroy();
            cb(err);
            return;
          }
        }
        cb(null, socket);
      });
      return undefined;
    };
  }
  return agent;
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

/** Upper-case hex thumbprint of a peer certificate. */
export function thumbprint(cert: PeerCertificate, algorithm: 'sha1' | 'sha256'): string {
  const f = algorithm === 'sha1' ? cert.fingerprint : cert.fingerprint256;
  return (f ?? '').replace(/:/g, '').toUpperCase();
}

/**
 * One socket's worth of HTTP: node:http over a single-socket keep-alive agent. (axios was measured at about 2.5 ms
 * extra per request on loopback, twice the cost of the request itself, and hides the socket that connection-bound
 * authentication must see; see docs/architecture.md.)
 */
export class HttpChannel {
  private readonly agent: http.Agent;
  /** Free slot for per-socket authentication state (NTLM / Kerberos contexts). */
  authState: unknown;
  /** The socket that carried the last response; auth contexts compare it to detect a new connection. */
  lastSocket: Socket | undefined;

  constructor(private readonly opts: ResolvedOptions) {
    this.agent = opts.https ? createHttpsAgent(opts) : new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  post(body: Buffer | string, options: PostOptions): Promise<HttpResponse> {
    const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const url = this.opts.url;
    const limit = this.opts.maxResponseBytes + 64 * 1024;
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        cleanup();
        req.destroy();
        reject(this.translate(err, options.signal));
      };
      const onAbort = () => fail(Object.assign(new Error('aborted'), { code: 'ERR_CANCELED' }));
      const cleanup = () => {
        clearTimeout(connectTimer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      const req = (this.opts.https ? https : http).request(
        {
          method: 'POST',
          host: this.opts.host,
          port: this.opts.port,
          path: `${url.pathname}${url.search}`,
          agent: this.agent,
          headers: { ...options.headers, Host: url.host, 'Content-Length': String(data.length) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > limit) {
              fail(
                Object.assign(new Error(`response larger than ${limit} bytes`), { code: 'ERR_BAD_RESPONSE' }),
              );
              return;
            }
            chunks.push(c);
          });
          res.on('error', fail);
          res.on('aborted', () => fail(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' })));
          res.on('end', () => {
            if (settled) return;
            settled = true;
            cleanup();
            this.lastSocket = req.socket ?? undefined;
            const headers: Record<string, string | string[] | undefined> = {};
            for (const [k, v] of Object.entries(res.headers)) headers[k.toLowerCase()] = v;
            resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks, size) });
          });
        },
      );
      const connectTimer = setTimeout(() => {
        if (!req.socket || req.socket.connecting) {
          fail(Object.assign(new Error('connect timeout'), { code: 'ECONNECTTIMEOUT' }));
        }
      }, this.opts.connectTimeoutMs);
      req.setTimeout(this.opts.readTimeoutMs, () =>
        fail(Object.assign(new Error('read timeout'), { code: 'ETIMEDOUT' })),
      );
      req.on('error', fail);
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      req.end(data);
    });
  }

  /** Peer certificate of the current TLS socket (channel binding needs it). */
  peerCertificate(): PeerCertificate | undefined {
    const s = this.lastSocket as TLSSocket | undefined;
    return s && typeof s.getPeerCertificate === 'function' ? s.getPeerCertificate() : undefined;
  }

  destroy(): void {
    this.agent.destroy();
  }

  private translate(err: unknown, signal?: AbortSignal): WinRmError {
    const where = `${this.opts.host}:${this.opts.port}`;
    if (signal?.aborted) return new AbortError('The request was aborted', { cause: signal.reason });
    const e = err as NodeJS.ErrnoException;
    const code = e?.code ?? '';
    const message = e?.message ?? String(err);
    const hp = { ...this.hp(), syscallCode: code, cause: err };
    switch (code) {
      case 'ERR_CANCELED':
        return new AbortError('The request was aborted', { cause: err });
      case 'ETIMEDOUT':
        return new TimeoutError(
          `No HTTP response from ${where} within the read timeout (${this.opts.readTimeoutMs / 1000} s)`,
          {
            timeoutMs: this.opts.readTimeoutMs,
            cause: err,
            remedy: 'raise readTimeout; it must exceed operationTimeout',
          },
        );
      case 'ECONNECTTIMEOUT':
        return new ConnectionError(
          `Could not connect to ${where} within ${this.opts.connectTimeoutMs / 1000} s`,
          {
            ...hp,
            remedy: LISTENER_CHECK,
          },
        );
      case 'ECONNREFUSED':
        return new ConnectionError(`Connection refused by ${where}`, { ...hp, remedy: LISTENER_CHECK });
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return new ConnectionError(`Cannot resolve host name ${this.opts.host}`, {
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
      case 'WINRM_THUMBPRINT_MISMATCH':
        return new ConnectionError(`TLS certificate of ${where} does not match: ${message}`, {
          ...hp,
          remedy: 'compare with the CertificateThumbprint of `winrm e winrm/config/listener` on the host',
        });
      case 'ERR_BAD_RESPONSE':
        return new ProtocolError(`The response from ${where} is too large: ${message}`, {
          cause: err,
          remedy: 'raise maxResponseBytes if the server legitimately sends larger envelopes',
        });
      default:
        if (
          /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO|HOSTNAME|ALTNAME/.test(code) ||
          /certificate/i.test(message)
        ) {
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

  private hp(): { host: string; port: number } {
    return { host: this.opts.host, port: this.opts.port };
  }
}

/** Bounded pool of channels; a request waits for a free one. */
export class ChannelPool {
  private readonly idle: HttpChannel[] = [];
  private readonly all = new Set<HttpChannel>();
  private readonly waiters: Array<(c: HttpChannel) => void> = [];
  private closed = false;

  constructor(private readonly opts: ResolvedOptions) {}

  async acquire(signal?: AbortSignal): Promise<HttpChannel> {
    if (this.closed) throw new ConnectionError('The connection is closed');
    const free = this.idle.pop();
    if (free) return free;
    if (this.all.size < this.opts.maxConcurrentRequests) {
      const c = new HttpChannel(this.opts);
      this.all.add(c);
      return c;
    }
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(give);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new AbortError('Aborted while waiting for a free connection'));
      };
      const give = (c: HttpChannel) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(c);
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(give);
    });
  }

  release(c: HttpChannel, broken = false): void {
    if (broken || this.closed) {
      c.destroy();
      this.all.delete(c);
      if (!this.closed && this.waiters.length > 0) {
        const n = new HttpChannel(this.opts);
        this.all.add(n);
        this.waiters.shift()!(n);
      }
      return;
    }
    const w = this.waiters.shift();
    if (w) w(c);
    else this.idle.push(c);
  }

  close(): void {
    this.closed = true;
    for (const c of this.all) c.destroy();
    this.all.clear();
    this.idle.length = 0;
  }
}
