/**
 * `winrm-connection/mock`: a mock WinRM endpoint that behaves like a Windows host, for tests.
 * See docs/mock.md.
 */
export type { AuthOutcome, AuthScheme, SecurityContext } from './auth/types.ts';
export { runMockCli } from './cli.ts';
export { type BuiltinsOptions, builtinsHost } from './hosts/builtins.ts';
export { decodeText, encodeText } from './hosts/codepage.ts';
export { FileArea } from './hosts/files.ts';
export { type LocalHostOptions, localHost } from './hosts/local.ts';
export {
  type CannedReply,
  type CommandMatcher,
  type PowerShellContext,
  type PowerShellHandler,
  type PowerShellMatcher,
  type PowerShellRule,
  type ScriptedContext,
  type ScriptedHandler,
  type ScriptedHostOptions,
  type ScriptedRule,
  scriptedHost,
} from './hosts/scripted.ts';
export type { CommandContext, CommandHost, OutputWriter, ShellInfo } from './hosts/types.ts';
export type { FaultInjection, InjectionKind } from './injection.ts';
export type { MockStats, RequestLogEntry } from './log.ts';
export {
  type HostOption,
  MOCK_DEFAULTS,
  type MockAuthOptions,
  type MockHttpLimits,
  type MockKerberosOptions,
  type MockQuotas,
  type MockServerOptions,
  type MockUser,
} from './options.ts';
export { type MockServer, startMockServer } from './server.ts';
export { EXIT_CTRL_C, EXIT_OUT_OF_MEMORY } from './shells/command.ts';
export type { CommandSnapshot, ShellSnapshot } from './shells/store.ts';
export type { CertificateThumbprints } from './tls/certificate.ts';
export { type PowerShellEmulationOptions, TransferFaults } from './transfer/index.ts';
