/**
 * winrm-connection: run commands on Windows hosts and move files over WinRM.
 * Public surface only; everything here is re-exported from its own module.
 */
export * from './account.ts';
export { argvToCmdLine, CmdLine, decodeClixml, escapeCmdMeta, quoteMsvcrt } from './cmdline.ts';
export { decodeCodepage } from './codepage.ts';
export { connect } from './connect.ts';
export type * from './connection.ts';
export type { Logger } from './debug.ts';
export * from './errors.ts';
export type {
  AuthMechanism,
  AuthOptions,
  CommonOptions,
  ConnectionOptions,
  TlsOptions,
  WinRmOptions,
} from './options/index.ts';
export * as wsman from './wsman/index.ts';
