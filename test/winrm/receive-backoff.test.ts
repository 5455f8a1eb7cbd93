/** The Receive back-off schedule against a server that answers "Running" at once with no output. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RECEIVE_BACKOFF_MAX_MS, receiveBackoffMs } from '../../src/winrm/process.ts';

describe('Receive back-off', () => {
  it('starts at 0, doubles from 50 ms and is capped', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 50].map(receiveBackoffMs), [
      0,
      50,
      100,
      200,
      400,
      800,
      RECEIVE_BACKOFF_MAX_MS,
      RECEIVE_BACKOFF_MAX_MS,
      RECEIVE_BACKOFF_MAX_MS,
    ]);
  });
});
