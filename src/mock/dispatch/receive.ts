/**
 * Receive ([MS-WSMV] 3.1.4.14): waits up to OperationTimeout for output, answers at once when some exists,
 * and splits output so that no response exceeds the effective MaxEnvelopeSize. The last response of a command
 * carries an empty End="true" Stream for each stream, then CommandState Done with the ExitCode.
 */
import { ACTIONS } from '../../wsman/constants.ts';
import { joinBytes, type RequestPayload } from '../../wsman/envelope.ts';
import {
  commandStateElement,
  newMessageId,
  REPLY_TAIL,
  replyHead,
  streamElement,
  streamElementPieces,
} from '../../wsman/reply.ts';
import { attr, child, textOf } from '../../wsman/xml.ts';
import type { MockCommand } from '../shells/command.ts';
import type { ShellStore } from '../shells/store.ts';
import { Faults } from '../wire/faults.ts';
import type { MockRequest } from './types.ts';

const OPEN = '<rsp:ReceiveResponse>';
const CLOSE = '</rsp:ReceiveResponse>';
/** Room reserved for the widest ExitCode (a negative 32-bit value or an unsigned DWORD). */
const WIDEST_EXIT_CODE = '-2147483648';

function endMarkers(streams: readonly string[], commandId: string): string {
  return streams.map((s) => streamElement(s, commandId, '', true)).join('');
}

/** Wait until the command has output or is Done, the timeout passes, or the client goes away. */
function waitForOutput(
  cmd: MockCommand,
  timeoutMs: number,
  signalOf: () => AbortSignal,
): Promise<'ready' | 'timeout' | 'gone'> {
  if (!cmd.output.isEmpty || cmd.state === 'Done') return Promise.resolve('ready');
  const signal = signalOf(); // only a Receive that has to wait needs to hear about the client going away
  if (signal.aborted) return Promise.resolve('gone');
  return new Promise((resolve) => {
    let cancel = () => {};
    const finish = (r: 'ready' | 'timeout' | 'gone') => {
      clearTimeout(timer);
      cancel();
      signal.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const onAbort = () => finish('gone');
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    cancel = cmd.output.onData(() => {
      if (!cmd.output.isEmpty || cmd.state === 'Done') finish('ready');
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Build one ReceiveResponse, taking as much output as fits. It is returned as bytes: the output's base64 (up to
 * MaxEnvelopeSize) is written into them directly instead of into one string encoded as a whole.
 */
export function buildReceiveResponse(req: MockRequest, cmd: MockCommand, desired: readonly string[]): Buffer {
  const id = cmd.id;
  const head = replyHead({
    action: ACTIONS.receiveResponse,
    relatesTo: req.header.messageId,
    lang: req.lang,
    kind: 'receive',
    messageId: newMessageId(),
  });
  const fixed =
    Buffer.byteLength(head) +
    OPEN.length +
    CLOSE.length +
    REPLY_TAIL.length +
    Buffer.byteLength(endMarkers(desired, id)) +
    commandStateElement(id, 'Done', WIDEST_EXIT_CODE).length;
  let used = fixed;
  const max = req.maxEnvelopeSize;
  const parts: RequestPayload[] = [head, OPEN];
  const wanted = new Set(desired);
  for (;;) {
    const chunk = cmd.output.peek();
    if (!chunk) break;
    if (!wanted.has(chunk.stream)) {
      // Streams the client did not ask for are dropped, not held back.
      cmd.output.consume(chunk.data.length);
      continue;
    }
    const overhead = Buffer.byteLength(streamElement(chunk.stream, id, ''));
    const raw = Math.floor((max - used - overhead) / 4) * 3;
    if (raw <= 0) break;
    const n = Math.min(raw, chunk.data.length);
    const data = cmd.output.consume(n);
    parts.push(...streamElementPieces(chunk.stream, id, data));
    used += overhead + Math.ceil(n / 3) * 4; // the base64 length
  }
  if (parts.length === 2 && !cmd.output.isEmpty) throw Faults.responseTooLarge();
  const finished = cmd.state === 'Done' && cmd.output.isEmpty;
  if (finished) {
    parts.push(endMarkers(desired, id), commandStateElement(id, 'Done', cmd.exitCode));
    cmd.doneDelivered = true;
  } else {
    parts.push(commandStateElement(id, 'Running'));
  }
  parts.push(CLOSE, REPLY_TAIL);
  return joinBytes(parts);
}

export function receiveHandler(store: ShellStore): (req: MockRequest) => Promise<Buffer> {
  return async (req) => {
    const shell = store.get(req.header.selectors.ShellId, req.user.name);
    const receive = child(req.msg.body, 'rsp', 'Receive');
    if (!receive) throw Faults.invalidShellElement('Receive');
    const desiredEl = child(receive, 'rsp', 'DesiredStream');
    if (!desiredEl) throw Faults.invalidShellElement('Receive');
    const cmd = store.command(shell, attr(desiredEl, 'CommandId'));
    // After the final response the command is gone ("Either the command has completed execution or ...").
    if (cmd.doneDelivered) throw Faults.commandNotFound();
    const desired = textOf(desiredEl).split(/\s+/).filter(Boolean);
    const streams = desired.length > 0 ? desired : shell.outputStreams;
    const outcome = await waitForOutput(cmd, req.operationTimeoutMs, () => req.signal);
    shell.lastActivity = Date.now();
    if (outcome === 'gone') throw Faults.internalError();
    if (cmd.terminated) throw Faults.commandNotFound();
    if (outcome === 'timeout') throw Faults.timedOut();
    return buildReceiveResponse(req, cmd, streams);
  };
}
