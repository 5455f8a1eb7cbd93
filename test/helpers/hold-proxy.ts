/**
 * A TCP proxy in front of a server that can hold the server's answers: while `hold` is on, bytes from the server
 * are queued instead of forwarded (the server has handled the request, the client has not heard back), and
 * released in order when it is turned off. For aborts that land between the server's work and its answer.
 */
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

export interface HoldProxy {
  url: string;
  /** Queue answers from now on (true) or forward them, releasing what was queued (false). */
  setHold(on: boolean): void;
  close(): Promise<void>;
}

export async function startHoldProxy(upstreamUrl: string): Promise<HoldProxy> {
  const up = new URL(upstreamUrl);
  let hold = false;
  const flushers = new Set<() => void>();
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const server = connect(Number(up.port), up.hostname);
    sockets.add(client);
    sockets.add(server);
    const queued: Buffer[] = [];
    const flush = () => {
      for (const b of queued.splice(0)) if (!client.destroyed) client.write(b);
    };
    flushers.add(flush);
    client.pipe(server);
    server.on('data', (b: Buffer) => {
      if (hold) queued.push(b);
      else client.write(b);
    });
    const end = () => {
      flushers.delete(flush);
      client.destroy();
      server.destroy();
      sockets.delete(client);
      sockets.delete(server);
    };
    client.on('close', end).on('error', end);
    server.on('close', () => {
      if (queued.length === 0) end();
    });
    server.on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${up.protocol}//127.0.0.1:${port}${up.pathname}`,
    setHold(on) {
      hold = on;
      if (!on) for (const f of flushers) f();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
