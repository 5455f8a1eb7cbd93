/**
 * The hardening soak (bench/soak.ts) at CI size: executes, concurrent executes, random aborts and random cuts in
 * uploads against the mock, with every count that must be zero checked. `npm run soak` runs the full size.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

describe('soak (CI size)', () => {
  it('leaves 0 orphaned commands, 0 shells, 0 partial targets, 0 false successes, 0 hangs', async () => {
    process.env.SOAK_EXECUTES ??= '1000';
    process.env.SOAK_CONCURRENT ??= '200';
    process.env.SOAK_ABORTS ??= '60';
    process.env.SOAK_CUTS ??= '15';
    const { soak } = await import('../../bench/soak.ts');
    const r = await soak(() => undefined);
    assert.equal(r.executes, 1000);
    assert.deepEqual(r.concurrent, { ok: 200, wrong: 0 });
    assert.deepEqual(r.aborts.otherErrors, []);
    assert.equal(r.aborts.aborted + r.aborts.completed, 60);
    assert.equal(r.cuts.succeeded + r.cuts.rejected, 15);
    assert.deepEqual(
      {
        orphanedCommands: r.orphanedCommands,
        shellsLeft: r.shellsLeft,
        partialTargets: r.partialTargets,
        falseSuccesses: r.falseSuccesses,
        tempFilesLeft: r.tempFilesLeft,
        hangs: r.hangs,
      },
      {
        orphanedCommands: 0,
        shellsLeft: 0,
        partialTargets: 0,
        falseSuccesses: 0,
        tempFilesLeft: 0,
        hangs: 0,
      },
    );
  });
});
