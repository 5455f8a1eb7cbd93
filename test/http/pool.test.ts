/** ChannelPool: bounded by its size, waiters served in order, close() fails waiters, broken channels replaced. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AbortError, ConnectionError } from '../../src/errors.ts';
import { ChannelPool } from '../../src/http/pool.ts';
import { resolveOptions } from '../../src/options/index.ts';

const config = resolveOptions({
  endpoint: 'http://127.0.0.1:9/wsman',
  username: 'u',
  password: 'p',
  allowUnencrypted: true,
});

describe('ChannelPool', () => {
  it('hands out at most `size` channels; a release serves the first waiter', async () => {
    const pool = new ChannelPool(config, 2);
    const a = await pool.acquire();
    const b = await pool.acquire();
    assert.notEqual(a, b);
    let third: unknown;
    const waiting = pool.acquire().then((c) => {
      third = c;
      return c;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(third, undefined, 'the third request waits');
    pool.release(a);
    assert.equal(await waiting, a);
    pool.close();
  });

  it('replaces a broken channel for a waiter, and an abort leaves the queue', async () => {
    const pool = new ChannelPool(config, 1);
    const a = await pool.acquire();
    const ac = new AbortController();
    const aborted = pool.acquire(ac.signal);
    const next = pool.acquire();
    ac.abort();
    await assert.rejects(aborted, AbortError);
    pool.release(a, true);
    const n = await next;
    assert.notEqual(n, a, 'a broken channel is never handed out again');
    pool.close();
  });

  it('close() fails waiting requests and later acquires', async () => {
    const pool = new ChannelPool(config, 1);
    await pool.acquire();
    const waiting = pool.acquire();
    pool.close();
    await assert.rejects(waiting, ConnectionError);
    await assert.rejects(pool.acquire(), ConnectionError);
  });
});
