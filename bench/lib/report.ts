/** Paired sampling and the Markdown tables of bench/run.ts. */
import type { Sample } from './clients.ts';

/** A non-negative number from the environment variable `name`, or `dflt` when it is not set. */
export const envNumber = (name: string, dflt: number): number => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a non-negative number, got ${v}`);
  return v;
};

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

/** Samples of two clients taken in adjacent pairs. */
export interface Paired {
  ours: Sample[];
  peer: Sample[];
}

export const newPair = (): Paired => ({ ours: [], peer: [] });

/**
 * Take one pair: ours then the peer on even rounds, the peer first on odd ones, so neither side always runs
 * right after the other's warm caches or right before a slow phase of the shared machine.
 */
export async function pairOnce(
  p: Paired,
  round: number,
  ours: () => Promise<Sample>,
  peer: () => Promise<Sample>,
): Promise<void> {
  if (round % 2 === 0) {
    p.ours.push(await ours());
    p.peer.push(await peer());
  } else {
    p.peer.push(await peer());
    p.ours.push(await ours());
  }
}

export interface Row {
  name: string;
  pair: Paired;
  peer: string;
  /** Printed beside the ratio, never asserted. */
  target?: string;
}

/**
 * One row per workload: each client's median and the median of the per-pair ratios (ours / peer) with their
 * range; a ratio of two samples taken back to back is far steadier on a drifting shared VM than a ratio of
 * medians taken minutes apart.
 */
export function table(title: string, rows: Row[]): string[] {
  const out = [
    `\n### ${title}\n`,
    '| workload | winrm-connection | peer | ratio (median of pairs) | ratio range | target |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const { name, pair, peer, target } of rows) {
    const ratios = pair.ours.map((x, i) => x.rate / pair.peer[i]!.rate);
    const lo = Math.min(...ratios).toFixed(2);
    const hi = Math.max(...ratios).toFixed(2);
    out.push(
      `| ${name} | ${fmt(median(pair.ours.map((s) => s.rate)))} | ${fmt(median(pair.peer.map((s) => s.rate)))} ` +
        `(${peer}) | ${median(ratios).toFixed(2)}x | ${lo} to ${hi} | ${target ?? ''} |`,
    );
  }
  return out;
}

/** "3.00" when every sample agrees, else "min to max"; "-" when not counted. */
export function spread(xs: Array<number | undefined>, digits = 2): string {
  const v = xs.filter((x): x is number => x !== undefined);
  if (v.length === 0) return '-';
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  return lo === hi ? lo.toFixed(digits) : `${lo.toFixed(digits)} to ${hi.toFixed(digits)}`;
}
