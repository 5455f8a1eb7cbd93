/**
 * The WS-Man actions the WinRM-internal strategy sends, each as one descriptor: how to write the request and how
 * to read its answer. WsmanClient.invoke() takes any of them (and the resource operations of the next issue add
 * theirs here); the builders and parsers themselves are the pure ones in src/wsman/actions/.
 */

import { buildCommand, type CommandParams, parseCommandResponse } from '../wsman/actions/command.ts';
import { buildIdentify, type IdentifyResult, parseIdentifyResponse } from '../wsman/actions/identify.ts';
import { buildReceive, parseReceiveResponse, type ReceiveResult } from '../wsman/actions/receive.ts';
import { buildSendBytes, parseSendResponse, type SendParams } from '../wsman/actions/send.ts';
import {
  buildCreateShell,
  buildDeleteShell,
  type CreatedShell,
  type CreateShellParams,
  parseCreateShellResponse,
  parseDeleteShellResponse,
} from '../wsman/actions/shell.ts';
import { buildSignal, parseSignalResponse, type SignalParams } from '../wsman/actions/signal.ts';
import type { RequestContext } from '../wsman/envelope.ts';
import type { SoapMessage } from '../wsman/response.ts';

/** One WS-Man request/response pair. */
export interface WsmanAction<P, R> {
  /** Name of the exchange for errors and logs, e.g. 'Receive'. */
  readonly what: string;
  build(ctx: RequestContext, params: P): string | Buffer;
  parse(msg: SoapMessage, params: P): R;
  /** Whether the answer carries a:RelatesTo to check against our MessageID. Identify has none. Default: true. */
  readonly relatesTo?: boolean;
}

export const CREATE_SHELL: WsmanAction<CreateShellParams, CreatedShell> = {
  what: 'Create shell',
  build: buildCreateShell,
  parse: (msg) => parseCreateShellResponse(msg),
};

export const DELETE_SHELL: WsmanAction<{ shellId: string }, void> = {
  what: 'Delete shell',
  build: buildDeleteShell,
  parse: (msg) => parseDeleteShellResponse(msg),
};

export const COMMAND: WsmanAction<CommandParams, { commandId: string }> = {
  what: 'Command',
  build: buildCommand,
  parse: (msg) => parseCommandResponse(msg),
};

export const SEND: WsmanAction<SendParams, void> = {
  what: 'Send',
  build: buildSendBytes,
  parse: (msg) => parseSendResponse(msg),
};

export const RECEIVE: WsmanAction<{ shellId: string; commandId: string }, ReceiveResult> = {
  what: 'Receive',
  build: buildReceive,
  parse: (msg, p) => parseReceiveResponse(msg, p.commandId),
};

export const SIGNAL: WsmanAction<SignalParams, void> = {
  what: 'Signal',
  build: buildSignal,
  parse: (msg) => parseSignalResponse(msg),
};

/** Identify ([MS-WSMV] 3.1.4.16); send it with `authenticate: false` for the unauthenticated form. */
export const IDENTIFY: WsmanAction<void, IdentifyResult> = {
  what: 'Identify',
  build: () => buildIdentify(),
  parse: (msg) => parseIdentifyResponse(msg),
  relatesTo: false,
};
