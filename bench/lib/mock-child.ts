/**
 * A mock endpoint in its own process with options the mock CLI has no flags for (quotas):
 * `node --import tsx bench/lib/mock-child.ts '<MockServerOptions as JSON>'`; prints its URL on the first line and
 * stops on SIGTERM.
 */
import { type MockServerOptions, startMockServer } from '../../src/mock/index.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as MockServerOptions;
const server = await startMockServer(options);
console.log(server.url);
process.on('SIGTERM', () => {
  void server.close().finally(() => process.exit(0));
});
