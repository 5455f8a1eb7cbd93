/** A contract environment backed by the in-process mock, with the contract's scripted commands installed. */
import { type ConnectionOptions, connect } from '../../src/index.ts';
import { builtinsHost } from '../../src/mock/hosts/builtins.ts';
import { scriptedHost } from '../../src/mock/hosts/scripted.ts';
import { type MockServerOptions, startMockServer } from '../../src/mock/index.ts';
import { contractRules, type Observations } from './commands.ts';
import type { ContractEnvironment } from './connection-contract.ts';

/** OperationTimeout of contract connections (ms): short, so "silent for 3x" tests stay quick. */
export const CONTRACT_OPERATION_TIMEOUT = 1000;

export async function mockEnvironment(
  mockOptions: Omit<MockServerOptions, 'commandHost'>,
  clientOptions: (mock: { url: string; thumbprints?: { sha1: string; sha256: string } }) => ConnectionOptions,
): Promise<ContractEnvironment> {
  const seen: Observations = { signals: [], stdinSha256: [] };
  const mock = await startMockServer({
    ...mockOptions,
    commandHost: scriptedHost(contractRules(seen), { fallback: builtinsHost({}) }),
  });
  return {
    seen,
    operationTimeout: CONTRACT_OPERATION_TIMEOUT,
    connect: (extra = {}) =>
      connect({ ...clientOptions(mock), operationTimeout: CONTRACT_OPERATION_TIMEOUT, ...extra }),
    openShells: () => mock.shells().length,
    injectFault: (action, wsmanCode) =>
      mock.inject({ match: { action }, once: true, kind: 'fault', fault: { wsmanCode } }),
    close: () => mock.close(),
  };
}
