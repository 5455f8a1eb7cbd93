/**
 * The mock in its own process, for the 1 GB test (so client and mock memory are measured apart). Prints one JSON
 * line { url, fileRoot, pid } and serves until SIGTERM.
 */
import { builtinsHost } from '../../src/mock/hosts/builtins.ts';
import { startMockServer } from '../../src/mock/index.ts';

const [user, password] = (process.argv[2] ?? 'mover:pass').split(':') as [string, string];
const mock = await startMockServer({
  users: [{ name: user, password }],
  auth: { basic: true },
  allowUnencrypted: true,
  commandHost: builtinsHost(),
});
process.stdout.write(`${JSON.stringify({ url: mock.url, fileRoot: mock.fileRoot, pid: process.pid })}\n`);
process.once('SIGTERM', () => {
  void mock.close().then(() => process.exit(0));
});
