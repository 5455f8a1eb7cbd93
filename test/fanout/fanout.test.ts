/**
 * fanOut(): many hosts (several in-process mocks standing for them, one host entry per port), a concurrency
 * bound, a shared budget of sockets and shells whose peak stays within its limits, per-host timeout, abort.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from '../../src/connect.ts';
import { AbortError, ConnectionError, TimeoutError } from '../../src/errors.ts';
import { type FanOutHost, type FanOutResult, fanOut, ResourceBudget } from '../../src/fanout/index.ts';
import type { MockServer } from '../../src/mock/index.ts';
import { eventually, startMock, USER } from '../helpers/winrm-mock.ts';

const shared = {
  username: USER.name,
  password: USER.password,
  allowUnencrypted: true,
  operationTimeout: 1000,
};

describe('fanOut', () => {
  const mocks: MockServer[] = [];
  before(async () => {
    for (let i = 0; i < 4; i++) mocks.push(await startMock());
  });
  after(async () => {
    for (const m of mocks) await m.close();
  });
  const hostsFor = (n: number): FanOutHost[] =>
    Array.from({ length: n }, (_, i) => ({
      host: '127.0.0.1',
      options: { port: Number(new URL(mocks[i % mocks.length]!.url).port) },
    }));
  const openShells = () => mocks.reduce((n, m) => n + m.shells().length, 0);

  async function collect(it: AsyncIterable<FanOutResult>): Promise<FanOutResult[]> {
    const out: FanOutResult[] = [];
    for await (const r of it) out.push(r);
    return out;
  }

  it('runs one command on 160 hosts at concurrency 40 within a budget of 12 sockets and 6 shells', async () => {
    const budget = new ResourceBudget({ sockets: 12, shells: 6 });
    const results = await collect(
      fanOut(hostsFor(160), { command: 'echo hello' }, { connection: shared, concurrency: 40, budget }),
    );
    assert.equal(results.length, 160);
    assert.deepEqual(
      results.filter((r) => !r.ok).map((r) => r.error?.message),
      [],
    );
    assert.ok(results.every((r) => r.stdout === 'hello\r\n' && r.exitCode === 0));
    assert.deepEqual(
      [...new Set(results.map((r) => r.index))].sort((a, b) => a - b),
      [...Array(160).keys()],
    );
    const s = budget.stats();
    assert.ok(s.sockets.peak <= 12, `socket peak ${s.sockets.peak} over the budget of 12`);
    assert.ok(s.shells.peak <= 6, `shell peak ${s.shells.peak} over the budget of 6`);
    assert.ok(s.sockets.peak >= 2, 'the budget was used');
    assert.equal(s.sockets.inUse, 0, 'every socket given back');
    assert.equal(s.shells.inUse, 0, 'every shell given back');
    assert.equal(openShells(), 0, 'every shell deleted on the mocks');
  });

  it('the default budget bounds 300 hosts at concurrency 100 to 2 sockets and 1 shell per concurrent host', async () => {
    const budget = { sockets: 200, shells: 100 }; // the defaults for concurrency 100, observed through this object
    const b = new ResourceBudget(budget);
    const results = await collect(
      fanOut(
        hostsFor(300),
        { command: 'echo x' },
        { connection: { ...shared, maxConcurrentRequests: 8 }, concurrency: 100, budget: b },
      ),
    );
    assert.equal(results.filter((r) => r.ok).length, 300);
    assert.ok(b.stats().sockets.peak <= 200, `socket peak ${b.stats().sockets.peak}`);
    assert.ok(b.stats().shells.peak <= 100, `shell peak ${b.stats().shells.peak}`);
  });

  it('one budget shared by connect() calls bounds their sockets together', async () => {
    const budget = new ResourceBudget({ sockets: 3, shells: 2 });
    const conns = await Promise.all(
      mocks.slice(0, 3).map((m) => connect({ ...shared, endpoint: m.url, budget, maxConcurrentRequests: 4 })),
    );
    try {
      const runs = conns.flatMap((c) => [1, 2, 3].map((i) => c.execute(`echo ${i}`)));
      const outs = await Promise.all(runs);
      assert.ok(outs.every((r) => r.exitCode === 0));
      assert.ok(budget.stats().sockets.peak <= 3, `socket peak ${budget.stats().sockets.peak}`);
      assert.ok(budget.stats().shells.peak <= 2, `shell peak ${budget.stats().shells.peak}`);
      assert.ok(
        budget.stats().sockets.peak >= 1 && budget.stats().shells.peak >= 1,
        'the connections drew on it',
      );
    } finally {
      await Promise.all(conns.map((c) => c.close()));
    }
    assert.equal(budget.stats().sockets.inUse, 0);
    assert.equal(budget.stats().shells.inUse, 0);
  });

  it('a host that cannot be reached is a ConnectionError result; the others still succeed', async () => {
    const hosts: Array<FanOutHost | string> = [
      ...hostsFor(3),
      { host: '127.0.0.1', options: { port: 1, connectTimeout: 2000 } },
    ];
    const results = await collect(fanOut(hosts, { command: 'echo ok' }, { connection: shared }));
    assert.equal(results.length, 4);
    const bad = results.find((r) => r.index === 3)!;
    assert.equal(bad.ok, false);
    assert.ok(bad.error instanceof ConnectionError, `got ${bad.error?.name}: ${bad.error?.message}`);
    assert.equal(results.filter((r) => r.ok).length, 3);
  });

  it('hostTimeout cuts a slow host short with a TimeoutError and closes its connection', async () => {
    const results = await collect(
      fanOut(hostsFor(2), { command: 'mock-sleep 60000' }, { connection: shared, hostTimeout: 300 }),
    );
    assert.equal(results.length, 2);
    for (const r of results) {
      assert.equal(r.ok, false);
      assert.ok(r.error instanceof TimeoutError, `got ${r.error?.name}: ${r.error?.message}`);
    }
    assert.ok(await eventually(() => openShells() === 0), 'the shells were deleted');
  });

  it('an AbortSignal stops every host, closes every connection and ends the iteration with AbortError', async () => {
    const ctl = new AbortController();
    const seen: FanOutResult[] = [];
    const run = (async () => {
      for await (const r of fanOut(
        hostsFor(50),
        { command: 'mock-sleep 60000' },
        { connection: shared, concurrency: 8, signal: ctl.signal },
      ))
        seen.push(r);
    })();
    assert.ok(await eventually(() => openShells() === 8), 'eight hosts running');
    ctl.abort();
    await assert.rejects(run, AbortError);
    assert.equal(seen.length, 8, 'only the hosts that had started report');
    assert.ok(seen.every((r) => r.error instanceof AbortError));
    assert.ok(await eventually(() => openShells() === 0), 'every shell deleted');
  });

  it('leaving the loop early stops the other hosts and closes their connections', async () => {
    const hosts = [...hostsFor(1), ...Array.from({ length: 5 }, () => hostsFor(2)[1]!)];
    let first: FanOutResult | undefined;
    for await (const r of fanOut(
      [{ host: '127.0.0.1', options: hosts[0]!.options }, ...hosts.slice(1)],
      { command: 'echo quick' },
      { connection: shared, concurrency: 6 },
    )) {
      first = r;
      break;
    }
    assert.ok(first?.ok);
    assert.ok(await eventually(() => openShells() === 0), 'every shell deleted');
  });
});
