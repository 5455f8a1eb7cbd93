/**
 * A scripted WinRM endpoint for behaviours the mock (which behaves like Windows) does not produce on its own:
 * every action is answered by a handler the test chooses. Bodies are in Windows' reply form (src/wsman/reply.ts).
 * The server ignores authentication: connect with Basic and allowUnencrypted.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ACTIONS } from '../../src/wsman/constants.ts';
import { buildReply, commandStateElement, streamElement } from '../../src/wsman/reply.ts';

export const SHELL_ID = '0A6B5C7D-1E2F-4A3B-8C9D-0E1F2A3B4C5D';
export const COMMAND_ID = '9B8A7C6D-5E4F-4A3B-9C2D-1E0F9A8B7C6D';

export type FakeAction = 'Create' | 'Command' | 'Receive' | 'Send' | 'Signal' | 'Delete';
/** Return the body to answer with, or 'hang' to never answer. */
export type FakeHandler = (n: number) => string | 'hang';

export interface FakeWinRm {
  url: string;
  /** Requests seen per action. */
  counts: Record<FakeAction, number>;
  close(): Promise<void>;
}

export const replies = {
  create: () =>
    '<x:ResourceCreated><a:Address>http://127.0.0.1/wsman</a:Address><a:ReferenceParameters>' +
    '<w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</w:ResourceURI>' +
    `<w:SelectorSet><w:Selector Name="ShellId">${SHELL_ID}</w:Selector></w:SelectorSet>` +
    '</a:ReferenceParameters></x:ResourceCreated>' +
    `<rsp:Shell xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><rsp:ShellId>${SHELL_ID}</rsp:ShellId></rsp:Shell>`,
  command: () => `<rsp:CommandResponse><rsp:CommandId>${COMMAND_ID}</rsp:CommandId></rsp:CommandResponse>`,
  running: () => `<rsp:ReceiveResponse>${commandStateElement(COMMAND_ID, 'Running')}</rsp:ReceiveResponse>`,
  output: (text: string) =>
    `<rsp:ReceiveResponse>${streamElement('stdout', COMMAND_ID, Buffer.from(text).toString('base64'))}` +
    `${commandStateElement(COMMAND_ID, 'Running')}</rsp:ReceiveResponse>`,
  done: (code = 0) =>
    `<rsp:ReceiveResponse>${commandStateElement(COMMAND_ID, 'Done', code)}</rsp:ReceiveResponse>`,
  empty: () => '',
} as const;

const RESPONSE_ACTION: Record<FakeAction, string> = {
  Create: ACTIONS.createResponse,
  Command: ACTIONS.commandResponse,
  Receive: ACTIONS.receiveResponse,
  Send: ACTIONS.sendResponse,
  Signal: ACTIONS.signalResponse,
  Delete: ACTIONS.deleteResponse,
};

export async function startFakeWinRm(handlers: Partial<Record<FakeAction, FakeHandler>>): Promise<FakeWinRm> {
  const counts: Record<FakeAction, number> = {
    Create: 0,
    Command: 0,
    Receive: 0,
    Send: 0,
    Signal: 0,
    Delete: 0,
  };
  const defaults: Record<FakeAction, FakeHandler> = {
    Create: replies.create,
    Command: replies.command,
    Receive: () => replies.done(0),
    Send: replies.empty,
    Signal: replies.empty,
    Delete: replies.empty,
  };
  const hanging = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const xml = Buffer.concat(parts).toString('utf8');
      const uri = /<a:Action[^>]*>([^<]+)<\/a:Action>/.exec(xml)?.[1] ?? '';
      const messageId = /<a:MessageID>([^<]+)<\/a:MessageID>/.exec(xml)?.[1] ?? '';
      const name = uri.slice(uri.lastIndexOf('/') + 1);
      const action = (name in RESPONSE_ACTION ? name : '') as FakeAction | '';
      if (!action) {
        res.writeHead(400).end();
        return;
      }
      counts[action]++;
      const body = (handlers[action] ?? defaults[action])(counts[action]);
      if (body === 'hang') {
        hanging.add(res);
        return;
      }
      const kind = action === 'Receive' ? 'receive' : 'shell';
      const out = buildReply({ action: RESPONSE_ACTION[action], relatesTo: messageId, kind }, body);
      res.writeHead(200, { 'Content-Type': 'application/soap+xml;charset=UTF-8' }).end(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/wsman`,
    counts,
    close: async () => {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
