/** Legs measured in rounds, each round in a rotated order, summarised by medians (bench/transfer.ts). */

/** The order of `legs` legs in round `round`: the round before's order, starting one leg later. */
export function roundOrder(legs: number, round: number): number[] {
  return Array.from({ length: legs }, (_, i) => (i + round) % legs);
}

/** Median of a non-empty list (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new RangeError('median of no values');
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** ` (min to max)`, or nothing for one value. */
export function range(xs: readonly number[], digits: number): string {
  if (xs.length <= 1) return '';
  return ` (${Math.min(...xs).toFixed(digits)} to ${Math.max(...xs).toFixed(digits)})`;
}

/** `median (min to max)`, or only the median for one value. */
export function spread(xs: readonly number[], digits: number): string {
  return `${median(xs).toFixed(digits)}${range(xs, digits)}`;
}

/** A count (of rounds, of runs) from the environment: a whole number from 1, or an error that names the variable. */
export function roundsFrom(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(
      `${name} must be a whole number from 1 (got "${value}"); unset it for the default, ${fallback}`,
    );
  return n;
}

/** The same round's ratios, a[i] / b[i]. */
export function ratios(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) throw new RangeError('ratios of lists of different lengths');
  return a.map((x, i) => x / b[i]!);
}
