/** Host lists (file syntax, per-host JSON options) and deterministic shards. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.ts';
import { parseHostList, parseShard, selectShard, shardOf } from '../../src/fanout/hosts.ts';

describe('host lists', () => {
  it('reads one host a line, HOST:PORT, [IPv6]:PORT, comments, blank lines and JSON lines', () => {
    const hosts = parseHostList(
      [
        '# web tier',
        'web01',
        '  web02:5986  ',
        '',
        '[fe80::1]:5985',
        '::1',
        '{"host":"db01","username":"dbadmin","password":"s3cret","https":true}',
      ].join('\r\n'),
    );
    assert.deepEqual(hosts, [
      { host: 'web01' },
      { host: 'web02', options: { port: 5986 } },
      { host: 'fe80::1', options: { port: 5985 } },
      { host: '::1' },
      { host: 'db01', options: { username: 'dbadmin', password: 's3cret', https: true } },
    ]);
  });

  it('refuses a bad JSON line without repeating it (it may hold a password), naming the line', () => {
    assert.throws(
      () => parseHostList('ok\n{"host":"x","password":"hunter2"', 'hosts.txt'),
      (e: unknown) =>
        e instanceof InvalidArgumentError &&
        /hosts\.txt, line 2/.test(e.message) &&
        !e.message.includes('hunter2'),
    );
    assert.throws(() => parseHostList('{"user":"x"}'), /no "host"/);
    assert.throws(() => parseHostList('two hosts'), /not one host name/);
  });

  it('shards: every host in exactly one shard, the same split every time, independent of list order', () => {
    const hosts = Array.from({ length: 500 }, (_, i) => ({ host: `srv${i}.corp.example` }));
    const n = 7;
    const shards = Array.from({ length: n }, (_, i) => selectShard(hosts, { index: i + 1, count: n }));
    assert.equal(
      shards.reduce((a, s) => a + s.length, 0),
      500,
    );
    assert.equal(new Set(shards.flat().map((h) => h.host)).size, 500);
    for (const s of shards) assert.ok(s.length > 30, `an even enough split (${s.length})`);
    const reversed = selectShard([...hosts].reverse(), { index: 3, count: n }).map((h) => h.host);
    assert.deepEqual(
      reversed.reverse(),
      shards[2]!.map((h) => h.host),
    );
    assert.equal(shardOf('SRV1.corp.example', n), shardOf('srv1.corp.example', n), 'case does not matter');
  });

  it('parses I/N shards and refuses the rest', () => {
    assert.deepEqual(parseShard('2/8'), { index: 2, count: 8 });
    for (const bad of ['0/4', '5/4', '1/0', 'x', '1/2/3'])
      assert.throws(() => parseShard(bad), InvalidArgumentError);
  });
});
