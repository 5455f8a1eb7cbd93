/**
 * TLS trust, checked on every connection before a request byte is written: the CA bundle (plus `tls.ca`), or a
 * pinned SHA-1 / SHA-256 thumbprint, the hostname, or the explicit insecure opt-in. No session resumption:
 * every connection presents its certificate, which pinning and channel bindings read.
 */
import type { Socket } from 'node:net';
import tls, { type PeerCertificate, type TLSSocket } from 'node:tls';
import { HTTP_ERROR, httpFailure } from './errors.ts';

export interface TlsTrust {
  ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  fingerprint: { algorithm: 'sha1' | 'sha256'; hex: string } | undefined;
  verifyHostname: boolean;
  insecureAcceptAnyCertificate: boolean;
}

export function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

/** Upper-case hex thumbprint of a peer certificate. */
export function thumbprint(cert: PeerCertificate, algorithm: 'sha1' | 'sha256'): string {
  const f = algorithm === 'sha1' ? cert.fingerprint : cert.fingerprint256;
  return (f ?? '').replace(/:/g, '').toUpperCase();
}

/**
 * Start TLS to host:port, over `socket` when given (a proxy tunnel). Resolves once the handshake and every
 * trust check passed; on failure the socket is destroyed and the promise rejects.
 */
export function startTls(
  host: string,
  port: number,
  trust: TlsTrust,
  socket?: Socket,
): { socket: TLSSocket; ready: Promise<PeerCertificate> } {
  const pin = trust.fingerprint;
  const options: tls.ConnectionOptions = {
    host,
    port,
    socket,
    ca: trust.ca as tls.ConnectionOptions['ca'],
    rejectUnauthorized: !(trust.insecureAcceptAnyCertificate || pin),
    servername: isIp(host) ? undefined : host,
  };
  if (!trust.verifyHostname) options.checkServerIdentity = () => undefined;
  const t = tls.connect(options);
  const ready = new Promise<PeerCertificate>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    t.once('error', onError);
    t.once('secureConnect', () => {
      t.off('error', onError);
      const cert = t.getPeerCertificate();
      if (pin) {
        const actual = thumbprint(cert, pin.algorithm);
        if (actual !== pin.hex) {
          t.destroy();
          return reject(
            httpFailure(
              HTTP_ERROR.thumbprint,
              `pinned ${pin.algorithm} thumbprint ${pin.hex}, server presented ${actual}`,
            ),
          );
        }
        // A pin replaces the CA check, not the name check.
        if (trust.verifyHostname && !isIp(host) && cert.subject) {
          const err = tls.checkServerIdentity(host, cert);
          if (err) {
            t.destroy();
            return reject(err);
          }
        }
      }
      resolve(cert);
    });
  });
  return { socket: t, ready };
}
