/** Send: stdin to a running command ([MS-WSMV] 3.1.4.13). */
import { ACTIONS, NS, RESOURCE_URIS } from '../constants.ts';
import {
  type ActionHeader,
  type BodyWriter,
  buildRequestBytes,
  buildRequestCached,
  escapeXmlAttr,
  payloadSlot,
  type RequestContext,
  xmlText,
} from '../envelope.ts';
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
  const data = params.data;
  const b64 = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
  return buildRequestCached(ctx, sendHeader(params), sendKey(params), sendBody(params), [
    escapeXmlAttr(params.commandId),
    b64,
  ]);
}

/**
 * {@link buildSend} as the bytes that go on the wire (the same as `Buffer.from(buildSend(ctx, params))`): the
 * base64 of a chunk of several hundred KB is copied in as ASCII instead of being part of one string to encode.
 */
export function buildSendBytes(ctx: RequestContext, params: SendParams): Buffer {
  return buildRequestBytes(ctx, sendHeader(params), sendKey(params), sendBody(params), [
    escapeXmlAttr(params.commandId),
    { base64: params.data },
  ]);
}

function sendHeader(params: SendParams): ActionHeader {
  return {
    action: ACTIONS.send,
    resourceUri: params.resourceUri ?? RESOURCE_URIS.cmd,
    selectors: { ShellId: params.shellId },
  };
}

const sendKey = (params: SendParams) => `send|${params.stream ?? 'stdin'}|${params.end ? 1 : 0}`;

function sendBody(params: SendParams): BodyWriter {
  return (body) => {
    const s = body
      .ele(NS.rsp, 'rsp:Send')
      .ele(NS.rsp, 'rsp:Stream')
      .att('Name', xmlText(params.stream ?? 'stdin'))
      .att('CommandId', payloadSlot(0));
    if (params.end) s.att('End', 'true');
    s.txt(payloadSlot(1));
  };
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
