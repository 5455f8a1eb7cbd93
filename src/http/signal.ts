/** AbortSignal plumbing for the HTTP layer: one controller that follows a caller's signal and can abort on its own. */

export interface LinkedAbort {
  /** Aborted when the caller's signal aborts or when {@link LinkedAbort.controller} is aborted directly. */
  readonly signal: AbortSignal;
  readonly controller: AbortController;
  /** Stop following the caller's signal (call once the request is over). */
  dispose(): void;
}

/**
 * A controller linked to `parent`: it aborts (with the parent's reason) when the parent does. Unlike
 * AbortSignal.any, nothing stays registered on the parent after dispose(), so a long-lived parent does not
 * collect a listener per request.
 */
export function linkedAbort(parent: AbortSignal | undefined): LinkedAbort {
  const controller = new AbortController();
  if (!parent) return { signal: controller.signal, controller, dispose: () => undefined };
  const follow = () => controller.abort(parent.reason);
  if (parent.aborted) follow();
  else parent.addEventListener('abort', follow, { once: true });
  return {
    signal: controller.signal,
    controller,
    dispose: () => parent.removeEventListener('abort', follow),
  };
}
