/**
 * A winrs for machines without one: reads winrs.exe's command line (./args.ts), runs the command on the
 * endpoint named by `-r:` through this library's WinRM-internal strategy (the shared envelope builder, NTLM
 * with message encryption unless `-unencrypted`), forwards stdin, passes stdout and stderr through byte for
 * byte, and exits with the remote exit code, as winrs.exe does. Its own failures are `Winrs error:` lines on
 * stderr in the WinRM client's words, so ../errors.ts reads them as it reads winrs.exe's.
 *
 * Signals: the first SIGINT is sent as a ctrl_c Signal (winrs forwards Ctrl-C), a second one or SIGTERM sends
 * terminate and ends the emulator (as winrs's second Ctrl-C does).
 * Emulator-only settings (environment): WINRS_EMULATOR_FINGERPRINT (pin an HTTPS certificate: winrs.exe uses
 * the Windows trust store instead), WINRS_EMULATOR_CA (a PEM file to trust), WINRS_EMULATOR_STATUS_FD (a
 * descriptor the full 32-bit exit code is written to as `exit:N\n`, since POSIX statuses hold 8 bits).
 */
import { readFileSync, writeSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { connect } from '../../connect.ts';
import type { Connection, RemoteProcess } from '../../connection.ts';
import { AuthenticationError, ConnectionError, HttpError, WinRmError } from '../../errors.ts';
import { WINRS_ERROR_PREFIX } from '../errors.ts';
import { parseWinrsArgs, remoteUrl, WINRS_HELP, WinrsUsageError, wantsHelp } from './args.ts';

export interface EmulatorIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** Subscribe to SIGINT / SIGTERM; returns the unsubscribe. */
  onSignal?: (handler: (signal: 'SIGINT' | 'SIGTERM') => void) => () => void;
}

/** Exit code of the emulator's own failures (inferred: winrs.exe's codes for them are not documented). */
export const EMULATOR_FAILURE_EXIT = 1;

/** The WinRM client's words for a failure, as winrs.exe prints them after `Winrs error:`. */
function winrsText(err: unknown): string {
  if (err instanceof WinrsUsageError) return err.message;
  if (err instanceof AuthenticationError || (err instanceof HttpError && err.status === 401)) {
    return 'Access is denied.';
  }
  if (err instanceof ConnectionError && err.syscallCode) {
    return (
      'WinRM cannot complete the operation. Verify that the specified computer name is valid, that the ' +
      'computer is accessible over the network, and that a firewall exception for the WinRM service is enabled ' +
      'and allows access from this computer.'
    );
  }
  if (err instanceof WinRmError) return err.message.replace(/\r?\n/g, ' ');
  return String(err);
}

function writeAll(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve) => {
    stream.write(text, () => resolve());
  });
}

/** Run one winrs invocation; resolves with the exit code (the remote one, or 1 for winrs's own failures). */
export async function runWinrsEmulator(argv: readonly string[], io: EmulatorIo): Promise<number> {
  if (wantsHelp(argv)) {
    await writeAll(io.stdout, WINRS_HELP);
    return 0;
  }
  let conn: Connection | undefined;
  let unsubscribe: (() => void) | undefined;
  try {
    const inv = parseWinrsArgs(argv);
    const url = remoteUrl(inv.remote, inv.useSsl);
    if (inv.username === undefined) {
      throw new WinrsUsageError(
        'The emulator cannot log on as the current user (no single sign-on outside Windows): give -username: and -password:.',
      );
    }
    const https = url.protocol === 'https:';
    const fingerprint = io.env.WINRS_EMULATOR_FINGERPRINT;
    const caFile = io.env.WINRS_EMULATOR_CA;
    conn = await connect({
      connectionType: 'WINRM_INTERNAL',
      endpoint: url.href,
      username: inv.username,
      password: inv.password!,
      auth: 'ntlm',
      // -unencrypted: no message encryption over HTTP (ignored over HTTPS, as by winrs.exe).
      ...(inv.unencrypted && !https ? { encryption: 'never' as const, allowUnencrypted: true } : {}),
      ...(https && (fingerprint || caFile)
        ? {
            tls: { ...(fingerprint ? { fingerprint } : {}), ...(caFile ? { ca: readFileSync(caFile) } : {}) },
          }
        : {}),
      ...(io.env.WINRS_EMULATOR_OPERATION_TIMEOUT
        ? { operationTimeout: Number(io.env.WINRS_EMULATOR_OPERATION_TIMEOUT) }
        : {}),
    });
    const proc: RemoteProcess = await conn.startProcess(inv.command, {
      ...(inv.directory !== undefined ? { cwd: inv.directory } : {}),
      ...(Object.keys(inv.env).length > 0 ? { env: inv.env } : {}),
      ...(inv.codepage !== undefined ? { codepage: inv.codepage } : {}),
      noProfile: inv.noProfile,
    });
    let interrupts = 0;
    let stopping: Promise<void> = Promise.resolve();
    unsubscribe = io.onSignal?.((signal) => {
      interrupts += signal === 'SIGINT' ? 1 : 2;
      const send = interrupts >= 2 ? 'terminate' : 'ctrl_c';
      stopping = stopping.then(() => proc.kill(send)).catch(() => undefined);
    });
    io.stdin.on('error', () => undefined);
    proc.stdin.on('error', () => undefined);
    io.stdin.pipe(proc.stdin);
    proc.stdout.pipe(io.stdout, { end: false });
    proc.stderr.pipe(io.stderr, { end: false });
    const done = Promise.all([ended(proc.stdout), ended(proc.stderr)]);
    let code: number;
    try {
      code = await proc.exited;
    } finally {
      io.stdin.unpipe(proc.stdin);
      await stopping;
    }
    await done;
    return code;
  } catch (err) {
    const terminated = err instanceof WinRmError && err.code === 'WINRM_ABORTED';
    if (!terminated) await writeAll(io.stderr, `${WINRS_ERROR_PREFIX}${winrsText(err)}\r\n`);
    return terminated ? 0xc000013a : EMULATOR_FAILURE_EXIT;
  } finally {
    unsubscribe?.();
    await conn?.close().catch(() => undefined);
  }
}

function ended(stream: Readable): Promise<void> {
  return new Promise((resolve) => {
    if (stream.readableEnded || stream.destroyed) return resolve();
    stream.once('end', resolve);
    stream.once('close', resolve);
  });
}

/** The bin: run with process.argv and exit with the code (its full value written to WINRS_EMULATOR_STATUS_FD). */
export async function main(): Promise<void> {
  const code = await runWinrsEmulator(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    onSignal: (handler) => {
      const int = () => handler('SIGINT');
      const term = () => handler('SIGTERM');
      process.on('SIGINT', int);
      process.on('SIGTERM', term);
      return () => {
        process.off('SIGINT', int);
        process.off('SIGTERM', term);
      };
    },
  });
  const fd = Number(process.env.WINRS_EMULATOR_STATUS_FD);
  if (Number.isInteger(fd) && fd > 2) {
    try {
      writeSync(fd, `exit:${code >>> 0}\n`);
    } catch {
      // no such descriptor: the 8-bit status is all there is
    }
  }
  process.stdin.destroy();
  await Promise.all([writeAll(process.stdout, ''), writeAll(process.stderr, '')]);
  process.exit((code >>> 0) & 0xff);
}
