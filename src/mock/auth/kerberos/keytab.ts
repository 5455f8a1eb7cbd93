/**
 * MIT keytab files, format 0x502 (MIT krb5 doc "keytab file format"; the same layout Heimdal and Java write):
 *
 *   uint16 0x0502, then entries: int32 size (negative = a hole of that many bytes), then
 *   uint16 components, counted realm, counted components, uint32 name type, uint32 timestamp, uint8 kvno,
 *   uint16 enctype, counted key, and, when at least 4 bytes of the entry remain, a uint32 kvno that replaces the
 *   8-bit one. Counted strings are a uint16 length and bytes; all integers are big-endian.
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../../../errors.ts';

export interface KeytabEntry {
  /** `service/host` (components joined with `/`). */
  principal: string;
  realm: string;
  kvno: number;
  enctype: number;
  key: Buffer;
}

export class KeytabError extends Error {}

export function parseKeytab(data: Buffer): KeytabEntry[] {
  if (data.length < 2 || data.readUInt16BE(0) !== 0x0502) {
    throw new KeytabError('not an MIT keytab (version 0x502 expected; write it with kadmin ktadd or ktutil)');
  }
  const entries: KeytabEntry[] = [];
  let p = 2;
  while (p + 4 <= data.length) {
    const size = data.readInt32BE(p);
    p += 4;
    if (size < 0) {
      p += -size;
      continue;
    }
    if (size === 0) break;
    const end = p + size;
    if (end > data.length) throw new KeytabError('keytab entry is truncated');
    let q = p;
    const need = (n: number) => {
      if (q + n > end) throw new KeytabError('keytab entry is truncated');
    };
    const u16 = () => {
      need(2);
      const v = data.readUInt16BE(q);
      q += 2;
      return v;
    };
    const counted = () => {
      const n = u16();
      need(n);
      const b = data.subarray(q, q + n);
      q += n;
      return b;
    };
    const count = u16();
    const realm = counted().toString('utf8');
    const parts: string[] = [];
    for (let i = 0; i < count; i++) parts.push(counted().toString('utf8'));
    need(9);
    q += 8; // name type, timestamp
    let kvno = data[q++]!;
    const enctype = u16();
    const key = Buffer.from(counted());
    if (end - q >= 4) {
      const wide = data.readUInt32BE(q);
      if (wide !== 0) kvno = wide;
    }
    entries.push({ principal: parts.join('/'), realm, kvno, enctype, key });
    p = end;
  }
  return entries;
}

export function readKeytab(path: string): KeytabEntry[] {
  return parseKeytab(readFileSync(path));
}

/**
 * The keys of the mock option `auth.kerberos.keytab` (a path or the file's bytes).
 * @throws InvalidArgumentError (argument `auth.kerberos.keytab`) when it cannot be read or holds no keys
 */
export function loadKeytab(keytab: string | Buffer): KeytabEntry[] {
  let keys: KeytabEntry[];
  try {
    keys = typeof keytab === 'string' ? readKeytab(keytab) : parseKeytab(keytab);
  } catch (err) {
    throw new InvalidArgumentError(`Mock option auth.kerberos.keytab: ${(err as Error).message}`, {
      argument: 'auth.kerberos.keytab',
      remedy:
        'give the path or bytes of an MIT keytab holding the service keys (kadmin ktadd -k FILE HTTP/host)',
      cause: err,
    });
  }
  if (keys.length === 0) {
    throw new InvalidArgumentError('Mock option auth.kerberos.keytab holds no keys', {
      argument: 'auth.kerberos.keytab',
      remedy: 'add the service principals with kadmin ktadd -k FILE HTTP/host WSMAN/host',
    });
  }
  return keys;
}
