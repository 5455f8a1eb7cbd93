/**
 * Makes the one socket of a channel: TCP to the endpoint or a CONNECT tunnel through the proxy, then TLS with its
 * trust checks for HTTPS. Everything happens before the socket is handed to HTTP, inside the connect timeout.
 */
import net, { type Socket } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import { HTTP_ERROR, httpFailure } from './errors.ts';
import { openTunnel } from './proxy.ts';
import { startTls, type TlsTrust } from './tls.ts';

export interface SocketTarget {
  host: string;
  port: number;
  https: boolean;
  tls: TlsTrust;
  /** HTTP proxy for a CONNECT tunnel. Default: none (direct). */
  proxy: URL | undefined;
  connectTimeoutMs: number;
}

export interface OpenedSocket {
  socket: Socket;
  /** The server's certificate (HTTPS only), known before any request is made. */
  peerCertificate: PeerCertificate | undefined;
}

const aborted = () => httpFailure(HTTP_ERROR.aborted, 'aborted');

export async function openSocket(target: SocketTarget, signal?: AbortSignal): Promise<OpenedSocket> {
  if (signal?.aborted) throw aborted();
  const made: Socket[] = [];
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(httpFailure(HTTP_ERROR.connectTimeout, 'connect timeout')),
      target.connectTimeoutMs,
    );
    onAbort = () => reject(aborted());
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    let raw: Socket | undefined;
    if (target.proxy) {
      const tunnel = openTunnel(target.proxy, target.host, target.port);
      made.push(tunnel.socket);
      await Promise.race([tunnel.ready, stop]);
      raw = tunnel.socket;
    } else if (!target.https) {
      raw = net.connect({ host: target.host, port: target.port });
      made.push(raw);
      const s = raw;
      await Promise.race([
        new Promise<void>((resolve, reject) => {
          s.once('connect', resolve);
          s.once('error', reject);
        }),
        stop,
      ]);
    }
    let socket: Socket;
    let peerCertificate: PeerCertificate | undefined;
    if (target.https) {
      const t = startTls(target.host, target.port, target.tls, raw);
      made.push(t.socket);
      peerCertificate = await Promise.race([t.ready, stop]);
      socket = t.socket;
    } else socket = raw as Socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 1000);
    return { socket, peerCertificate };
  } catch (err) {
    for (const s of made) s.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    stop.catch(() => undefined);
    // Late socket errors after a failure must not become uncaught exceptions.
    for (const s of made) if (s.listenerCount('error') === 0) s.on('error', () => undefined);
  }
}
