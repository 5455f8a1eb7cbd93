/**
 * HTTP layer: a pool of channels, each one keep-alive socket.
 * One socket per channel is what connection-bound authentication (NTLM, Kerberos) needs: a channel carries its
 * authentication state, and a request holds its channel from send to answer. Long-polling Receives of parallel
 * commands use separate channels. TLS trust (CA, thumbprint pinning, hostname checks) is enforced while the
 * socket is created, before any byte of a request is written.
 */
import net, { type Socket } from 'node:net';
import tls, { type PeerCertificate, type TLSSocket } from 'node:tls';
import { AbortError, ConnectionError, ProtocolError, TimeoutError, type WinRmError } from '../errors.ts';
import type { ResolvedOptions } from '../options.ts';
import { type ParsedResponse, ResponseReader, requestHead } from './http1.ts';

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

/** Kept-alive sockets idle longer than this are not reused (HTTP.sys drops them at 120 s). */
const MAX_IDLE_REUSE_MS = 100_000;

const abortedError = () => Object.assign(new Error('aborted'), { code: 'ERR_CANCELED' });

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

/** Upper-case hex thumbprint of a peer certificate. */
export function thumbprint(cert: PeerCertificate, algorithm: 'sha1' | 'sha256'): string {
  const f = algorithm === 'sha1' ? cert.fingerprint : cert.fingerprint256;
  return (f ?? '').replace(/:/g, '').toUpperCase();
}

/**
 * One socket's worth of HTTP/1.1, spoken directly on a net or TLS socket (src/transport/http1.ts frames the
 * messages). node:http's request machinery measured as the largest client-side cost per round trip after XML
 * reading; axios, before it, cost twice the request itself. See docs/architecture.md.
 */
export class HttpChannel {
  /** Free slot for per-socket authentication state (NTLM / Kerberos contexts). */
  authState: unknown;
  /** The socket that carried the last response; auth contexts compare it to detect a new connection. */
  lastSocket: Socket | undefined;
  private socket: Socket | undefined;
  private busy = false;
  private idleSince = 0;

  constructor(private readonly opts: ResolvedOptions) {}

  async post(body: Buffer | string, options: PostOptions): Promise<HttpResponse> {
    if (this.busy) throw new Error('internal: an HttpChannel carries one request at a time');
    this.busy = true;
    try {
      const data = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
      const url = this.opts.url;
      const head = requestHead(
        `${url.pathname}${url.search}`,
        { Host: url.host, ...options.headers },
        data.length,
      );
      if (options.signal?.aborted) throw this.translate(abortedError(), options.signal);
      // HTTP.sys closes connections idle for 120 s; one idle nearly that long is replaced rather than risk
      // writing a request just as the server closes it (a POST cannot safely be sent twice).
      if (this.socket && performance.now() - this.idleSince > MAX_IDLE_REUSE_MS) this.dropSocket();
      let socket = this.socket;
      if (!socket || socket.destroyed || !socket.writable) {
        this.dropSocket();
        socket = await this.connect(options.signal);
        this.socket = socket;
      }
      return await this.exchange(socket, head, data, options.signal);
    } finally {
      this.busy = false;
    }
  }

  private exchange(socket: Socket, head: string, data: Buffer, signal?: AbortSignal): Promise<HttpResponse> {
    const reader = new ResponseReader(this.opts.maxResponseBytes + 64 * 1024);
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      const detach = () => {
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.off('close', onClose);
        socket.off('error', onError);
        socket.off('timeout', onTimeout);
        signal?.removeEventListener('abort', onAbort);
        socket.setTimeout(0);
      };
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        detach();
        socket.destroy();
        if (this.socket === socket) this.socket = undefined;
        reject(this.translate(err, signal));
      };
      const done = (res: ParsedResponse) => {
        if (settled) return;
        settled = true;
        detach();
        this.lastSocket = socket;
        if (res.close || reader.rest.length > 0) {
          socket.destroy();
          if (this.socket === socket) this.socket = undefined;
        } else {
          this.idleSince = performance.now();
          this.watchIdle(socket);
        }
        resolve({ status: res.status, headers: res.headers, body: res.body });
      };
      const onData = (chunk: Buffer) => {
        let res: ParsedResponse | undefined;
        try {
          res = reader.push(chunk);
        } catch (err) {
          return fail(err);
        }
        if (res) done(res);
      };
      const onEnd = () => {
        try {
          done(reader.end());
        } catch (err) {
          fail(err);
        }
      };
      const onClose = () => fail(Object.assign(new Error('socket closed'), { code: 'ECONNRESET' }));
      const onError = (err: Error) => fail(err);
      const onTimeout = () => fail(Object.assign(new Error('read timeout'), { code: 'ETIMEDOUT' }));
      const onAbort = () => fail(abortedError());
      this.unwatchIdle(socket);
      socket.on('data', onData);
      socket.on('end', onEnd);
      socket.on('close', onClose);
      socket.on('error', onError);
      socket.on('timeout', onTimeout);
      socket.setTimeout(this.opts.readTimeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      // Small messages go out in one write; large ones as head + body without copying the body.
      if (data.length <= 16 * 1024) socket.write(Buffer.concat([Buffer.from(head, 'latin1'), data]));
      else {
        socket.cork();
        socket.write(head, 'latin1');
        socket.write(data);
        socket.uncork();
      }
    });
  }

  /** A kept-alive socket that the server closes (or that errors) while idle is dropped quietly. */
  private readonly onIdleGone = () => this.dropSocket();
  private watchIdle(socket: Socket): void {
    socket.on('end', this.onIdleGone);
    socket.on('close', this.onIdleGone);
    socket.on('error', this.onIdleGone);
    socket.on('data', this.onIdleGone); // unsolicited bytes: the connection is out of step
  }
  private unwatchIdle(socket: Socket): void {
    socket.off('end', this.onIdleGone);
    socket.off('close', this.onIdleGone);
    socket.off('error', this.onIdleGone);
    socket.off('data', this.onIdleGone);
  }

  private dropSocket(): void {
    const s = this.socket;
    this.socket = undefined;
    if (s) {
      this.unwatchIdle(s);
      s.destroy();
    }
  }

  private connect(signal?: AbortSignal): Promise<Socket> {
    const o = this.opts;
    return new Promise<Socket>((resolve, reject) => {
      let socket: Socket;
      const pin = o.tls.fingerprint;
      const finish = (err: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.off('error', finish);
        if (err) {
          socket.destroy();
          reject(this.translate(err, signal));
        } else resolve(socket);
      };
      const onAbort = () => finish(abortedError());
      if (o.https) {
        // No TLS session resumption: every connection presents its certificate, which pinning and channel
        // binding read (reconnects are rare on keep-alive sockets, so the full handshake costs little).
        const tlsOptions: tls.ConnectionOptions = {
          host: o.host,
          port: o.port,
          ca: o.tls.ca as tls.ConnectionOptions['ca'],
          rejectUnauthorized: !(o.tls.insecureAcceptAnyCertificate || pin),
          servername: isIp(o.host) ? undefined : o.host,
        };
        if (!o.tls.verifyHostname) tlsOptions.checkServerIdentity = () => undefined;
        const t = tls.connect(tlsOptions);
        t.once('secureConnect', () => {
          if (pin) {
            const cert = t.getPeerCertificate();
            const actual = thumbprint(cert, pin.algorithm);
            if (actual !== pin.hex) {
              const e = new Error(
                `pinned ${pin.algorithm} thumbprint ${pin.hex}, server presented ${actual}`,
              );
              return finish(Object.assign(e, { code: 'WINRM_THUMBPRINT_MISMATCH' }));
            }
            if (o.tls.verifyHostname && !isIp(o.host) && cert.subject) {
              const err = tls.checkServerIdentity(o.host, cert);
              if (err) return finish(err);
            }
          }
          finish(undefined);
        });
        socket = t;
      } else {
        socket = net.connect({ host: o.host, port: o.port });
        socket.once('connect', () => finish(undefined));
      }
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 1000);
      socket.on('error', finish);
      const timer = setTimeout(
        () => finish(Object.assign(new Error('connect timeout'), { code: 'ECONNECTTIMEOUT' })),
        o.connectTimeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Peer certificate of the current TLS socket (channel binding needs it). */
  peerCertificate(): PeerCertificate | undefined {
    const s = this.lastSocket as TLSSocket | undefined;
    return s && typeof s.getPeerCertificate === 'function' ? s.getPeerCertificate() : undefined;
  }

  destroy(): void {
    this.dropSocket();
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
      case 'ERR_RESPONSE_TOO_LARGE':
        return new ProtocolError(`The response from ${where} is too large: ${message}`, {
          cause: err,
          remedy: 'raise maxResponseBytes if the server legitimately sends larger envelopes',
        });
      case 'ERR_MALFORMED_RESPONSE':
        return new ProtocolError(`The response from ${where} is not valid HTTP/1.1: ${message}`, {
          cause: err,
          remedy: `check that ${where} is a WinRM listener and that nothing between (a proxy) rewrites its answers`,
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
  /** Requests waiting for a channel; called with undefined when the pool closes. */
  private readonly waiters: Array<(c: HttpChannel | undefined) => void> = [];
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
      const give = (c: HttpChannel | undefined) => {
        signal?.removeEventListener('abort', onAbort);
        if (c) resolve(c);
        else reject(new ConnectionError('The connection is closed'));
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
    // Requests still waiting for a channel fail now instead of waiting for ever.
    for (const w of this.waiters.splice(0)) w(undefined);
    for (const c of this.all) c.destroy();
    this.all.clear();
    this.idle.length = 0;
  }
}
