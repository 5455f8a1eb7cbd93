/** LazyAbortController: the signal made late must still tell the truth about an earlier abort. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LazyAbortController } from '../../src/mock/lazy-abort.ts';

describe('LazyAbortController', () => {
  it('aborted before anyone asked: the signal made afterwards is already aborted, with the reason', () => {
    const c = new LazyAbortController();
    c.abort('ctrl_c');
    assert.equal(c.aborted, true);
    assert.equal(c.reason, 'ctrl_c');
    assert.equal(c.signal.aborted, true);
    assert.equal(c.signal.reason, 'ctrl_c');
  });

  it('a signal asked for first hears the abort once; later aborts change nothing', () => {
    const c = new LazyAbortController();
    const signal = c.signal;
    let heard = 0;
    signal.addEventListener('abort', () => heard++);
    assert.equal(c.aborted, false);
    c.abort('memory');
    c.abort('terminate');
    assert.equal(heard, 1);
    assert.equal(c.reason, 'memory');
    assert.equal(signal.reason, 'memory');
    assert.equal(c.signal, signal, 'one signal per controller');
  });
});
