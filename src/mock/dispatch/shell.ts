/**
 * WinRS actions on the cmd shell resource ([MS-WSMV] 3.1.4.5 - 3.1.4.14): Create, Delete, Command, Send,
 * Signal; Receive is in receive.ts. Responses follow the captured Windows forms (docs/windows-wire-facts.md 2).
 */
import {
  ACTIONS,
  NS,
  RESOURCE_URIS,
  SHELL_OPTIONS,
  SIGNALS,
  type SignalName,
} from '../../wsman/constants.ts';
import { escapeXmlText as esc, parseDuration } from '../../wsman/envelope.ts';
import { buildReply, type ReplyKind } from '../../wsman/reply.ts';
import { allChildElements, attr, base64Content, child, childElements, textOf } from '../../wsman/xml.ts';
import type { MockResourceProvider } from '../resources/types.ts';
import type { MockShell, ShellStore } from '../shells/store.ts';
import { Faults } from '../wire/faults.ts';
import { receiveHandler } from './receive.ts';
import { resourceHandler } from './resources.ts';
import type { MockRequest, ResourceHandler } from './types.ts';

const CREATE_CHILDREN = new Set([
  'Name',
  'WorkingDirectory',
  'Lifetime',
  'IdleTimeOut',
  'InputStreams',
  'OutputStreams',
  'Environment',
]);

function reply(req: MockRequest, action: string, body: string, kind: ReplyKind = 'shell'): string {
  return buildReply({ action, relatesTo: req.header.messageId, lang: req.lang, kind }, body);
}

function flag(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  return value.trim().toUpperCase() === 'TRUE';
}

/** `PT7200.000S`, as Windows writes IdleTimeOut. */
function windowsDuration(ms: number): string {
  return `PT${(ms / 1000).toFixed(3)}S`;
}

/** `P0DT0H5M12S`, as Windows writes ShellRunTime and ShellInactivity. */
function dayDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  return `P${d}DT${h}H${m}M${total % 60}S`;
}

/**
 * The rsp:Shell block Windows writes in a CreateResponse and for each item of an Enumerate of the shell resource
 * ([MS-WSMV] 2.2.4.37 ShellType: ShellId, Name, ResourceUri, Owner, ClientIP, IdleTimeOut, InputStreams,
 * OutputStreams, ..., ShellRunTime, ShellInactivity in that order; Name only when the Create gave one).
 */
function shellXml(shell: MockShell, now = Date.now()): string {
  const uri = esc(shell.resourceUri);
  return (
    `<rsp:Shell xmlns:rsp="${NS.rsp}"><rsp:ShellId>${shell.id}</rsp:ShellId>` +
    (shell.name !== undefined ? `<rsp:Name>${esc(shell.name)}</rsp:Name>` : '') +
    `<rsp:ResourceUri>${uri}</rsp:ResourceUri><rsp:Owner>${esc(shell.owner)}</rsp:Owner>` +
    `<rsp:ClientIP>${esc(shell.clientIp)}</rsp:ClientIP>` +
    `<rsp:IdleTimeOut>${windowsDuration(shell.idleTimeoutMs)}</rsp:IdleTimeOut>` +
    `<rsp:InputStreams>${esc(shell.inputStreams.join(' '))}</rsp:InputStreams>` +
    `<rsp:OutputStreams>${esc(shell.outputStreams.join(' '))}</rsp:OutputStreams>` +
    `<rsp:ShellRunTime>${dayDuration(now - shell.createdAt)}</rsp:ShellRunTime>` +
    `<rsp:ShellInactivity>${dayDuration(now - shell.lastActivity)}</rsp:ShellInactivity></rsp:Shell>`
  );
}

/**
 * Enumerate of the shell resource (`winrm enumerate shell/cmd`, `Get-WSManInstance -Enumerate`): one rsp:Shell
 * per open shell, each with its EPR (ShellId selector). The mock lists the caller's own shells only, as its
 * other shell actions treat another user's shell as absent (Windows shows an administrator every user's shells;
 * the mock's users are not told apart by rights here). Listing does not touch a shell's idle clock.
 */
function shellProvider(store: ShellStore): MockResourceProvider {
  const cmdUri = RESOURCE_URIS.cmd.toLowerCase();
  return {
    name: 'shell',
    serves: (uri) => uri.toLowerCase() === cmdUri,
    enumerate: (req) =>
      store.ownedBy(req.user.name).map((shell) => ({
        xml: shellXml(shell),
        epr: { resourceUri: shell.resourceUri, selectors: { ShellId: shell.id } },
      })),
  };
}

function create(store: ShellStore): (req: MockRequest) => string {
  return (req) => {
    const shellEl = child(req.msg.body, 'rsp', 'Shell');
    if (!shellEl) throw Faults.invalidShellElement('Shell');
    for (const el of allChildElements(shellEl)) {
      if (!CREATE_CHILDREN.has(el.localName ?? '')) throw Faults.invalidShellElement(el.localName ?? '');
    }
    let idleTimeoutMs: number | undefined;
    const idle = child(shellEl, 'rsp', 'IdleTimeOut');
    if (idle) {
      const seconds = parseDuration(textOf(idle));
      if (seconds === undefined) throw Faults.invalidShellElement('IdleTimeOut');
      idleTimeoutMs = Math.round(seconds * 1000);
    }
    const environment: Record<string, string> = {};
    const env = child(shellEl, 'rsp', 'Environment');
    if (env)
      for (const v of childElements(env, 'rsp', 'Variable'))
        environment[attr(v, 'Name') ?? ''] = v.textContent ?? '';
    const cp = req.header.options[SHELL_OPTIONS.codepage];
    const codepage = cp !== undefined && /^\d+$/.test(cp.trim()) ? Number(cp) : 437;
    const inputStreams = (textOf(child(shellEl, 'rsp', 'InputStreams')) || 'stdin').split(/\s+/);
    const outputStreams = (textOf(child(shellEl, 'rsp', 'OutputStreams')) || 'stdout stderr').split(/\s+/);
    const wd = child(shellEl, 'rsp', 'WorkingDirectory');
    const nameEl = child(shellEl, 'rsp', 'Name');
    const shell = store.create({
      name: nameEl ? textOf(nameEl) : undefined,
      user: req.user,
      clientIp: req.clientIp,
      resourceUri: req.header.resourceUri!,
      codepage,
      noProfile: flag(req.header.options[SHELL_OPTIONS.noProfile], false),
      inputStreams,
      outputStreams,
      idleTimeoutMs,
      workingDirectory: wd ? textOf(wd) : undefined,
      environment,
    });
    const uri = esc(shell.resourceUri);
    const body =
      `<x:ResourceCreated><a:Address>${esc(req.header.to ?? '')}</a:Address><a:ReferenceParameters>` +
      `<w:ResourceURI>${uri}</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">${shell.id}</w:Selector>` +
      `</w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>` +
      shellXml(shell);
    return reply(req, ACTIONS.createResponse, body);
  };
}

function remove(store: ShellStore): (req: MockRequest) => string {
  return (req) => {
    const shell = store.get(req.header.selectors.ShellId, req.user.name);
    store.delete(shell);
    return reply(req, ACTIONS.deleteResponse, '', 'delete');
  };
}

function command(store: ShellStore): (req: MockRequest) => string {
  return (req) => {
    const shell = store.get(req.header.selectors.ShellId, req.user.name);
    const line = child(req.msg.body, 'rsp', 'CommandLine');
    if (!line) throw Faults.invalidShellElement('CommandLine');
    for (const el of allChildElements(line)) {
      if (el.localName !== 'Command' && el.localName !== 'Arguments')
        throw Faults.invalidShellElement(el.localName ?? '');
    }
    const cmdEl = child(line, 'rsp', 'Command');
    if (!cmdEl) throw Faults.invalidShellElement('CommandLine');
    const cmd = store.startCommand(shell, {
      // Command text is data: untrimmed, as sent.
      command: cmdEl.textContent ?? '',
      args: childElements(line, 'rsp', 'Arguments').map((a) => a.textContent ?? ''),
      consoleModeStdin: flag(req.header.options[SHELL_OPTIONS.consoleModeStdin], true),
      skipCmdShell: flag(req.header.options[SHELL_OPTIONS.skipCmdShell], false),
    });
    const body = `<rsp:CommandResponse><rsp:CommandId>${cmd.id}</rsp:CommandId></rsp:CommandResponse>`;
    return reply(req, ACTIONS.commandResponse, body);
  };
}

function send(store: ShellStore): (req: MockRequest) => Promise<string> {
  return async (req) => {
    const shell = store.get(req.header.selectors.ShellId, req.user.name);
    const sendEl = child(req.msg.body, 'rsp', 'Send');
    if (!sendEl) throw Faults.invalidShellElement('Send');
    for (const s of childElements(sendEl, 'rsp', 'Stream')) {
      const name = attr(s, 'Name') ?? '';
      if (!shell.inputStreams.includes(name)) throw Faults.invalidParameter();
      const cmd = store.command(shell, attr(s, 'CommandId'));
      if (cmd.doneDelivered) throw Faults.commandNotFound();
      let data: Buffer;
      try {
        data = base64Content(s, 'stdin');
      } catch {
        throw Faults.schema();
      }
      await cmd.send(data, (attr(s, 'End') ?? '').toLowerCase() === 'true');
    }
    return reply(req, ACTIONS.sendResponse, '<rsp:SendResponse/>');
  };
}

/**
 * Signal codes the service accepts, compared exactly (a URI, so case matters). Each of our SIGNALS as wsman.h's
 * WSMAN_SIGNAL_SHELL_CODE_* constants write them (all lower case; pywinrm, WinRb and our client send these), and
 * `.../signal/Terminate` with a capital T as [MS-WSMV] 2.2.4.38 writes it, which Windows answers like the lower-case
 * form (recorded traffic, M). The spec writes ctrl_c and ctrl_break in lower case only, so no other spelling of
 * them (nor TERMINATE, Ctrl_C, ...) is accepted: those still get w:InvalidParameter (L: only the spelled forms are
 * known to succeed).
 */
const SIGNAL_BY_URI = new Map<string, SignalName>([
  ...(Object.entries(SIGNALS) as [SignalName, string][]).map(([name, uri]): [string, SignalName] => [
    uri,
    name,
  ]),
  [SIGNALS.terminate.replace(/\/terminate$/, '/Terminate'), 'terminate'],
]);

function signal(store: ShellStore): (req: MockRequest) => string {
  return (req) => {
    const shell = store.get(req.header.selectors.ShellId, req.user.name);
    const sig = child(req.msg.body, 'rsp', 'Signal');
    if (!sig) throw Faults.invalidShellElement('Signal');
    const cmd = store.command(shell, attr(sig, 'CommandId'));
    const name = SIGNAL_BY_URI.get(textOf(child(sig, 'rsp', 'Code')));
    if (!name) throw Faults.invalidParameter();
    cmd.signal(name);
    return reply(req, ACTIONS.signalResponse, '<rsp:SignalResponse/>');
  };
}

/** The cmd shell resource: the WinRS actions. */
export function cmdShellResource(store: ShellStore): ResourceHandler {
  const cmdUri = RESOURCE_URIS.cmd.toLowerCase();
  // WS-Enumeration of the shells goes through the generic resource layer (contexts, MaxElements, paging).
  const listing = resourceHandler({ providers: [shellProvider(store)] }).actions;
  return {
    matches: (uri) => uri.toLowerCase() === cmdUri,
    actions: {
      [ACTIONS.create]: create(store),
      [ACTIONS.delete]: remove(store),
      [ACTIONS.command]: command(store),
      [ACTIONS.send]: send(store),
      [ACTIONS.signal]: signal(store),
      [ACTIONS.receive]: receiveHandler(store),
      [ACTIONS.enumerate]: listing[ACTIONS.enumerate]!,
      [ACTIONS.pull]: listing[ACTIONS.pull]!,
      [ACTIONS.release]: listing[ACTIONS.release]!,
    },
  };
}
