/** Create and Delete of a WinRS shell ([MS-WSMV] 3.1.4.5 Create, 3.1.4.6 Delete). */
import { ProtocolError } from '../../errors.ts';
import { ACTIONS, NS, RESOURCE_URIS, SHELL_OPTIONS } from '../constants.ts';
import {
  buildRequest,
  formatDuration,
  parseDuration,
  type RequestContext,
  type WsmanOption,
  xmlText,
} from '../envelope.ts';
import { bodyElement, type SoapMessage } from '../response.ts';
import { child, childElements, descendant, textOf } from '../xml.ts';

export interface CreateShellParams {
  /** Default: the cmd shell resource URI. */
  resourceUri?: string;
  /**
   * rsp:Name ([MS-WSMV] 2.2.4.37): a name the server keeps and shows when the shell resource is enumerated, so
   * a client can recognise its own shells. Default: none (no rsp:Name element).
   */
  name?: string;
  /** Default: 'stdin'. */
  inputStreams?: string;
  /** Default: 'stdout stderr'. */
  outputStreams?: string;
  workingDirectory?: string;
  environment?: Readonly<Record<string, string>>;
  /** Shell idle timeout in seconds; server default when omitted. */
  idleTimeout?: number;
  /** WINRS_NOPROFILE. Default: false. */
  noProfile?: boolean;
  /** WINRS_CODEPAGE, e.g. 65001 or 437. Default: 65001. */
  codepage?: number;
}

export function buildCreateShell(ctx: RequestContext, params: CreateShellParams = {}): string {
  const options: WsmanOption[] = [
    { name: SHELL_OPTIONS.noProfile, value: params.noProfile ? 'TRUE' : 'FALSE' },
    { name: SHELL_OPTIONS.codepage, value: String(params.codepage ?? 65001) },
  ];
  return buildRequest(
    ctx,
    {
      action: ACTIONS.create,
      resourceUri: params.resourceUri ?? RESOURCE_URIS.cmd,
      options,
      optionSetMustUnderstand: true,
    },
    (body) => {
      const shell = body.ele(NS.rsp, 'rsp:Shell');
      if (params.name !== undefined) shell.ele(NS.rsp, 'rsp:Name').txt(xmlText(params.name));
      if (params.workingDirectory !== undefined) {
        shell.ele(NS.rsp, 'rsp:WorkingDirectory').txt(xmlText(params.workingDirectory));
      }
      if (params.environment && Object.keys(params.environment).length > 0) {
        const env = shell.ele(NS.rsp, 'rsp:Environment');
        for (const [name, value] of Object.entries(params.environment)) {
          env.ele(NS.rsp, 'rsp:Variable').att('Name', xmlText(name)).txt(xmlText(value));
        }
      }
      if (params.idleTimeout !== undefined) {
        shell.ele(NS.rsp, 'rsp:IdleTimeOut').txt(xmlText(formatDuration(params.idleTimeout)));
      }
      shell.ele(NS.rsp, 'rsp:InputStreams').txt(xmlText(params.inputStreams ?? 'stdin'));
      shell.ele(NS.rsp, 'rsp:OutputStreams').txt(xmlText(params.outputStreams ?? 'stdout stderr'));
    },
  );
}

export interface CreatedShell {
  shellId: string;
  /** Fields of the rsp:Shell block Windows 2012+ returns, when present. */
  owner?: string;
  clientIp?: string;
  /** Seconds. */
  idleTimeout?: number;
  resourceUri?: string;
}

export function parseCreateShellResponse(msg: SoapMessage): CreatedShell {
  const what = 'Create shell response';
  const created = bodyElement(msg, 'x', 'ResourceCreated', what);
  let shellId: string | undefined;
  const selectorSet = descendant(created, 'w', 'SelectorSet');
  if (selectorSet) {
    const sel = childElements(selectorSet, 'w', 'Selector').find((s) => s.getAttribute('Name') === 'ShellId');
    if (sel) shellId = textOf(sel);
  }
  const shell = child(msg.body, 'rsp', 'Shell');
  if (!shellId && shell) shellId = textOf(child(shell, 'rsp', 'ShellId')) || undefined;
  if (!shellId) throw new ProtocolError(`The ${what} carries no ShellId selector`);
  const result: CreatedShell = { shellId };
  if (shell) {
    const field = (name: string): string | undefined => textOf(child(shell, 'rsp', name)) || undefined;
    result.owner = field('Owner');
    result.clientIp = field('ClientIP');
    result.resourceUri = field('ResourceUri');
    const idle = field('IdleTimeOut');
    if (idle !== undefined) result.idleTimeout = parseDuration(idle);
  }
  return result;
}

export interface DeleteShellParams {
  shellId: string;
  /** Default: the cmd shell resource URI. */
  resourceUri?: string;
}

export function buildDeleteShell(ctx: RequestContext, params: DeleteShellParams): string {
  return buildRequest(ctx, {
    action: ACTIONS.delete,
    resourceUri: params.resourceUri ?? RESOURCE_URIS.cmd,
    selectors: { ShellId: params.shellId },
  });
}

/** DeleteResponse has an empty body; this only checks it is not something else. */
export function parseDeleteShellResponse(msg: SoapMessage): void {
  if (msg.action !== undefined && msg.action !== ACTIONS.deleteResponse) {
    throw new ProtocolError(`Expected a DeleteResponse, got action ${msg.action}`);
  }
}
