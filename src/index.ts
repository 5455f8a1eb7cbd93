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
export {
  DOCTOR_DEFAULTS,
  type DoctorOptions,
  type DoctorReport,
  type DoctorStep,
  runDoctor,
} from './doctor/checks.ts';
export * from './errors.ts';
export * from './fanout/index.ts';
export { buildWinrsArgv, maskWinrsArgv, WINRS_SWITCHES, type WinrsArgvSettings } from './native/argv.ts';
export type { WinRsNativeConnection } from './native/connection.ts';
export { type EmulatorIo, runWinrsEmulator } from './native/emulator/index.ts';
export {
  WINRS_ERROR_PREFIX,
  type WinrsFailureKind,
  winrsFailure,
  winrsFailureKind,
} from './native/errors.ts';
export type {
  WinrsChild,
  WinrsExit,
  WinrsKillSignal,
  WinrsRunner,
  WinrsRunnerContext,
  WinrsRunnerFactory,
  WinrsSpawnOptions,
} from './native/runner.ts';
export type {
  AuthMechanism,
  AuthOptions,
  CommonOptions,
  ConnectionOptions,
  NativeOptions,
  TlsOptions,
  WinRmOptions,
  WinrsProxyProtocol,
} from './options/index.ts';
export { fromOverthere } from './options/overthere.ts';
export type { WinRmInternalConnection } from './winrm/connection.ts';
export type {
  CreateOptions,
  EnumerateOptions,
  GetOptions,
  IdentifyOptions,
  PutOptions,
  ResourceCallOptions,
} from './winrm/resources.ts';
export type { IdentifyResult } from './wsman/actions/identify.ts';
export type { CreatedResource, PropertyValue, ResourceInstance } from './wsman/actions/transfer.ts';
export * as wsman from './wsman/index.ts';
export {
  expandResourceUri,
  parseHashtable,
  RESOURCE_ALIASES,
  type ResolvedResource,
  type ResourceSpec,
  type ResourceValues,
  resolveResource,
} from './wsman/resource.ts';
