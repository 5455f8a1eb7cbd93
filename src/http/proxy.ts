/**
 * HTTP CONNECT tunnels ([RFC 9110] 9.3.6). One tunnel per channel, so connection-bound authentication (NTLM)
 * stays bound to one end-to-end connection; TLS to an HTTPS endpoint runs inside the tunnel with the same trust
 * checks. Proxy credentials go only into Proxy-Authorization and never into messages.
 */
import net, { type Socket } from 'node:net';
import { HTTP_ERROR, httpFailure } from './errors.ts';

/** Most bytes of a CONNECT answer's head we read before giving up on it. */
const MAX_HEAD = 16 * 1024;

/** The proxy as users may see it: scheme, host and port only. */
export function describeProxy(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

/** Open a TCP connection to the proxy and ask it for a tunnel to host:port; resolves with the tunnel socket. */
export function openTunnel(proxy: URL, host: string, port: number): { socket: Socket; ready: Promise<void> } {
  const proxyPort = proxy.port ? Number(proxy.port) : 80;
  const socket = net.connect({ host: proxy.hostname.replace(/^\[|\]$/g, ''), port: proxyPort });
  const authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  let head = `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n`;
  if (proxy.username || proxy.password) {
    const user = decodeURIComponent(proxy.username);
    const pass = decodeURIComponent(proxy.password);
    head += `Proxy-Authorization: Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}\r\n`;
  }
  head += '\r\n';
  const ready = new Promise<void>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const fail = (err: Error) => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onError = (err: NodeJS.ErrnoException) => {
      // Name the proxy in socket errors, so the mapping can tell its failures from the endpoint's.
      fail(Object.assign(new Error(`proxy ${describeProxy(proxy)}: ${err.message}`), { code: err.code }));
    };
    const onClose = () =>
      fail(httpFailure(HTTP_ERROR.proxyRefused, 'the proxy closed the connection without answering CONNECT'));
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > MAX_HEAD)
          fail(httpFailure(HTTP_ERROR.proxyRefused, 'the proxy answered CONNECT with an oversized head'));
        return;
      }
      const statusLine = buf.toString('latin1', 0, buf.indexOf('\r\n'));
      const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
      const status = m ? Number(m[1]) : 0;
      if (status < 200 || status > 299) {
        const text = m ? `HTTP ${status}${m[2] ? ` ${m[2]}` : ''}` : 'not an HTTP answer';
        return fail(httpFailure(HTTP_ERROR.proxyRefused, text, { status }));
      }
      cleanup();
      const rest = buf.subarray(end + 4);
      // The endpoint speaks only after our request; bytes here mean the proxy is out of step.
      if (rest.length > 0)
        return fail(httpFailure(HTTP_ERROR.proxyRefused, 'the proxy sent bytes after its CONNECT answer'));
      resolve();
    };
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.once('connect', () => socket.write(head, 'latin1'));
  });
  return { socket, ready };
}
