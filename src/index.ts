/**
 * winrm-connection: run commands on Windows hosts and move files over WinRM.
 * Public surface only; everything here is re-exported from its own module.
 */
export * from './errors.ts';
export * as wsman from './wsman/index.ts';
