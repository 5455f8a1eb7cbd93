/** Send: stdin to a running command ([MS-WSMV] 3.1.4.13). */
import { ACTIONS, NS, RESOURCE_URIS } from '../constants.ts';
import { buildRequestCached, escapeXmlAttr, payloadSlot, type RequestContext, xmlText } from '../envelope.ts';
import type { SoapMessage } from '../response.ts';
import { bodyElement } from '../response.ts';

export interface SendParams {
  shellId: string;
  commandId: string;
  /** Raw bytes; base64-encoded by the builder. */
  data: Uint8Array;
  /** Marks the last chunk (End="true"). Default: false. */
  end?: boolean;
  /** Default: 'stdin'. */
  stream?: string;
  /** Default: the cmd shell resource URI. */
  resourceUri?: string;
}

export function buildSend(ctx: RequestContext, params: SendParams): string {
  const stream = params.stream ?? 'stdin';
  const b64 = Buffer.from(params.data.buffer, params.data.byteOffset, params.data.byteLength).toString(
    'base64',
  );
  return buildRequestCached(
    ctx,
    {
      action: ACTIONS.send,
      resourceUri: params.resourceUri ?? RESOURCE_URIS.cmd,
      selectors: { ShellId: params.shellId },
    },
    `send|${stream}|${params.end ? 1 : 0}`,
    (body) => {
      const s = body
        .ele(NS.rsp, 'rsp:Send')
        .ele(NS.rsp, 'rsp:Stream')
        .att('Name', xmlText(stream))
        .att('CommandId', payloadSlot(0));
      if (params.end) s.att('End', 'true');
      s.txt(payloadSlot(1));
    },
    [escapeXmlAttr(params.commandId), b64],
  );
}

/**
 * How many raw stdin bytes fit in one Send under `maxEnvelopeSize`: the empty envelope is measured and the rest
 * filled with base64 (4 characters per 3 bytes). The result is a multiple of 3 so chunks never carry padding.
 */
export function sendPayloadCapacity(
  ctx: RequestContext,
  shellId: string,
  commandId: string,
  /** Envelope bytes to leave free, e.g. for message-encryption framing. Default: 0. */
  reserve = 0,
): number {
  const overhead = Buffer.byteLength(
    buildSend(ctx, { shellId, commandId, data: new Uint8Array(0), end: true }),
  );
  const max = ctx.maxEnvelopeSize ?? 512_000;
  const room = max - overhead - reserve;
  return Math.max(0, Math.floor(room / 4) * 3);
}

export function parseSendResponse(msg: SoapMessage): void {
  bodyElement(msg, 'rsp', 'SendResponse', 'Send response');
}
