/** Invoke a method on a resource ([MS-WSMV] 3.1.4.4 custom actions): action = resourceUri/method. */

import { ProtocolError } from '../../errors.ts';
import { buildRequest, type RequestContext, xmlText } from '../envelope.ts';
import type { SoapMessage } from '../response.ts';
import { allChildElements } from '../xml.ts';
import { instanceFromElement, type ResourceInstance, type ResourceRef } from './transfer.ts';

export interface InvokeParams extends ResourceRef {
  method: string;
  /** Input parameters. Default: none. */
  params?: Readonly<Record<string, string>>;
}

export function invokeAction(resourceUri: string, method: string): string {
  return `${resourceUri.replace(/\/+$/, '')}/${method}`;
}

export function buildInvoke(ctx: RequestContext, p: InvokeParams): string {
  return buildRequest(
    ctx,
    { action: invokeAction(p.resourceUri, p.method), resourceUri: p.resourceUri, selectors: p.selectors },
    (body) => {
      const input = body.ele(p.resourceUri, `p:${p.method}_INPUT`);
      for (const [k, v] of Object.entries(p.params ?? {})) input.ele(p.resourceUri, `p:${k}`).txt(xmlText(v));
    },
  );
}

/** The method's output (e.g. `StartService_OUTPUT` with ReturnValue). */
export function parseInvokeResponse(msg: SoapMessage): ResourceInstance {
  const first = allChildElements(msg.body)[0];
  if (!first) throw new ProtocolError('The Invoke response has an empty body');
  return instanceFromElement(first);
}
