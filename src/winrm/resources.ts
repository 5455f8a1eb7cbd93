/**
 * WS-Management resource operations of the WinRM-internal strategy: Identify, Get, Put, Enumerate (Pull, Release),
 * Invoke, Create, Delete, the way `winrm.cmd` does them. Every request goes through WsmanClient.invoke with the
 * caller's signal and timeout; resources and values are read by src/wsman/resource.ts.
 */
import { AbortError, InvalidArgumentError, TimeoutError } from '../errors.ts';
import type { EnumerateParams, PullParams } from '../wsman/actions/enumerate.ts';
import {
  buildEnumerate,
  buildPull,
  buildRelease,
  type EnumerationPage,
  parseEnumerateResponse,
  parsePullResponse,
} from '../wsman/actions/enumerate.ts';
import type { IdentifyResult } from '../wsman/actions/identify.ts';
import type { InvokeParams } from '../wsman/actions/invoke.ts';
import { buildInvoke, parseInvokeResponse } from '../wsman/actions/invoke.ts';
import {
  buildCreate,
  buildDelete,
  buildGet,
  buildPut,
  type CreatedResource,
  type GetParams,
  type PutParams,
  parseCreateResponse,
  parseGetResponse,
  parsePutResponse,
  type ResourceInstance,
  type ResourceRef,
} from '../wsman/actions/transfer.ts';
import { FILTER_DIALECTS } from '../wsman/constants.ts';
import {
  parseSelectorText,
  type ResourceSpec,
  type ResourceValues,
  resolveResource,
  resolveValues,
} from '../wsman/resource.ts';
import { IDENTIFY, type WsmanAction } from './actions.ts';
import type { WsmanClient } from './wsman-client.ts';

export const GET: WsmanAction<GetParams, ResourceInstance> = {
  what: 'Get',
  build: buildGet,
  parse: (msg) => parseGetResponse(msg),
};
export const PUT: WsmanAction<PutParams, ResourceInstance | undefined> = {
  what: 'Put',
  build: buildPut,
  parse: (msg) => parsePutResponse(msg),
};
export const CREATE: WsmanAction<PutParams, CreatedResource> = {
  what: 'Create',
  build: buildCreate,
  parse: (msg) => parseCreateResponse(msg),
};
export const DELETE: WsmanAction<ResourceRef, void> = {
  what: 'Delete',
  build: buildDelete,
  parse: () => undefined,
};
export const INVOKE: WsmanAction<InvokeParams, ResourceInstance> = {
  what: 'Invoke',
  build: buildInvoke,
  parse: (msg) => parseInvokeResponse(msg),
};
export const ENUMERATE: WsmanAction<EnumerateParams, EnumerationPage> = {
  what: 'Enumerate',
  build: buildEnumerate,
  parse: (msg) => parseEnumerateResponse(msg),
};
export const PULL: WsmanAction<PullParams, EnumerationPage> = {
  what: 'Pull',
  build: buildPull,
  parse: (msg) => parsePullResponse(msg),
};
export const RELEASE: WsmanAction<{ resourceUri: string; context: string }, void> = {
  what: 'Release',
  build: buildRelease,
  parse: () => undefined,
};

/** Per-call options of the resource operations. */
export interface ResourceCallOptions {
  /** Abort the call: the request in flight fails with an AbortError. Default: none. */
  signal?: AbortSignal;
  /**
   * Most milliseconds one request of the call may take (each Pull of an enumeration counts on its own); past it
   * the call fails with a TimeoutError. Default: none (the connection's responseTimeout still bounds it).
   */
  timeout?: number;
}

export interface IdentifyOptions extends ResourceCallOptions {
  /**
   * Send Identify with credentials (proves them, as the seed's "Test WS-Man access" step does). false sends it
   * anonymously with `WSMANIDENTIFY: unauthenticated` (reachability only). Default: true.
   */
  authenticate?: boolean;
}

export interface GetOptions extends ResourceCallOptions {
  /** One property only (w:FragmentTransfer), as `winrm get -fragment:LoadPercentage`. Default: the whole resource. */
  fragment?: string;
}

export interface PutOptions extends ResourceCallOptions {
  /**
   * Element name of the instance to write, e.g. 'Service'. Default: read from a Get of the resource first (as
   * `winrm set` does), which also gives the element's namespace.
   */
  className?: string;
}

export interface CreateOptions extends ResourceCallOptions {
  /** Element name of the new instance. Default: the last path segment of the resource URI (e.g. 'Listener'). */
  className?: string;
}

export interface EnumerateOptions extends ResourceCallOptions {
  /**
   * WQL text, or selector name/value pairs; with dialect 'Selector' a string `State=Running+StartMode=Auto`
   * (winrm.cmd's form) is read as such pairs. Default: none (every instance).
   */
  filter?: string | Readonly<Record<string, string>>;
  /**
   * Filter dialect: 'WQL', 'Selector' or a dialect URI. Default: Selector for an object filter, WQL for text
   * (as `winrm enumerate -filter` does).
   */
  dialect?: string;
  /** Items in the Enumerate answer itself (w:OptimizeEnumeration). Default: true. */
  optimize?: boolean;
  /** Items per answer (Enumerate and each Pull). Default: 32000 (as winrm.cmd). */
  maxElements?: number;
}

/** Short dialect names accepted besides URIs (winrm.cmd's -dialect takes the URI or these). */
const DIALECT_NAMES: Readonly<Record<string, string>> = {
  wql: FILTER_DIALECTS.wql,
  selector: FILTER_DIALECTS.selector,
};

/** An XML NCName: method and class names become element names (`StartService_INPUT`, `Listener`). */
function xmlName(argument: string, value: string): string {
  if (typeof value !== 'string' || !/^[A-Za-z_][\w.-]*$/.test(value)) {
    throw new InvalidArgumentError(`The ${argument} ${JSON.stringify(value)} is not a valid name`, {
      argument,
      remedy: `give the ${argument} as the class defines it, e.g. StartService or Listener`,
    });
  }
  return value;
}

/** Runs one request with the caller's signal and a per-request timeout (TimeoutError naming the operation). */
async function withCall<R>(
  what: string,
  options: ResourceCallOptions,
  run: (signal: AbortSignal | undefined) => Promise<R>,
): Promise<R> {
  const { timeout, signal } = options;
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 1)) {
    throw new InvalidArgumentError(
      `timeout must be a number of milliseconds of at least 1, got ${String(timeout)}`,
      {
        argument: 'timeout',
        remedy: 'durations are in milliseconds: write timeout: 20_000 for 20 s',
      },
    );
  }
  if (signal?.aborted)
    throw new AbortError(`The ${what} was aborted before it was sent`, { cause: signal.reason });
  if (timeout === undefined) return run(signal);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeout);
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await run(controller.signal);
  } catch (err) {
    if (timedOut && !signal?.aborted) {
      throw new TimeoutError(`The ${what} got no answer within ${timeout} ms`, {
        timeoutMs: timeout,
        cause: err,
        remedy: 'raise the timeout option of the call, or check the host with conn.verify()',
      });
    }
    throw err;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

function lastSegment(uri: string): string {
  const path = uri.replace(/\/+$/, '');
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The resource operations over one WsmanClient. */
export class ResourceOperations {
  constructor(
    private readonly client: WsmanClient,
    /** Most milliseconds a Release after an early break or a failure may take. */
    private readonly cleanupTimeoutMs: number,
  ) {}

  identify(options: IdentifyOptions = {}): Promise<IdentifyResult> {
    const authenticate = options.authenticate ?? true;
    return withCall('Identify', options, (signal) =>
      this.client.invoke(IDENTIFY, undefined, { signal, authenticate }),
    );
  }

  get(resource: ResourceSpec, options: GetOptions = {}): Promise<ResourceInstance> {
    const ref = resolveResource(resource);
    return withCall('Get', options, (signal) =>
      this.client.invoke(
        GET,
        { ...ref, ...(options.fragment ? { fragment: options.fragment } : {}) },
        { signal },
      ),
    );
  }

  async put(
    resource: ResourceSpec,
    values: ResourceValues,
    options: PutOptions = {},
  ): Promise<ResourceInstance | undefined> {
    const ref = resolveResource(resource);
    const properties = resolveValues(values);
    let className = options.className === undefined ? undefined : xmlName('className', options.className);
    let namespace: string | undefined;
    if (className === undefined) {
      const current = await this.get(ref, options);
      className = current.className;
      namespace = current.namespace;
    }
    const params: PutParams = { ...ref, className, properties, ...(namespace ? { namespace } : {}) };
    return withCall('Put', options, (signal) => this.client.invoke(PUT, params, { signal }));
  }

  create(
    resource: ResourceSpec,
    values: ResourceValues,
    options: CreateOptions = {},
  ): Promise<CreatedResource> {
    const ref = resolveResource(resource);
    const params: PutParams = {
      ...ref,
      className: xmlName('className', options.className ?? lastSegment(ref.resourceUri)),
      properties: resolveValues(values),
    };
    return withCall('Create', options, (signal) => this.client.invoke(CREATE, params, { signal }));
  }

  delete(resource: ResourceSpec, options: ResourceCallOptions = {}): Promise<void> {
    const ref = resolveResource(resource);
    return withCall('Delete', options, (signal) => this.client.invoke(DELETE, ref, { signal }));
  }

  invoke(
    resource: ResourceSpec,
    method: string,
    params?: ResourceValues,
    options: ResourceCallOptions = {},
  ): Promise<ResourceInstance> {
    const ref = resolveResource(resource);
    const p: InvokeParams = { ...ref, method: xmlName('method', method), params: resolveValues(params) };
    return withCall(`Invoke ${method}`, options, (signal) => this.client.invoke(INVOKE, p, { signal }));
  }

  /**
   * The instances of a resource, page by page: Enumerate, then Pull while the server has more. Leaving the loop
   * early (break, return, a throw) Releases the enumeration context.
   */
  async *enumerate(
    resource: ResourceSpec,
    options: EnumerateOptions = {},
  ): AsyncGenerator<ResourceInstance, void> {
    const ref = resolveResource(resource);
    const dialect =
      options.dialect === undefined
        ? undefined
        : (DIALECT_NAMES[options.dialect.toLowerCase()] ?? options.dialect);
    // A selector filter given as winrm.cmd text (`State=Running+StartMode=Auto`) is written as a w:SelectorSet.
    const filter =
      dialect === FILTER_DIALECTS.selector && typeof options.filter === 'string'
        ? parseSelectorText(options.filter)
        : options.filter;
    if (
      options.maxElements !== undefined &&
      (!Number.isSafeInteger(options.maxElements) || options.maxElements < 1)
    ) {
      throw new InvalidArgumentError(
        `maxElements must be a whole number of at least 1, got ${options.maxElements}`,
        {
          argument: 'maxElements',
          remedy: 'leave it unset for 32000 (as winrm.cmd), or give the items per answer',
        },
      );
    }
    const params: EnumerateParams = {
      ...ref,
      ...(filter !== undefined ? { filter } : {}),
      ...(dialect !== undefined ? { dialect } : {}),
      ...(options.optimize !== undefined ? { optimize: options.optimize } : {}),
      ...(options.maxElements !== undefined ? { maxElements: options.maxElements } : {}),
    };
    let page = await withCall('Enumerate', options, (signal) =>
      this.client.invoke(ENUMERATE, params, { signal }),
    );
    let context = page.context;
    try {
      for (;;) {
        for (const item of page.items) yield item;
        if (page.endOfSequence || context === undefined) {
          context = undefined;
          return;
        }
        const pull: PullParams = {
          resourceUri: ref.resourceUri,
          context,
          ...(options.maxElements !== undefined ? { maxElements: options.maxElements } : {}),
        };
        page = await withCall('Pull', options, (signal) => this.client.invoke(PULL, pull, { signal }));
        context = page.context;
      }
    } finally {
      if (context !== undefined) {
        const release = { resourceUri: ref.resourceUri, context };
        await withCall('Release', { timeout: this.cleanupTimeoutMs }, (signal) =>
          this.client.invoke(RELEASE, release, { signal }),
        ).catch(() => undefined);
      }
    }
  }
}
