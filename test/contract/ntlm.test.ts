/**
 * The connection contract over NTLM: message encryption on plain HTTP with the mock left at Windows' default
 * AllowUnencrypted=false, and NTLM inside HTTPS (no message encryption, channel bindings required).
 */
import { connect } from '../../src/index.ts';
import { builtinsHost } from '../../src/mock/hosts/builtins.ts';
import { scriptedHost } from '../../src/mock/hosts/scripted.ts';
import { startMockServer } from '../../src/mock/index.ts';
import { contractRules, type Observations } from './commands.ts';
import { type ContractEnvironment, describeConnectionContract } from './connection-contract.ts';

const USER = { name: 'svc-deploy', password: 'Ntlm&Contract-1', domain: 'CORP' };
const OPERATION_TIMEOUT = 1;

async function environment(https: boolean): Promise<ContractEnvironment> {
  const seen: Observations = { signals: [], stdinSha256: [] };
  const mock = await startMockServer({
    https,
    users: [USER],
    auth: { negotiate: true, channelBinding: https ? 'strict' : 'none' },
    commandHost: scriptedHost(contractRules(seen), { fallback: builtinsHost({}) }),
  });
  return {
    seen,
    operationTimeout: OPERATION_TIMEOUT,
    connect: (extra = {}) =>
      connect({
        endpoint: mock.url,
        username: `${USER.domain}\\${USER.name}`,
        password: USER.password,
        auth: 'ntlm',
        tls: https ? { fingerprint: mock.thumbprints!.sha256 } : undefined,
        operationTimeout: OPERATION_TIMEOUT,
        ...extra,
      }),
    openShells: () => mock.shells().length,
    injectFault: (action, wsmanCode) =>
      mock.inject({ match: { action }, once: true, kind: 'fault', fault: { wsmanCode } }),
    close: () => mock.close(),
  };
}

describeConnectionContract('WINRM_INTERNAL, NTLM with encryption over HTTP (AllowUnencrypted=false)', () =>
  environment(false),
);
describeConnectionContract('WINRM_INTERNAL, NTLM over HTTPS with channel binding', () => environment(true));
