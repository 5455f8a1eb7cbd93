/**
 * A tiny WinRM-shaped HTTP endpoint for the Kerberos CLIENT's tests, whose acceptor is MIT's GSSAPI (Debian
 * python3-gssapi, test/helpers/krb_acceptor.py, keys from the realm's keytab): it accepts `Negotiate` or
 * `Kerberos` tokens, answers the mutual-authentication token, unwraps sealed bodies (header | data joined: MIT
 * un-rotates any RRC) and seals its answers in the layout pyspnego/Windows use (gss_wrap_iov, trailer in the
 * header, RRC set), framed as [MS-WSMV] 2.2.9.1. It records what it saw for byte-level assertions. Misbehaviours
 * for the mutual-authentication tests: `mutual: 'omit' | 'garbage'`.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  ENCRYPTED_PROTOCOLS,
  encryptedContentType,
  frameEncrypted,
  isEncryptedContentType,
  parseEncrypted,
} from '../../src/auth/message-encryption.ts';
import type { Kdc } from './kdc.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'krb_acceptor.py');

export interface AcceptorReply {
  token?: string | null;
  complete?: boolean;
  initiator?: string;
  target?: string;
  delegated?: boolean;
  mutual?: boolean;
  data?: string;
  encrypted?: boolean;
  header?: string;
  error?: string;
}

/** The python acceptor process: one request at a time, in order. */
export class MitAcceptor {
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #waiting: Array<(r: AcceptorReply) => void> = [];

  constructor(env: Record<string, string>) {
    this.#child = spawn(PYTHON, [SCRIPT], { env: { PATH: process.env.PATH ?? '', ...env } });
    this.#child.stderr.on('data', (b: Buffer) => process.stderr.write(`[krb_acceptor] ${b}`));
    createInterface({ input: this.#child.stdout }).on('line', (line) => {
      this.#waiting.shift()?.(JSON.parse(line) as AcceptorReply);
    });
  }

  call(req: Record<string, unknown>): Promise<AcceptorReply> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#child.stdin.write(`${JSON.stringify(req)}\n`);
    });
  }

  close(): void {
    this.#child.stdin.end();
    this.#child.kill();
  }
}

export interface SeenRequest {
  authorization?: string;
  contentType?: string;
  /** The raw sealed payload parts, when sealed. */
  sealedHeader?: Buffer;
  sealedData?: Buffer;
  declaredLength?: number;
  plaintext?: Buffer;
  protocol?: string;
}

export interface KrbServer {
  url: string;
  port: number;
  seen: SeenRequest[];
  /** Per completed handshake: what the acceptor learned. */
  logins: AcceptorReply[];
  acceptor: MitAcceptor;
  /** 'omit' answers without the mutual token, 'garbage' with a bad one. Default: 'send'. */
  mutual: 'send' | 'omit' | 'garbage';
  /** The answer body for a plaintext request. Default: `echo:<plaintext>`. */
  answer: (plain: Buffer) => Buffer;
  close(): Promise<void>;
}

export async function startKrbServer(
  kdc: Kdc,
  tls?: { keyPem: string; certPem: string },
): Promise<KrbServer> {
  const acceptor = new MitAcceptor(kdc.env);
  const ids = new WeakMap<Socket, string>();
  let nextId = 0;
  const seen: SeenRequest[] = [];
  const logins: AcceptorReply[] = [];
  const state: Pick<KrbServer, 'mutual' | 'answer'> = {
    mutual: 'send',
    answer: (plain) => Buffer.from(`echo:${plain.toString()}`),
  };
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const entry: SeenRequest = {
          authorization: req.headers.authorization,
          contentType: req.headers['content-type'],
        };
        seen.push(entry);
        const auth = /^(Negotiate|Kerberos) (.+)$/i.exec(req.headers.authorization ?? '');
        let wwwAuth: string | undefined;
        if (auth) {
          const id = `c${nextId++}`;
          ids.set(req.socket, id);
          const r = await acceptor.call({ op: 'accept', id, token: auth[2] });
          if (r.error || !r.complete) {
            res.writeHead(401, { 'WWW-Authenticate': auth[1]! }).end();
            return;
          }
          logins.push(r);
          if (state.mutual === 'send' && r.token) wwwAuth = `${auth[1]} ${r.token}`;
          if (state.mutual === 'garbage')
            wwwAuth = `${auth[1]} ${Buffer.from('not an AP-REP').toString('base64')}`;
        }
        const id = ids.get(req.socket);
        if (!id) {
          res.writeHead(401, { 'WWW-Authenticate': ['Negotiate', 'Kerberos'] }).end();
          return;
        }
        const headers: Record<string, string> = {};
        if (wwwAuth) headers['WWW-Authenticate'] = wwwAuth;
        if (body.length === 0) {
          res.writeHead(200, headers).end();
          return;
        }
        if (!isEncryptedContentType(req.headers['content-type'])) {
          entry.plaintext = body;
          res
            .writeHead(200, { ...headers, 'Content-Type': 'application/soap+xml;charset=UTF-8' })
            .end(state.answer(body));
          return;
        }
        const parts = parseEncrypted(body);
        entry.sealedHeader = parts.header;
        entry.sealedData = parts.data;
        entry.declaredLength = parts.length;
        entry.protocol = parts.protocol;
        const token = Buffer.concat([parts.header, parts.data]).toString('base64');
        const u = await acceptor.call({ op: 'unwrap', id, token });
        if (u.error || !u.encrypted) {
          res.writeHead(400).end(u.error ?? 'not encrypted');
          return;
        }
        const plain = Buffer.from(u.data!, 'base64');
        entry.plaintext = plain;
        const answer = state.answer(plain);
        const w = await acceptor.call({ op: 'wrap_winrm', id, data: answer.toString('base64') });
        const protocol =
          parts.protocol === ENCRYPTED_PROTOCOLS.kerberos
            ? ENCRYPTED_PROTOCOLS.kerberos
            : ENCRYPTED_PROTOCOLS.spnego;
        const framed = frameEncrypted(
          { header: Buffer.from(w.header!, 'base64'), data: Buffer.from(w.data ?? '', 'base64') },
          answer.length,
          protocol,
        );
        res.writeHead(200, { ...headers, 'Content-Type': encryptedContentType(protocol) }).end(framed);
      })().catch((err: unknown) => {
        res.writeHead(500).end(String(err));
      });
    });
  };
  const server: Server = tls
    ? createHttpsServer({ key: tls.keyPem, cert: tls.certPem }, handler)
    : createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const self: KrbServer = {
    url: `${tls ? 'https' : 'http'}://localhost:${port}/wsman`,
    port,
    seen,
    logins,
    acceptor,
    get mutual() {
      return state.mutual;
    },
    set mutual(v) {
      state.mutual = v;
    },
    get answer() {
      return state.answer;
    },
    set answer(v) {
      state.answer = v;
    },
    async close() {
      acceptor.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  return self;
}
