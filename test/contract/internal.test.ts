/** The connection contract for the WinRM-internal strategy, against the mock over HTTP and over HTTPS. */
import { connect } from '../../src/index.ts';
import { builtinsHost } from '../../src/mock/hosts/builtins.ts';
import { scriptedHost } from '../../src/mock/hosts/scripted.ts';
import { startMockServer } from '../../src/mock/index.ts';
import { contractRules, type Observations } from './commands.ts';
import { type ContractEnvironment, describeConnectionContract } from './connection-contract.ts';

const USER = { name: 'deployer', password: 'C0ntract&Pass' };
const OPERATION_TIMEOUT = 1;

async function environment(https: boolean): Promise<ContractEnvironment> {
  const seen: Observations = { signals: [], stdinSha256: [] };
  const mock = await startMockServer({
    https,
    users: [USER],
    auth: { basic: true },
    allowUnencrypted: !https,
    commandHost: scriptedHost(contractRules(seen), { fallback: builtinsHost({}) }),
  });
  return {
    seen,
    operationTimeout: OPERATION_TIMEOUT,
    connect: (extra = {}) =>
      connect({
        endpoint: mock.url,
        username: USER.name,
        password: USER.password,
        allowUnencrypted: !https,
        tls: https ? { fingerprint: mock.thumbprints!.sha1 } : undefined,
        operationTimeout: OPERATION_TIMEOUT,
        ...extra,
      }),
    openShells: () => mock.shells().length,
    injectFault: (action, wsmanCode) =>
      mock.inject({ match: { action }, once: true, kind: 'fault', fault: { wsmanCode } }),
    close: () => mock.close(),
  };
}

describeConnectionContract('WINRM_INTERNAL over HTTP (Basic, allowUnencrypted)', () => environment(false));
describeConnectionContract('WINRM_INTERNAL over HTTPS (Basic, pinned thumbprint)', () => environment(true));
