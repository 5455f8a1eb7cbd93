/** Raw servers for the HTTP layer's tests: TCP servers answering with exact bytes, and a CONNECT proxy. */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { HttpChannel } from '../../src/http/channel.ts';
import { type ConnectionOptions, resolveOptions } from '../../src/options/index.ts';

export interface RawServer {
  port: number;
  connections: number;
  close(): Promise<void>;
}

/** A TCP server that answers each complete request (head + Content-Length body) with `answer(n)`. */
export async function rawServer(
  answer: (n: number, socket: net.Socket, head: string) => string | Buffer | undefined,
): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  const state = { connections: 0 };
  let count = 0;
  const server = net.createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.toString('latin1', 0, end);
        const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        buf = buf.subarray(end + 4 + len);
        const out = answer(++count, socket, head);
        if (out !== undefined) socket.write(out);
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return state.connections;
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

export const ok = (body: string, extra = '') =>
  `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

export function channelFor(
  endpoint: string,
  more: Partial<ConnectionOptions> = {},
  options: { maxIdleReuseMs?: number } = {},
): HttpChannel {
  const resolved = resolveOptions({
    endpoint,
    username: 'u',
    password: 'p',
    allowUnencrypted: true,
    ...more,
  });
  return new HttpChannel(resolved, options);
}

export interface ConnectProxy {
  url: string;
  port: number;
  /** CONNECT requests seen, with their target and Proxy-Authorization header. */
  tunnels: Array<{ target: string; authorization: string | undefined }>;
  /** Answer the next CONNECTs with this status instead of opening a tunnel. */
  refuse: number | undefined;
  close(): Promise<void>;
}

/** A CONNECT proxy on 127.0.0.1 (node:http 'connect' event); `refuse` makes it answer with an error status. */
export async function connectProxy(): Promise<ConnectProxy> {
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  const state: ConnectProxy = {
    url: '',
    port: 0,
    tunnels: [],
    refuse: undefined,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    state.tunnels.push({ target: req.url ?? '', authorization: req.headers['proxy-authorization'] });
    client.on('error', () => undefined);
    if (state.refuse !== undefined) {
      client.end(`HTTP/1.1 ${state.refuse} Refused\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect({ host, port: Number(port) }, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  state.port = (server.address() as net.AddressInfo).port;
  state.url = `http://127.0.0.1:${state.port}`;
  return state;
}
