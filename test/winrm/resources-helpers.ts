/**
 * A scripted WS-Man endpoint for the resource operations: each request is answered by the test's handler with a
 * fixture (test/fixtures/*.xml, Windows' form; its RelatesTo is rewritten to the request's MessageID), a body
 * wrapped in a Windows-shaped envelope, or 'hang'. Authentication is not checked: connect with allowUnencrypted.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from '../../src/connect.ts';
import type { WinRmInternalConnection } from '../../src/winrm/connection.ts';

const FIXTURE_RELATES_TO = 'uuid:5F0C7A5E-2B5B-4C8E-9D5C-6D4F1E2A3B4C';

export interface SeenRequest {
  action: string;
  xml: string;
  headers: IncomingHttpHeaders;
}

export type Answer = { fixture: string; status?: number } | { body: string; action: string } | 'hang';
export type Handler = (req: SeenRequest, n: number) => Answer;

export function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
}

function envelope(action: string, relatesTo: string, body: string): string {
  return (
    '<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" ' +
    'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" ' +
    'xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" ' +
    'xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"><s:Header>' +
    `<a:Action>${action}</a:Action><a:MessageID>uuid:6071829A-B4C5-46D7-A2E3-F40516273849</a:MessageID>` +
    '<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>' +
    `<a:RelatesTo>${relatesTo}</a:RelatesTo></s:Header><s:Body>${body}</s:Body></s:Envelope>`
  );
}

export interface FakeResources {
  url: string;
  seen: SeenRequest[];
  /** Actions seen, last path segment only (Get, Pull, StartService...). */
  actions(): string[];
  conn(): Promise<WinRmInternalConnection>;
  close(): Promise<void>;
}

export async function startFakeResources(handler: Handler): Promise<FakeResources> {
  const seen: SeenRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const conns: WinRmInternalConnection[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const xml = Buffer.concat(parts).toString('utf8');
      const action = /<a:Action[^>]*>([^<]+)<\/a:Action>/.exec(xml)?.[1] ?? '';
      const messageId = /<a:MessageID>([^<]+)<\/a:MessageID>/.exec(xml)?.[1] ?? '';
      const r: SeenRequest = { action, xml, headers: req.headers };
      seen.push(r);
      const answer = handler(r, seen.length);
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      let out: string;
      let status = 200;
      if ('fixture' in answer) {
        out = fixture(answer.fixture).replace(FIXTURE_RELATES_TO, messageId);
        status = answer.status ?? 200;
      } else out = envelope(answer.action, messageId, answer.body);
      res.writeHead(status, { 'Content-Type': 'application/soap+xml;charset=UTF-8' }).end(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/wsman`;
  return {
    url,
    seen,
    actions: () => seen.map((s) => s.action.slice(s.action.lastIndexOf('/') + 1)),
    conn: async () => {
      const c = (await connect({
        endpoint: url,
        username: 'vagrant',
        password: 'vagrant',
        allowUnencrypted: true,
      })) as WinRmInternalConnection;
      conns.push(c);
      return c;
    },
    close: async () => {
      for (const r of hanging) r.destroy();
      for (const c of conns) c.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
