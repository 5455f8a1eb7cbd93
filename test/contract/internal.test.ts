/**
 * The connection and transfer contracts for the WinRM-internal strategy with Basic, against the mock over HTTP
 * and HTTPS.
 */
import { describeConnectionContract } from './connection-contract.ts';
import { mockEnvironment } from './mock-environment.ts';
import { describeTransferContract } from './transfer-contract.ts';

const USER = { name: 'deployer', password: 'C0ntract&Pass' };

for (const https of [false, true]) {
  const name = https
    ? 'WINRM_INTERNAL over HTTPS (Basic, pinned thumbprint)'
    : 'WINRM_INTERNAL over HTTP (Basic, allowUnencrypted)';
  const setup = () =>
    mockEnvironment({ https, users: [USER], auth: { basic: true }, allowUnencrypted: !https }, (mock) => ({
      endpoint: mock.url,
      username: USER.name,
      password: USER.password,
      allowUnencrypted: !https,
      tls: https ? { fingerprint: mock.thumbprints!.sha1 } : undefined,
    }));
  describeConnectionContract(name, setup);
  describeTransferContract(name, setup);
}
