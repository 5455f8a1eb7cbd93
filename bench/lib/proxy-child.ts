/**
 * The latency proxy in its own process (so its timers and copying do not share an event loop with the Node
 * client measured). argv: TARGET_HOST TARGET_PORT DELAY_MS. Prints one JSON line { port }; answers 'stats' IPC
 * messages with { requests, connections, broken }; stops on SIGTERM.
 */
import { HttpRequestCounter } from './http-count.ts';
import { startLatencyProxy } from './latency-proxy.ts';

const [host = '127.0.0.1', port = '0', delay = '5'] = process.argv.slice(2);
const counters: HttpRequestCounter[] = [];
const proxy = await startLatencyProxy({
  target: { host, port: Number(port) },
  delayMs: Number(delay),
  onConnection: () => {
    const c = new HttpRequestCounter();
    counters.push(c);
    return { up: (chunk) => c.push(chunk) };
  },
});
process.stdout.write(`${JSON.stringify({ port: proxy.port })}\n`);
process.on('message', (m) => {
  if (m !== 'stats') return;
  process.send?.({
    requests: counters.reduce((n, c) => n + c.requests, 0),
    connections: proxy.stats().connections,
    broken: counters.find((c) => c.broken)?.broken,
  });
});
process.once('SIGTERM', () => {
  void proxy.close().then(() => process.exit(0));
});
