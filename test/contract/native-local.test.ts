/**
 * The connection contract for WINRM_NATIVE through the local runner and the winrs emulator (one process per
 * command) against the mock; the transfer contract runs in test/native/transfer-local.test.ts (CPU budget).
 */
import { after } from 'node:test';
import { nativeLocalSetup } from '../native/emulator-launcher.ts';
import { describeConnectionContract } from './connection-contract.ts';

if (process.platform === 'win32') {
  console.warn('native-local contract: skipped on Windows (the emulator stands in for winrs.exe elsewhere)');
} else {
  const env = nativeLocalSetup();
  after(() => env.dispose());
  describeConnectionContract('WINRM_NATIVE, local runner + winrs emulator (NTLM, encrypted HTTP)', env.setup);
}
