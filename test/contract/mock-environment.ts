/** A contract environment backed by the in-process mock, with the contract's scripted commands installed. */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ConnectionOptions, connect } from '../../src/index.ts';
import { builtinsHost } from '../../src/mock/hosts/builtins.ts';
import { scriptedHost } from '../../src/mock/hosts/scripted.ts';
import { type MockServerOptions, startMockServer } from '../../src/mock/index.ts';
import { contractRules, type Observations } from './commands.ts';
import type { ContractEnvironment } from './connection-contract.ts';
import type { TransferContractEnvironment } from './transfer-contract.ts';

/** OperationTimeout of contract connections (ms): short, so "silent for 3x" tests stay quick. */
export const CONTRACT_OPERATION_TIMEOUT = 1000;

export type MockEnvironment = ContractEnvironment & TransferContractEnvironment;

export async function mockEnvironment(
  mockOptions: Omit<MockServerOptions, 'commandHost'>,
  clientOptions: (mock: { url: string; thumbprints?: { sha1: string; sha256: string } }) => ConnectionOptions,
): Promise<MockEnvironment> {
  const seen: Observations = { signals: [], stdinSha256: [] };
  const mock = await startMockServer({
    ...mockOptions,
    commandHost: scriptedHost(contractRules(seen), { fallback: builtinsHost({}) }),
  });
  const hostPath = (winPath: string) => {
    const m = /^([A-Za-z]):\\?(.*)$/.exec(winPath);
    if (!m) throw new Error(`not an absolute Windows path: ${winPath}`);
    return join(mock.fileRoot, m[1]!.toUpperCase(), ...m[2]!.split('\\').filter(Boolean));
  };
  return {
    seen,
    // The mock is a WinRM service: shells are pooled on it, it injects faults, the client counts requests.
    capabilities: { shellPooling: true, faultInjection: true, requestCounts: true },
    operationTimeout: CONTRACT_OPERATION_TIMEOUT,
    connect: (extra: Partial<ConnectionOptions> = {}) =>
      connect({ ...clientOptions(mock), operationTimeout: CONTRACT_OPERATION_TIMEOUT, ...extra }),
    openShells: () => mock.shells().length,
    injectFault: (action, wsmanCode) =>
      mock.inject({ match: { action }, once: true, kind: 'fault', fault: { wsmanCode } }),
    readRemote: (winPath) => readFile(hostPath(winPath)),
    remoteTempFiles: async () => {
      const all = await readdir(mock.fileRoot, { recursive: true }).catch(() => [] as string[]);
      return all.map(String).filter((p) => /(^|[\\/])\.wrcp-[0-9a-f]{16}\.tmp$/.test(p));
    },
    close: () => mock.close(),
  };
}
