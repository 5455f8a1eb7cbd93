/**
 * HTTP CONNECT tunnels ([RFC 9110] 9.3.6). One tunnel per channel, so connection-bound authentication (NTLM)
 * stays bound to one end-to-end connection; TLS to an HTTPS endpoint runs inside the tunnel with the same trust
 * checks. Proxy credentials go only into Proxy-Authorization and never into messages.
 */
import http from 'node:http';
import net, { type Socket } from 'node:net';
import { HTTP_ERROR, httpFailure } from './errors.ts';

/** The proxy as users may see it: scheme, host and port only. */
export function describeProxy(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

/**
 * Open a TCP connection to the proxy and ask it for a tunnel to host:port; resolves once the proxy agreed. The
 * CONNECT exchange is node:http's (request with method CONNECT over our socket, its 'connect' event); the socket
 * is ours from the start, so the caller can destroy it on a deadline or an abort.
 */
export function openTunnel(proxy: URL, host: string, port: number): { socket: Socket; ready: Promise<void> } {
  const proxyPort = proxy.port ? Number(proxy.port) : 80;
  const socket = net.connect({ host: proxy.hostname.replace(/^\[|\]$/g, ''), port: proxyPort });
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const headers: Record<string, string> = { Host: authority };
  if (proxy.username || proxy.password) {
    const user = decodeURIComponent(proxy.username);
    const pass = decodeURIComponent(proxy.password);
    headers['Proxy-Authorization'] = `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}`;
  }
  const ready = new Promise<void>((resolve, reject) => {
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(err);
    };
    const req = http.request({
      method: 'CONNECT',
      path: authority,
      headers,
      createConnection: () => socket,
      maxHeaderSize: 16 * 1024,
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      // Name the proxy in socket errors, so the mapping can tell its failures from the endpoint's.
      if (err.code === 'ECONNRESET' && socket.connecting === false && !settled) {
        return fail(
          httpFailure(HTTP_ERROR.proxyRefused, 'the proxy closed the connection without answering CONNECT'),
        );
      }
      if (err.code === 'HPE_HEADER_OVERFLOW') {
        return fail(
          httpFailure(HTTP_ERROR.proxyRefused, 'the proxy answered CONNECT with an oversized head'),
        );
      }
      if (typeof err.code === 'string' && err.code.startsWith('HPE_')) {
        return fail(httpFailure(HTTP_ERROR.proxyRefused, 'not an HTTP answer'));
      }
      fail(Object.assign(new Error(`proxy ${describeProxy(proxy)}: ${err.message}`), { code: err.code }));
    });
    req.on('response', (res) => {
      // A CONNECT answer is always a 'connect' event in node; a 'response' here is not a tunnel.
      res.resume();
      fail(httpFailure(HTTP_ERROR.proxyRefused, `HTTP ${res.statusCode}`, { status: res.statusCode ?? 0 }));
    });
    req.on('connect', (res, tunnel, rest) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        const text = `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}`;
        return fail(httpFailure(HTTP_ERROR.proxyRefused, text, { status }));
      }
      // The endpoint speaks only after our request; bytes here mean the proxy is out of step.
      if (rest.length > 0) {
        return fail(httpFailure(HTTP_ERROR.proxyRefused, 'the proxy sent bytes after its CONNECT answer'));
      }
      if (tunnel !== socket) return fail(new Error('internal: node:http tunnelled over another socket'));
      settled = true;
      resolve();
    });
    req.end();
  });
  return { socket, ready };
}
