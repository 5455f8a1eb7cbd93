/**
 * Host lists for fan-out: one host a line, `#` comments and blank lines ignored; a line that starts with `{` is
 * a JSON object `{ "host": "srv01", ...connection options }` (per-host credentials or options: username,
 * password, port, https, auth, endpoint, ...). A plain line is `HOST`, `HOST:PORT` or `[IPV6]:PORT`.
 * Sharding splits a list deterministically by a hash of each host name, so every shard runner computes the same
 * split from the same file, and adding or removing hosts moves only those hosts.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from '../errors.ts';
import type { ConnectionOptions } from '../options/index.ts';

/** One host of a fan-out, with options that override the shared ones for it. */
export interface FanOutHost {
  /** The host name or address (also the `host` connection option unless `options.endpoint` is given). */
  host: string;
  /** Per-host connection options (credentials, port, auth, ...) over the shared ones. Default: none. */
  options?: Partial<ConnectionOptions>;
}

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/;

/** Parse host-list text (see the module comment). `source` names the file in errors. */
export function parseHostList(text: string, source = 'host list'): FanOutHost[] {
  const hosts: FanOutHost[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${source}, line ${i + 1}`;
    if (line.startsWith('{')) {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        // The line is not repeated: it may hold a password.
        throw new InvalidArgumentError(`${where} is not a JSON object: ${(err as Error).message}`, {
          argument: 'hosts',
          remedy: 'write one JSON object per line, e.g. {"host":"srv01","username":"admin"}',
        });
      }
      const { host, ...options } = value as { host?: unknown } & Partial<ConnectionOptions>;
      if (typeof host !== 'string' || host.trim() === '') {
        throw new InvalidArgumentError(`${where}: the JSON object has no "host" string`, {
          argument: 'hosts',
          remedy: 'give each JSON line a "host" field',
        });
      }
      hosts.push(Object.keys(options).length > 0 ? { host: host.trim(), options } : { host: host.trim() });
      continue;
    }
    if (/\s/.test(line)) {
      throw new InvalidArgumentError(`${where}: "${line}" is not one host name`, {
        argument: 'hosts',
        remedy: 'write one host a line (HOST or HOST:PORT); per-host options go in a JSON line',
      });
    }
    const m = HOST_PORT.exec(line);
    if (m) hosts.push({ host: m[1] ?? m[2]!, options: { port: Number(m[3]) } });
    else hosts.push({ host: line.replace(/^\[|\]$/g, '') });
  }
  return hosts;
}

/** Read and parse a host file. */
export async function readHostFile(path: string): Promise<FanOutHost[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`Cannot read the host file ${path}: ${(err as Error).message}`, {
      argument: 'hosts',
      cause: err,
    });
  }
  return parseHostList(text, path);
}

/** A shard `index` of `count` (1 <= index <= count), e.g. from `--shard 2/8`. */
export interface Shard {
  index: number;
  count: number;
}

/** Parse `i/n` (1-based: shards 1/4 ... 4/4). */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    throw new InvalidArgumentError(`The shard must be i/n with 1 <= i <= n, got "${text}"`, {
      argument: 'shard',
      remedy: 'give e.g. 1/4 for the first of four shards',
    });
  }
  return { index, count };
}

/** Which shard (1-based) of `count` a host belongs to: SHA-256 of the lower-cased name, first 4 bytes, mod count. */
export function shardOf(host: string, count: number): number {
  const h = createHash('sha256').update(host.toLowerCase(), 'utf8').digest();
  return (h.readUInt32BE(0) % count) + 1;
}

/** The hosts of one shard, in list order. Every host is in exactly one shard of the same count. */
export function selectShard<H extends { host: string }>(hosts: readonly H[], shard: Shard): H[] {
  return hosts.filter((h) => shardOf(h.host, shard.count) === shard.index);
}
