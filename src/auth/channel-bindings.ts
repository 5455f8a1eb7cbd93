/** Channel bindings for HTTPS ([RFC 5929] tls-server-end-point), made from the certificate known at connect. */
import type { PeerCertificate } from 'node:tls';
import { tlsServerEndPointApplicationData, tlsServerEndPointHash } from './ntlm/index.ts';

export function channelBindingsFor(cert: PeerCertificate | undefined): Buffer | undefined {
  if (!cert?.raw) return undefined;
  return tlsServerEndPointApplicationData(tlsServerEndPointHash(cert.raw));
}
