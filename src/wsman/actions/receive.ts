/** Receive: output and state of a command ([MS-WSMV] 3.1.4.14). */
import { ProtocolError } from '../../errors.ts';
import { ACTIONS, COMMAND_STATES, NS, RESOURCE_URIS } from '../constants.ts';
import {
  buildRequestCached,
  escapeXmlAttr,
  PAYLOAD_SLOT,
  type RequestContext,
  xmlText,
} from '../envelope.ts';
import { bodyElement, type SoapMessage } from '../response.ts';
import { attr, base64Content, child, childElements, textOf } from '../xml.ts';

export interface ReceiveParams {
  shellId: string;
  commandId: string;
  /** Default: 'stdout stderr'. */
  streams?: string;
  /** Default: the cmd shell resource URI. */
  resourceUri?: string;
}

export function buildReceive(ctx: RequestContext, params: ReceiveParams): string {
  return buildRequestCached(
    ctx,
    {
      action: ACTIONS.receive,
      resourceUri: params.resourceUri ?? RESOURCE_URIS.cmd,
      selectors: { ShellId: params.shellId },
      options: [{ name: 'WSMAN_CMDSHELL_OPTION_KEEPALIVE', value: 'TRUE' }],
    },
    `receive|${params.streams ?? ''}`,
    (body) => {
      body
        .ele(NS.rsp, 'rsp:Receive')
        .ele(NS.rsp, 'rsp:DesiredStream')
        .att('CommandId', PAYLOAD_SLOT)
        .txt(xmlText(params.streams ?? 'stdout stderr'));
    },
    escapeXmlAttr(params.commandId),
  );
}

export interface StreamChunk {
  name: string;
  commandId: string | undefined;
  data: Buffer;
  /** End="true": no more data on this stream. */
  end: boolean;
}

export type CommandStateName = 'Running' | 'Done' | 'Pending';

export interface ReceiveResult {
  chunks: StreamChunk[];
  /** Undefined when the response carried no rsp:CommandState. */
  state: CommandStateName | undefined;
  /** Present only when state is Done. */
  exitCode: number | undefined;
}

const STATE_BY_URI: Readonly<Record<string, CommandStateName>> = {
  [COMMAND_STATES.done]: 'Done',
  [COMMAND_STATES.running]: 'Running',
  [COMMAND_STATES.pending]: 'Pending',
};

export function parseReceiveResponse(msg: SoapMessage, commandId?: string): ReceiveResult {
  const what = 'Receive response';
  const resp = bodyElement(msg, 'rsp', 'ReceiveResponse', what);
  const chunks: StreamChunk[] = [];
  for (const s of childElements(resp, 'rsp', 'Stream')) {
    const name = attr(s, 'Name');
    if (!name) throw new ProtocolError(`A rsp:Stream in the ${what} has no Name attribute`);
    const cid = attr(s, 'CommandId');
    if (commandId !== undefined && cid !== undefined && cid.toLowerCase() !== commandId.toLowerCase()) {
      throw new ProtocolError(`The ${what} carries output of command ${cid}, not of ${commandId}`);
    }
    const end = (attr(s, 'End') ?? 'false').toLowerCase() === 'true';
    chunks.push({ name, commandId: cid, data: base64Content(s, `${name} stream data`), end });
  }
  const stateEl = child(resp, 'rsp', 'CommandState');
  let state: CommandStateName | undefined;
  let exitCode: number | undefined;
  if (stateEl) {
    const uri = attr(stateEl, 'State') ?? '';
    state = STATE_BY_URI[uri];
    if (!state) throw new ProtocolError(`The ${what} has an unknown CommandState "${uri}"`);
    const ec = child(stateEl, 'rsp', 'ExitCode');
    if (ec) {
      const t = textOf(ec);
      if (!/^-?\d+$/.test(t)) throw new ProtocolError(`The ${what} has a non-numeric ExitCode "${t}"`);
      // A Windows exit code is a DWORD; WinRM writes it as signed (-1) or unsigned (4294967295) 32-bit
      // decimal. A wider number is not an exit code (Number() would turn 99999999999999999999 into 1e20).
      const n = Number(t);
      if (t.replace(/^-/, '').length > 10 || n < -(2 ** 31) || n > 2 ** 32 - 1) {
        throw new ProtocolError(`The ${what} has an ExitCode "${t}" outside the 32-bit range`);
      }
      exitCode = n;
    }
  }
  return { chunks, state, exitCode };
}
