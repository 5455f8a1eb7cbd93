/** The transfer benchmark's rounds: every leg takes every position once, and the summaries are medians. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { median, range, ratios, roundOrder, roundsFrom, spread } from '../../bench/lib/rounds.ts';

describe('bench rounds', () => {
  it('rotates the legs so that over as many rounds as legs each leg runs once in each position', () => {
    assert.deepEqual(
      [0, 1, 2].map((r) => roundOrder(3, r)),
      [
        [0, 1, 2],
        [1, 2, 0],
        [2, 0, 1],
      ],
    );
    for (let pos = 0; pos < 3; pos++)
      assert.deepEqual([0, 1, 2].map((r) => roundOrder(3, r)[pos]).sort(), [0, 1, 2]);
  });

  it('takes the median, not the mean, and the middle pair for an even count', () => {
    assert.equal(median([47.3, 77.2, 68.6]), 68.6);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.throws(() => median([]), RangeError);
  });

  it('prints the median with the range, and ratios within the same round', () => {
    assert.equal(spread([15.7, 14.9, 15.72], 1), '15.7 (14.9 to 15.7)');
    assert.equal(spread([3], 2), '3.00');
    assert.deepEqual(ratios([6, 9], [2, 3]), [3, 3]);
    assert.throws(() => ratios([1], [1, 2]), RangeError);
  });

  it('gives the range only when there is more than one value', () => {
    assert.equal(range([0.79, 1.03, 0.76], 2), ' (0.76 to 1.03)');
    assert.equal(range([0.79], 2), '');
  });

  it('takes a whole number of rounds from the environment and refuses anything else by name', () => {
    assert.equal(roundsFrom(undefined, 'BENCH_TRANSFER_ROUNDS', 3), 3);
    assert.equal(roundsFrom('', 'BENCH_TRANSFER_ROUNDS', 3), 3);
    assert.equal(roundsFrom('5', 'BENCH_TRANSFER_ROUNDS', 3), 5);
    for (const bad of ['0', '-1', '2.5', 'three'])
      assert.throws(
        () => roundsFrom(bad, 'BENCH_TRANSFER_ROUNDS', 3),
        /BENCH_TRANSFER_ROUNDS must be a whole number/,
      );
  });
});
