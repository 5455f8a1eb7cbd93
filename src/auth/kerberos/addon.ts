/**
 * The optional `kerberos` npm addon (GSSAPI through MIT krb5 or Heimdal on Unix, SSPI on Windows), loaded with a
 * dynamic import the first time Kerberos is asked for, so the rest of the library installs and runs without it.
 * Only the subset used here is typed: the package's own types are not needed at compile time.
 */
import { InvalidArgumentError } from '../../errors.ts';
import { importLazily } from '../../lazy-import.ts';

export interface KerberosClientLike {
  contextComplete: boolean;
  /** After unwrap: 1 when the message was sealed (confidentiality), 0 when only signed (GSSAPI only). */
  responseConf?: number;
  step(challenge: string): Promise<string>;
  wrap(challenge: string, options?: { protect?: boolean }): Promise<string>;
  unwrap(challenge: string): Promise<string>;
}

export interface KerberosAddon {
  GSS_C_DELEG_FLAG: number;
  GSS_C_MUTUAL_FLAG: number;
  GSS_C_REPLAY_FLAG: number;
  GSS_C_SEQUENCE_FLAG: number;
  GSS_C_CONF_FLAG: number;
  GSS_C_INTEG_FLAG: number;
  GSS_MECH_OID_KRB5: number;
  GSS_MECH_OID_SPNEGO: number;
  initializeClient(
    service: string,
    options?: { principal?: string; flags?: number; mechOID?: number },
  ): Promise<KerberosClientLike>;
}

/** How to get the addon, as printed in the error. */
export const INSTALL_REMEDY =
  'install the optional addon with `npm install kerberos` (it needs libkrb5 at run time; to build it: on ' +
  'Debian/Ubuntu `apt-get install libkrb5-dev g++ make python3`, on RHEL `dnf install krb5-devel gcc-c++ make`)';

let loading: Promise<KerberosAddon> | undefined;
/** For tests: a loader that replaces the addon's dynamic import. */
let importer: () => Promise<unknown> = () => importLazily('kerberos');

/** Load the addon once; a missing package or a missing libkrb5 is an InvalidArgumentError naming the fix. */
export function loadKerberos(): Promise<KerberosAddon> {
  loading ??= importer().then(
    (mod) => {
      const m = mod as { default?: unknown } & Record<string, unknown>;
      const addon = (m.default ?? m) as Partial<KerberosAddon>;
      if (typeof addon.initializeClient !== 'function') {
        throw new InvalidArgumentError('The kerberos package loaded but has no initializeClient()', {
          argument: 'auth',
          remedy: `use kerberos 2.x or later: ${INSTALL_REMEDY}`,
        });
      }
      return addon as KerberosAddon;
    },
    (err: unknown) => {
      loading = undefined;
      const text = err instanceof Error ? err.message : String(err);
      const missingPackage = /Cannot find (package|module) 'kerberos'/.test(text);
      throw new InvalidArgumentError(
        missingPackage
          ? "auth 'kerberos' needs the optional npm package kerberos, which is not installed"
          : `auth 'kerberos' could not load the kerberos addon (${text.split('\n')[0]})`,
        { argument: 'auth', remedy: INSTALL_REMEDY, cause: err },
      );
    },
  );
  return loading;
}

/** Test hook: replace the importer (and forget a loaded addon). Returns a function restoring the default. */
export function setKerberosImporter(fn: () => Promise<unknown>): () => void {
  const previous = importer;
  importer = fn;
  loading = undefined;
  return () => {
    importer = previous;
    loading = undefined;
  };
}
