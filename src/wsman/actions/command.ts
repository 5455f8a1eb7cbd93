/** Command: start a process in a shell ([MS-WSMV] 3.1.4.11). */
import { ProtocolError } from '../../errors.ts';
import { ACTIONS, NS, RESOURCE_URIS, SHELL_OPTIONS } from '../constants.ts';
import {
  type BodyWriter,
  buildRequestCached,
  escapeXmlText,
  PAYLOAD_SLOT,
  payloadSlot,
  type RequestContext,
  xmlText,
} from '../envelope.ts';
import { bodyElement, type SoapMessage } from '../response.ts';
import { child, textOf } from '../xml.ts';

export interface CommandParams {
  shellId: string;
  /** Executable or cmd.exe command text; XML-escaped by the builder, never by the caller. */
  command: string;
  /** Each becomes one rsp:Arguments element. Default: none. */
  args?: readonly string[];
  /** WINRS_CONSOLEMODE_STDIN. Default: true. */
  consoleModeStdin?: boolean;
  /** WINRS_SKIP_CMD_SHELL. Default: false. */
  skipCmdShell?: boolean;
  /** Default: the cmd shell resource URI. */
  resourceUri?: string;
  /** Client-chosen CommandId (PSRP uses this); optional. */
  commandId?: string;
}

export function buildCommand(ctx: RequestContext, params: CommandParams): string {
  const header = {
    action: ACTIONS.command,
    resourceUri: params.resourceUri ?? RESOURCE_URIS.cmd,
    selectors: { ShellId: params.shellId },
    options: [
      { name: SHELL_OPTIONS.consoleModeStdin, value: params.consoleModeStdin === false ? 'FALSE' : 'TRUE' },
      { name: SHELL_OPTIONS.skipCmdShell, value: params.skipCmdShell ? 'TRUE' : 'FALSE' },
    ],
  };
  const writer: BodyWriter = (body) => {
    const line = body.ele(NS.rsp, 'rsp:CommandLine');
    if (params.commandId) line.att('CommandId', xmlText(params.commandId));
    line.ele(NS.rsp, 'rsp:Command').txt(PAYLOAD_SLOT);
    const count = params.args?.length ?? 0;
    for (let i = 1; i <= count; i++) line.ele(NS.rsp, 'rsp:Arguments').txt(payloadSlot(i));
  };
  // Command and arguments are caller text: they go into template slots, escaped here (CR included, which
  // xmlbuilder2 would pass through raw and a receiver would turn into LF).
  const args = params.args ?? [];
  const key = `command|${params.commandId ?? ''}|${args.length}`;
  return buildRequestCached(ctx, header, key, writer, [params.command, ...args].map(escapeXmlText));
}

export function parseCommandResponse(msg: SoapMessage): { commandId: string } {
  const what = 'Command response';
  const resp = bodyElement(msg, 'rsp', 'CommandResponse', what);
  const commandId = textOf(child(resp, 'rsp', 'CommandId'));
  if (!commandId) throw new ProtocolError(`The ${what} has an empty rsp:CommandId`);
  return { commandId };
}
