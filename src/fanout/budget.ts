/**
 * A budget of sockets and shells shared by many connections (fan-out to many hosts): one `ResourceBudget` passed
 * to every connect() (option `budget`) bounds the sockets (HTTP channels) and remote shells all of them hold at
 * once. A connection asks the budget before it opens a channel or creates a shell and gives the unit back when
 * the channel is destroyed or the shell deleted; while anyone waits, idle channels and shells are not kept but
 * given back, so an idle connection never starves a busy one. Without a budget, each connection is bounded only
 * by its own maxConcurrentRequests and maxShells.
 */
import { AbortError, InvalidArgumentError, WinRmError } from '../errors.ts';

/** Limits of a {@link ResourceBudget}; a missing limit is unbounded. */
export interface ResourceBudgetLimits {
  /** Most sockets (HTTP channels, one socket each) open at once across the connections. At least 1. Default: unbounded. */
  sockets?: number;
  /** Most remote shells open at once across the connections. At least 1. Default: unbounded. */
  shells?: number;
}

/** Usage of one kind of unit. */
export interface BudgetUsage {
  /** Units held now. */
  inUse: number;
  /** Most units held at once since the budget was made. */
  peak: number;
  /** The limit (Infinity: unbounded). */
  limit: number;
  /** Requests waiting for a unit now. */
  waiting: number;
}

export interface ResourceBudgetStats {
  sockets: BudgetUsage;
  shells: BudgetUsage;
}

/**
 * Frees a held unit that sits idle (an idle channel, an idle shell) when the budget is short; returns true when
 * it started to give one back (the unit returns through release(), maybe later, after a Delete).
 */
export type Reclaimer = () => boolean;

/** One counted resource: a semaphore with waiting in order, abortable, and reclaim of idle units. */
export class BudgetLimiter {
  private held = 0;
  private most = 0;
  private readonly queue: Array<{ grant: () => void }> = [];
  private readonly reclaimers = new Set<Reclaimer>();

  constructor(
    readonly kind: 'sockets' | 'shells',
    readonly limit: number,
  ) {}

  get inUse(): number {
    return this.held;
  }

  get waiting(): number {
    return this.queue.length;
  }

  usage(): BudgetUsage {
    return { inUse: this.held, peak: this.most, limit: this.limit, waiting: this.queue.length };
  }

  /** Register what can give back an idle unit; returns the function that unregisters it. */
  addReclaimer(r: Reclaimer): () => void {
    this.reclaimers.add(r);
    return () => this.reclaimers.delete(r);
  }

  private take(): void {
    this.held++;
    if (this.held > this.most) this.most = this.held;
  }

  /** Take a unit now if one is free. */
  tryAcquire(): boolean {
    if (this.held >= this.limit || this.queue.length > 0) return false;
    this.take();
    return true;
  }

  /** Take a unit, waiting for one (idle units elsewhere are reclaimed); rejects when `signal` aborts. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          this.take();
          resolve();
        },
      };
      const onAbort = () => {
        const i = this.queue.indexOf(entry);
        if (i >= 0) this.queue.splice(i, 1);
        reject(
          signal?.reason instanceof WinRmError
            ? signal.reason
            : new AbortError(`Aborted while waiting for the shared budget of ${this.kind}`),
        );
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(entry);
      this.reclaim();
    });
  }

  /** Ask one holder of an idle unit to give it back. */
  private reclaim(): void {
    for (const r of this.reclaimers) if (r()) return;
  }

  /** Give a unit back; the first waiter gets it. */
  release(): void {
    if (this.held <= 0) return;
    this.held--;
    const next = this.queue.shift();
    if (next) next.grant();
  }
}

function limit(name: keyof ResourceBudgetLimits, v: number | undefined): number {
  if (v === undefined) return Number.POSITIVE_INFINITY;
  if (!Number.isInteger(v) || v < 1) {
    throw new InvalidArgumentError(`Option budget.${name} must be an integer of at least 1, got ${v}`, {
      argument: `budget.${name}`,
      remedy: `give budget.${name} as a whole number (1 or more), or leave it out for no limit`,
    });
  }
  return v;
}

/** Sockets and shells shared by every connection it is passed to (the `budget` option of connect()). */
export class ResourceBudget {
  readonly sockets: BudgetLimiter;
  readonly shells: BudgetLimiter;

  constructor(limits: ResourceBudgetLimits = {}) {
    this.sockets = new BudgetLimiter('sockets', limit('sockets', limits.sockets));
    this.shells = new BudgetLimiter('shells', limit('shells', limits.shells));
  }

  /** Units in use, their peaks and the waiters, per kind. */
  stats(): ResourceBudgetStats {
    return { sockets: this.sockets.usage(), shells: this.shells.usage() };
  }
}

const shared = new WeakMap<object, ResourceBudget>();

/**
 * The budget an option value stands for: a ResourceBudget as it is; a plain `{ sockets, shells }` object gives
 * one budget per object, so the same object passed to many connect() calls is one shared budget.
 */
export function budgetOf(
  value: ResourceBudget | ResourceBudgetLimits | undefined,
): ResourceBudget | undefined {
  if (value === undefined) return undefined;
  if (value instanceof ResourceBudget) return value;
  if (value === null || typeof value !== 'object') {
    throw new InvalidArgumentError('Option budget must be a ResourceBudget or { sockets, shells }', {
      argument: 'budget',
    });
  }
  let b = shared.get(value);
  if (!b) {
    b = new ResourceBudget(value);
    shared.set(value, b);
  }
  return b;
}
