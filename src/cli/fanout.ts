/**
 * `winrm-connection fanout --hosts FILE [--concurrency N] [--host-timeout MS] [--format jsonl|table]
 * [--shard I/N] [--powershell] [connection flags] -- COMMAND...`: one command on every host of the file, printing
 * one result per host as it finishes (JSON lines, or table rows) and a summary with counts (on stdout for jsonl
 * as a last `{"summary":...}` line, else a last table line). Exit codes: 0 every host ok, 1 any host failed or
 * exited non-zero, 2 usage, 130/143 interrupted.
 */
import type { Writable } from 'node:stream';
import { FANOUT_DEFAULTS, type FanOutSummary, fanOut, summarize } from '../fanout/fanout.ts';
import { parseShard, readHostFile, selectShard } from '../fanout/hosts.ts';
import { CONNECTION_USAGE, cliMessage, parseCli, toConnectionOptions, UsageError } from './options.ts';

export interface FanOutCliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export const FANOUT_USAGE = `  fanout --hosts FILE [--concurrency N] [--host-timeout MS] [--format jsonl|table] [--shard I/N]
         [--powershell] [connection flags] -- COMMAND [ARGS...]
                     run COMMAND on every host of FILE (one a line, # comments, JSON lines for per-host
                     options); one result per host as it finishes and a summary; exit 1 if any host failed`;

const FLAGS = {
  hosts: { type: 'string' },
  concurrency: { type: 'string' },
  'host-timeout': { type: 'string' },
  format: { type: 'string' },
  shard: { type: 'string' },
  powershell: { type: 'boolean' },
} as const;

function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    if ((stream as Writable).write(text)) resolve();
    else stream.once('drain', resolve);
  });
}

function positive(name: string, v: string | boolean | undefined): number | undefined {
  if (v === undefined || typeof v === 'boolean') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--${name} needs a whole number of at least 1, got "${v}"`);
  return n;
}

const oneLine = (s: string | undefined, max = 60) => {
  const t = (s ?? '').replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};

export async function runFanOutCli(argv: string[], io: FanOutCliIo): Promise<number> {
  const { values, positionals } = parseCli(argv, FLAGS);
  if (values.help) {
    await write(io.stdout, `Usage:\n${FANOUT_USAGE}\n\n${CONNECTION_USAGE}\n`);
    return 0;
  }
  if (typeof values.hosts !== 'string') throw new UsageError('fanout needs --hosts FILE');
  if (positionals.length === 0) throw new UsageError('fanout needs a command after --');
  if (values.endpoint || values.host)
    throw new UsageError('fanout takes its hosts from --hosts, not --host/--endpoint');
  const format = values.format ?? 'jsonl';
  if (format !== 'jsonl' && format !== 'table') throw new UsageError('--format must be jsonl or table');
  const {
    timeoutMs,
    host: _h,
    endpoint: _e,
    ...connection
  } = toConnectionOptions({ ...values, host: 'fanout' }, io.env);
  let hosts = await readHostFile(values.hosts);
  if (typeof values.shard === 'string') hosts = selectShard(hosts, parseShard(values.shard));
  const concurrency = positive('concurrency', values.concurrency) ?? FANOUT_DEFAULTS.concurrency;
  const hostTimeout = positive('host-timeout', values['host-timeout']) ?? timeoutMs;
  const line = positionals.join(' ');
  const task = values.powershell
    ? { powershell: line }
    : { command: positionals.length === 1 ? positionals[0]! : positionals };
  let summary: FanOutSummary = { hosts: 0, ok: 0, nonZero: 0, errors: 0 };
  const t0 = performance.now();
  if (format === 'table')
    await write(io.stdout, `${'HOST'.padEnd(30)} ${'RESULT'.padEnd(10)} OUTPUT / ERROR\n`);
  for await (const r of fanOut(hosts, task, {
    connection,
    concurrency,
    ...(hostTimeout !== undefined ? { hostTimeout } : {}),
    signal: io.signal,
  })) {
    summary = summarize(summary, r);
    const error = r.error
      ? { name: r.error.name, code: r.error.code, message: cliMessage(r.error.message) }
      : undefined;
    if (format === 'jsonl') {
      await write(
        io.stdout,
        `${JSON.stringify({
          host: r.host,
          index: r.index,
          ok: r.ok,
          exitCode: r.exitCode,
          stdout: r.stdout,
          stderr: r.stderr,
          truncated: r.truncated || undefined,
          error,
          ms: Math.round(r.durationMs),
        })}\n`,
      );
    } else {
      const result = r.error ? r.error.name.replace(/Error$/, '') : `exit ${r.exitCode}`;
      const text = r.error ? oneLine(error?.message, 80) : oneLine(r.stdout || r.stderr);
      await write(io.stdout, `${r.host.padEnd(30)} ${result.padEnd(10)} ${text}\n`);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  if (format === 'jsonl') {
    await write(
      io.stdout,
      `${JSON.stringify({ summary: { ...summary, seconds: Number(seconds.toFixed(3)) } })}\n`,
    );
  } else {
    await write(
      io.stdout,
      `\n${summary.hosts} host(s): ${summary.ok} ok, ${summary.nonZero} non-zero exit, ${summary.errors} error(s) in ${seconds.toFixed(1)} s\n`,
    );
  }
  return summary.ok === summary.hosts ? 0 : 1;
}
