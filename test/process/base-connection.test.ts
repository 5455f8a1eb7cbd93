/**
 * A second strategy needs only launch + releaseResources + stats: a local fake built on BaseConnection and
 * ProcessLifecycle gets execute(), the deadline, abort, kill-on-close and executePowerShell's checks from the base.
 */
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { ConnectionStats, ProcessOptions, RemoteProcess, RemoteSignal } from '../../src/connection.ts';
import { DebugLog } from '../../src/debug.ts';
import { AbortError, ConnectionError, InvalidArgumentError, TimeoutError } from '../../src/errors.ts';
import { BaseConnection } from '../../src/process/base-connection.ts';
import { ProcessLifecycle } from '../../src/process/lifecycle.ts';

/** `echo TEXT` prints TEXT, `cat` copies stdin, `hang` runs until killed. */
class FakeProcess implements RemoteProcess {
  readonly stdout = new Readable({ read() {} });
  readonly stderr = new Readable({ read() {} });
  readonly stdin: Writable;
  readonly exited: Promise<number>;
  readonly signals: RemoteSignal[] = [];
  private readonly life: ProcessLifecycle;
  private readonly input: Buffer[] = [];

  constructor(line: string, options: ProcessOptions) {
    this.stdin = new Writable({
      write: (chunk: Buffer, _e, cb) => {
        this.input.push(chunk);
        cb();
      },
      final: (cb) => {
        if (line === 'cat') this.done(Buffer.concat(this.input), 0);
        cb();
      },
    });
    this.life = new ProcessLifecycle(this);
    this.exited = this.life.exited;
    this.life.arm(options.timeout, options.signal);
    this.life.stop.signal.addEventListener('abort', () => this.life.fail(this.life.failure!), { once: true });
    const echo = /^echo (.*)$/.exec(line);
    if (echo) setImmediate(() => this.done(Buffer.from(`${echo[1]}\r\n`), 0));
  }

  private done(out: Buffer, code: number): void {
    if (this.life.finished) return;
    this.stdout.push(out);
    this.life.succeed(code);
  }

  async kill(signal: RemoteSignal = 'ctrl_c'): Promise<void> {
    this.signals.push(signal);
    this.life.abort(new AbortError(`killed with ${signal}`));
  }
}

class FakeConnection extends BaseConnection {
  readonly connectionType = 'WINRM_NATIVE' as const;
  readonly launched: FakeProcess[] = [];
  released = 0;
  constructor() {
    super(new DebugLog(undefined), 65001);
  }
  protected async launch(line: string, options: ProcessOptions): Promise<RemoteProcess> {
    const p = new FakeProcess(line, options);
    this.launched.push(p);
    return p;
  }
  protected async releaseResources(): Promise<void> {
    this.released++;
  }
  stats(): ConnectionStats {
    return { processesRunning: this.processesRunning };
  }
}

describe('BaseConnection with a minimal strategy', () => {
  it('execute collects and decodes output; stdin is fed', async () => {
    const c = new FakeConnection();
    const r = await c.execute(['echo', 'hi']);
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdoutText, 'hi\r\n');
    const cat = await c.execute('cat', { stdin: 'piped' });
    assert.equal(cat.stdoutText, 'piped');
    assert.deepEqual(c.stats(), { processesRunning: 0 });
    await c.close();
  });

  it('a deadline rejects exited with TimeoutError; an abort with AbortError', async () => {
    const c = new FakeConnection();
    await assert.rejects(c.execute('hang', { timeout: 30 }), TimeoutError);
    const ac = new AbortController();
    const p = c.execute('hang', { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, AbortError);
    await c.close();
  });

  it('refuses bad input before launching anything', async () => {
    const c = new FakeConnection();
    await assert.rejects(c.execute('hang', { timeout: -1 }), InvalidArgumentError);
    await assert.rejects(c.executePowerShell('  '), InvalidArgumentError);
    await assert.rejects(c.executePowerShell('1', { stdin: 'x' }), InvalidArgumentError);
    assert.equal(c.launched.length, 0);
    await c.close();
  });

  it('close() terminates running processes, releases once, then refuses new commands', async () => {
    const c = new FakeConnection();
    const proc = await c.startProcess('hang');
    assert.equal(c.stats().processesRunning, 1);
    await Promise.all([c.close(), c.close()]);
    assert.deepEqual(c.launched[0]!.signals, ['terminate']);
    await assert.rejects(proc.exited, AbortError);
    assert.equal(c.released, 1);
    assert.equal(c.stats().processesRunning, 0);
    await assert.rejects(c.execute('echo late'), ConnectionError);
  });
});
