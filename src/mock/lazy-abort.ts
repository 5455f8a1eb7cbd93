/**
 * An AbortController whose AbortSignal is only built when somebody asks for it. The mock makes one per request
 * and one per command, and most are never looked at (a Command or Signal request, an `echo`): constructing the
 * EventTarget behind every AbortSignal was about 6% of the mock's CPU per execute.
 */
export class LazyAbortController {
  private controller: AbortController | undefined;
  private abortedWith: { reason: unknown } | undefined;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortedWith) this.controller.abort(this.abortedWith.reason);
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.abortedWith !== undefined;
  }

  /** The reason given to {@link abort} (undefined when none was). */
  get reason(): unknown {
    return this.abortedWith?.reason;
  }

  abort(reason?: unknown): void {
    if (this.abortedWith) return;
    this.abortedWith = { reason };
    this.controller?.abort(reason);
  }
}
