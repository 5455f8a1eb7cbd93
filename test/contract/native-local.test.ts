/**
 * The connection contract for WINRM_NATIVE through the local runner and the winrs emulator (one process per
 * command) against the mock, with winrsUnencrypted; the transfer contract runs in test/native/transfer-local.test.ts (CPU budget).
 */
import { after } from 'node:test';
import { nativeLocalSetup } from '../native/emulator-launcher.ts';
import { describeConnectionContract } from './connection-contract.ts';

if (process.platform === 'win32') {
  console.warn('native-local contract: skipped on Windows (the emulator stands in for winrs.exe elsewhere)');
} else {
  // -unencrypted (AllowUnencrypted=true on the mock): the 100 MB and 10 MB streams skip NTLM sealing in two
  // processes; the transfer contract runs sealed.
  const env = nativeLocalSetup({ unencrypted: true });
  after(() => env.dispose());
  describeConnectionContract(
    'WINRM_NATIVE, local runner + winrs emulator (NTLM, -unencrypted over HTTP)',
    env.setup,
  );
}
