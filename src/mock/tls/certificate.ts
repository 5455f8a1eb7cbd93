/**
 * Self-signed X.509 v3 server certificate built with node:crypto and a small DER writer (no openssl binary).
 * Shaped like the certificate `New-SelfSignedCertificate -DnsName HOST` makes for a WinRM HTTPS listener:
 * RSA 2048, SHA-256, CN=host, SubjectAltName, EKU serverAuth (WinRM refuses a listener certificate without it).
 */
import { createHash, generateKeyPair, randomBytes, sign, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { promisify } from 'node:util';
import {
  bitString,
  boolean,
  explicit,
  implicitPrimitive,
  integer,
  nullValue,
  octetString,
  oid,
  sequence,
  set,
  time,
  utf8String,
} from './der.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

const OID = {
  sha256WithRsa: '1.2.840.113549.1.1.11',
  commonName: '2.5.4.3',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

export interface GeneratedCertificate {
  /** PEM private key (PKCS#8). */
  keyPem: string;
  /** PEM certificate. */
  certPem: string;
  thumbprints: CertificateThumbprints;
}

/** Thumbprints as Windows shows them (certmgr, `winrm enumerate winrm/config/listener`): upper-case hex. */
export interface CertificateThumbprints {
  sha1: string;
  sha256: string;
}

export interface CertificateRequest {
  /** Subject CN. */
  commonName: string;
  /** DNS names and IP addresses for SubjectAltName. */
  altNames: readonly string[];
  /** Default: 365. */
  validDays?: number;
}

function toPem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return Buffer.concat(groups.map((g) => Buffer.from(g.padStart(4, '0'), 'hex')));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

/** Thumbprints of a DER certificate. */
export function thumbprintsOf(der: Buffer): CertificateThumbprints {
  return {
    sha1: createHash('sha1').update(der).digest('hex').toUpperCase(),
    sha256: createHash('sha256').update(der).digest('hex').toUpperCase(),
  };
}

/** Thumbprints of a PEM certificate (for a certificate passed in through `tls.cert`). */
export function thumbprintsOfPem(pem: string): CertificateThumbprints {
  return thumbprintsOf(new X509Certificate(pem).raw);
}

export async function generateSelfSignedCertificate(req: CertificateRequest): Promise<GeneratedCertificate> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: 2048 });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const name = sequence(set(sequence(oid(OID.commonName), utf8String(req.commonName))));
  const now = Date.now();
  const notBefore = new Date(now - 60 * 60 * 1000);
  const notAfter = new Date(now + (req.validDays ?? 365) * 86_400_000);
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  const algorithm = sequence(oid(OID.sha256WithRsa), nullValue());
  const altNames = req.altNames.map((n) =>
    isIP(n) ? implicitPrimitive(7, ipBytes(n)) : implicitPrimitive(2, Buffer.from(n, 'ascii')),
  );
  // keyUsage digitalSignature + keyEncipherment: bits 0 and 2 -> 0xa0, 5 unused bits.
  const keyUsage = Buffer.from([0x03, 0x02, 0x05, 0xa0]);
  const extensions = explicit(
    3,
    sequence(
      extension(OID.basicConstraints, true, sequence()),
      extension(OID.keyUsage, true, keyUsage),
      extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))),
      extension(OID.subjectAltName, false, sequence(...altNames)),
    ),
  );
  const tbs = sequence(
    explicit(0, integer(2)),
    integer(serial),
    algorithm,
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    spki,
    extensions,
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = sequence(tbs, algorithm, bitString(signature));
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certPem: toPem('CERTIFICATE', der),
    thumbprints: thumbprintsOf(der),
  };
}
