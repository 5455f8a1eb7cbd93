/** Checks shared by the option resolvers: every refusal is an InvalidArgumentError naming the option and the fix. */
import { InvalidArgumentError } from '../errors.ts';

export function bad(argument: string, message: string, remedy?: string): never {
  throw new InvalidArgumentError(message, { argument, ...(remedy ? { remedy } : {}) });
}

/** Longest timer Node can arm: setTimeout fires at once for anything above 2^31-1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A duration in milliseconds: finite, at least `min`, at most {@link MAX_TIMER_MS}. Durations were seconds
 * before 0.2, so a value below `min` says so in the remedy.
 */
export function durationMs(name: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_TIMER_MS) {
    bad(
      name,
      `Option ${name} must be a number of milliseconds from ${min} to ${MAX_TIMER_MS}, got ${String(value)}`,
      `durations are in milliseconds (like Node's own APIs): write ${name}: 20_000 for 20 s`,
    );
  }
  return value;
}

/** A whole number of at least `min`. */
export function count(name: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    bad(name, `Option ${name} must be a whole number of at least ${min}, got ${String(value)}`);
  }
  return value;
}

/** One of `allowed`, or the fallback when undefined. */
export function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    bad(name, `Unknown ${name} "${String(value)}"`, `use ${allowed.map((a) => `'${a}'`).join(', ')}`);
  }
  return value as T;
}

/** true or false, or the fallback when undefined. */
export function flag(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    bad(name, `Option ${name} must be true or false, got ${JSON.stringify(value)}`);
  return value;
}
