/**
 * The mock for the transfer benchmark, in its own process. It answers PowerShell it does not recognise (winrmcp's
 * decode step) in the explicit benchmark-only accept-all mode; winrmcp's `echo ... >> file` commands run in the
 * builtins' cmd.exe emulation. Prints one JSON line { url, fileRoot }; answers 'stats' IPC messages with the
 * mock's counters; stops on SIGTERM.
 */
import { builtinsHost } from '../../src/mock/hosts/builtins.ts';
import { startMockServer } from '../../src/mock/index.ts';

const [user, password] = (process.argv[2] ?? 'bench:bench-pass').split(':') as [string, string];
const mock = await startMockServer({
  users: [{ name: user, password }],
  auth: { basic: true },
  allowUnencrypted: true,
  maxEnvelopeSize: 512_000,
  // High enough for winrmcp's shells of 15 operations each over a long run.
  quotas: { maxShellsPerUser: 1000, maxConcurrentOperationsPerUser: 100_000 },
  commandHost: builtinsHost({ powershell: { benchmarkOnlyAcceptAnyPowerShell: true } }),
});
process.stdout.write(`${JSON.stringify({ url: mock.url, port: mock.port, fileRoot: mock.fileRoot })}\n`);
process.on('message', (m) => {
  if (m === 'stats')
    process.send?.({
      bytesIn: mock.stats.bytesIn,
      bytesOut: mock.stats.bytesOut,
      requests: mock.stats.requests,
    });
});
process.once('SIGTERM', () => {
  void mock.close().then(() => process.exit(0));
});
