/** The mock's emulation of winrm-connection's transfer scripts (see powershell.ts). */
export { TransferFaults } from './faults.ts';
export { type PowerShellEmulationOptions, type PowerShellInvocation, runPowerShell } from './powershell.ts';
