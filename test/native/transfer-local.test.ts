/** The transfer contract for WINRM_NATIVE through the local runner and the winrs emulator, against the mock. */
import { after } from 'node:test';
import { describeTransferContract } from '../contract/transfer-contract.ts';
import { nativeLocalSetup } from './emulator-launcher.ts';

if (process.platform === 'win32') {
  console.warn(
    'native transfer contract: skipped on Windows (the emulator stands in for winrs.exe elsewhere)',
  );
} else {
  const env = nativeLocalSetup();
  after(() => env.dispose());
  describeTransferContract('WINRM_NATIVE, local runner + winrs emulator (NTLM, encrypted HTTP)', env.setup);
}
