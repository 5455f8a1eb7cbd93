/**
 * Per-connection memory that fan-outs multiply by the number of live hosts: what each connection keeps must be
 * its own few bytes, not shared memory it pins.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAccount } from '../../src/account.ts';
import { BasicMechanism } from '../../src/auth/basic.ts';

describe('per-connection memory', () => {
  it("the Basic token owns its bytes instead of pinning a slab of Buffer's shared pool", async () => {
    const mech = new BasicMechanism(parseAccount('alice'), 'Secret-1');
    const first = await mech.begin().init();
    const token = first.token as Buffer;
    assert.equal(token.toString('utf8'), 'alice:Secret-1');
    // A pooled Buffer.from() is a view into an 8 KiB ArrayBuffer; the connection would keep all of it alive.
    assert.equal(token.buffer.byteLength, token.length);
  });
});
