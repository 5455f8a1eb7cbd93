/** Kerberos (SPNEGO / raw Kerberos) through the optional `kerberos` addon; see docs/kerberos.md. */
export { INSTALL_REMEDY, loadKerberos } from './addon.ts';
export { type KerberosFailureKind, kerberosError, kerberosFailureKind } from './errors.ts';
export { fromWinRmLayout, toWinRmLayout, WINDOWS_RRC } from './layout.ts';
export {
  hostBasedName,
  KerberosMechanism,
  type KerberosMechanismOptions,
  servicePrincipal,
} from './mechanism.ts';
