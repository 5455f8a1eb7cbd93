/**
 * `winrm-connection upload LOCAL REMOTE` and `winrm-connection download REMOTE LOCAL` (`-r` for directories).
 * On a terminal a progress bar (bytes, rate, ETA) is drawn on stderr; otherwise nothing is printed on success.
 * Exit codes: 0 done, 1 transfer failed (the message on stderr), 2 usage, 255 connection failures.
 */
import { connect } from '../connect.ts';
import type { TransferOptions, TransferProgress } from '../connection.ts';
import { TransferError } from '../errors.ts';
import { bindCancel, closeAfter } from './cancel.ts';
import { CONNECTION_USAGE, parseCli, toConnectionOptions, UsageError } from './options.ts';

export interface TransferCliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  /** Clock for rate and ETA (tests). Default: performance.now. */
  now?: () => number;
  /** Cancels the transfer (SIGINT / SIGTERM when run as a program); no temporary file stays. Default: none. */
  signal?: AbortSignal;
}

export const TRANSFER_USAGE = `  upload [connection flags] [-r] [--no-overwrite] [--chunk-size N] LOCAL REMOTE
                     copy a local file (or directory with -r) to the host, verified by SHA-256
  download [connection flags] [-r] [--no-overwrite] [--chunk-size N] REMOTE LOCAL
                     copy a remote file (or directory with -r) here, verified by SHA-256`;

const FLAGS = {
  recursive: { type: 'boolean', short: 'r' },
  'no-overwrite': { type: 'boolean' },
  'chunk-size': { type: 'string' },
} as const;

function human(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * One progress line: bar, bytes, rate, ETA, fitted to a terminal `width` columns wide. The line is at most
 * `width - 1` characters (a full-width line makes some terminals wrap, which adds a row per redraw); narrower
 * terminals drop the rate, then the ETA, then the bar. Exported for tests.
 */
export function progressLine(p: TransferProgress, elapsedMs: number, width: number): string {
  const max = Math.max(1, Math.floor(Number.isFinite(width) ? width : 80) - 1);
  const rate = elapsedMs > 0 ? p.bytes / (elapsedMs / 1000) : 0;
  const size = `${human(p.bytes)}${p.total !== undefined ? ` / ${human(p.total)}` : ''}`;
  const eta = `ETA ${p.total !== undefined && rate > 0 ? duration((p.total - p.bytes) / rate) : '--:--'}`;
  const tails = [`${size}  ${human(rate)}/s  ${eta}`, `${size}  ${eta}`, size, human(p.bytes)];
  const fraction = p.total ? Math.min(1, p.bytes / p.total) : 0;
  for (const tail of tails) {
    const barWidth = Math.min(40, max - tail.length - 3);
    if (barWidth >= 10) {
      const filled = Math.round(fraction * barWidth);
      return `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${tail}`;
    }
  }
  for (const tail of tails) if (tail.length <= max) return tail;
  return tails[tails.length - 1]!.slice(0, max);
}

/**
 * The bytes that redraw the progress line in place: carriage return, the fitted line, erase to end of line
 * (so a shorter line leaves no stale characters). No newline: one row, however often it is redrawn.
 */
export function progressFrame(p: TransferProgress, elapsedMs: number, columns: number | undefined): string {
  return `\r${progressLine(p, elapsedMs, columns ?? 80)}\x1b[K`;
}

export async function runTransferCli(
  command: 'upload' | 'download',
  argv: string[],
  io: TransferCliIo,
): Promise<number> {
  const { values, positionals } = parseCli(argv, FLAGS);
  if (values.help) {
    const line = TRANSFER_USAGE.split('\n').findIndex((l) => l.trimStart().startsWith(command));
    const usage = TRANSFER_USAGE.split('\n')
      .slice(line, line + 2)
      .join('\n');
    io.stdout.write(`Usage: winrm-connection\n${usage}\n\n${CONNECTION_USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 2) {
    throw new UsageError(
      command === 'upload' ? 'upload needs LOCAL and REMOTE' : 'download needs REMOTE and LOCAL',
    );
  }
  const chunkText = values['chunk-size'] as string | undefined;
  const chunkSize = chunkText === undefined ? undefined : Number(chunkText);
  if (chunkSize !== undefined && !(Number.isInteger(chunkSize) && chunkSize > 0)) {
    throw new UsageError(`--chunk-size needs a positive integer, got "${chunkText}"`);
  }
  const { timeoutMs, ...connOptions } = toConnectionOptions(values, io.env);
  const tty = io.stderr.isTTY === true;
  const now = io.now ?? (() => performance.now());
  const started = now();
  let lastDraw = 0;
  const options: TransferOptions = {
    overwrite: values['no-overwrite'] !== true,
    timeout: timeoutMs,
    signal: io.signal,
    chunkSize,
    onProgress: tty
      ? (p) => {
          const t = now();
          if (t - lastDraw < 100 && p.bytes !== p.total) return;
          lastDraw = t;
          io.stderr.write(progressFrame(p, t - started, io.stderr.columns));
        }
      : undefined,
  };
  const [a, b] = positionals as [string, string];
  const conn = await connect(connOptions);
  const release = bindCancel(conn, io.signal);
  let failed = true;
  try {
    const result =
      command === 'upload'
        ? values.recursive
          ? await conn.uploadDirectory(a, b, options)
          : await conn.upload(a, b, options)
        : values.recursive
          ? await conn.downloadDirectory(a, b, options)
          : await conn.download(a, b, options);
    if (tty) {
      const files = 'files' in result ? `${result.files.length} files, ` : '';
      io.stderr.write(
        `\r\x1b[K${files}${human(result.bytes)} in ${duration(result.durationMs / 1000)}, verified (SHA-256)\n`,
      );
    }
    failed = false;
    return 0;
  } catch (err) {
    if (tty) io.stderr.write('\r\x1b[K');
    if (err instanceof TransferError) {
      io.stderr.write(`winrm-connection: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    release();
    await closeAfter(conn, failed, io.stderr);
  }
}
