#!/usr/bin/env node
/**
 * The winrm-connection command-line tool.
 * Exit codes: the remote exit code for exec; 2 for usage errors; 255 for connection and authentication failures;
 * 130 / 143 when interrupted by SIGINT / SIGTERM (the remote work is cancelled first, see cancel.ts).
 */
import { readFileSync, realpathSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { connect } from '../connect.ts';
import { InvalidArgumentError, WinRmError } from '../errors.ts';
import { bindCancel, closeAfter, type Interrupted, installSignalHandlers, interruptCode } from './cancel.ts';
import { DOCTOR_USAGE, runDoctorCli } from './doctor.ts';
import { FANOUT_USAGE, runFanOutCli } from './fanout.ts';
import { CONNECTION_USAGE, cliMessage, parseCli, toConnectionOptions, UsageError } from './options.ts';
import { isResourceVerb, RESOURCE_USAGE, runResourceCli } from './resources.ts';
import { runTransferCli, TRANSFER_USAGE } from './transfer.ts';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  /**
   * The CLI's own stdin. exec streams it to the remote command when it is not a TTY (ended at EOF); on a TTY,
   * with --no-stdin, or when absent, the command gets no stdin (closed at once). Default: none.
   */
  stdin?: Readable & { isTTY?: boolean };
  /** Cancels the running command or transfer (SIGINT / SIGTERM when run as a program). Default: none. */
  signal?: AbortSignal;
}

/** The package version, read from package.json (two levels up from src/cli/ and from dist/cli/). */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

const USAGE = `Usage: winrm-connection <command> [flags]

Commands:
  exec [connection flags] [--powershell] [--no-stdin] -- COMMAND [ARGS...]
                     run a command; its stdout/stderr bytes are written unchanged; exits with its exit code.
                     Piped stdin is passed to the command (ended at EOF); a terminal or --no-stdin gives none
${TRANSFER_USAGE}
${FANOUT_USAGE}
${RESOURCE_USAGE}
${DOCTOR_USAGE}
  mock [--port N] [--https] [--user NAME:PASSWORD]... [--auth basic,ntlm] [--allow-unencrypted]
       [--host builtins|local]
                     start the mock WinRM endpoint; prints its URL on the first line
  --help, --version

Ctrl-C (or SIGTERM) cancels the remote command or transfer and exits 130 (143); a second one exits at once.

${CONNECTION_USAGE}`;

function write(stream: NodeJS.WritableStream, chunk: Buffer | string): Promise<void> {
  return new Promise((resolve) => {
    if (stream.write(chunk)) resolve();
    else stream.once('drain', resolve);
  });
}

async function exec(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCli(argv, {
    powershell: { type: 'boolean' },
    'no-stdin': { type: 'boolean' },
  });
  if (values.help) {
    await write(io.stdout, `${USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('exec needs a command after --');
  const { timeoutMs, ...options } = toConnectionOptions(values, io.env);
  const stdin = values['no-stdin'] !== true && io.stdin && io.stdin.isTTY !== true ? io.stdin : undefined;
  const conn = await connect(options);
  const release = bindCancel(conn, io.signal);
  let failed = true;
  try {
    const streamOpts = {
      timeout: timeoutMs,
      signal: io.signal,
      stdin,
      onStdout: (c: Buffer) => void write(io.stdout, c),
      onStderr: (c: Buffer) => void write(io.stderr, c),
      maxBuffer: 0,
    };
    const result = values.powershell
      ? await conn.executePowerShell(positionals.join(' '), streamOpts)
      : await conn.execute(positionals.length === 1 ? positionals[0]! : positionals, streamOpts);
    failed = false;
    return result.exitCode >>> 0 > 255 ? 255 : result.exitCode & 0xff;
  } finally {
    release();
    await closeAfter(conn, failed, io.stderr);
  }
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const code = await run(argv, io);
  // The mock stops on SIGINT / SIGTERM by design (its own handlers) and exits 0 after a clean shutdown.
  const interrupted = argv[0] === 'mock' ? undefined : interruptCode(io.signal);
  if (interrupted !== undefined) {
    const reason = io.signal?.reason as Interrupted;
    await write(io.stderr, `winrm-connection: ${reason.message}; the remote work was cancelled\n`);
    return interrupted;
  }
  return code;
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'exec':
        return await exec(rest, io);
      case 'upload':
      case 'download':
        return await runTransferCli(command, rest, io);
      case 'doctor':
        return await runDoctorCli(rest, io);
      case 'fanout':
        return await runFanOutCli(rest, io);
      case 'mock': {
        const { runMockCli } = await import('../mock/cli.ts');
        return await runMockCli(rest, { stdout: io.stdout, stderr: io.stderr });
      }
      case '--version':
      case '-V':
      case 'version':
        await write(io.stdout, `winrm-connection ${cliVersion()}\n`);
        return 0;
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        await write(command === undefined ? io.stderr : io.stdout, `${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        if (isResourceVerb(command)) return await runResourceCli(command!, rest, io);
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (command !== 'mock' && interruptCode(io.signal) !== undefined) return 1;
    if (err instanceof UsageError || err instanceof InvalidArgumentError) {
      await write(
        io.stderr,
        `winrm-connection: ${cliMessage(err.message)}\nRun 'winrm-connection --help' for usage.\n`,
      );
      return 2;
    }
    const msg =
      err instanceof WinRmError ? `${err.name} [${err.code}]: ${cliMessage(err.message)}` : String(err);
    await write(io.stderr, `winrm-connection: ${msg}\n`);
    return 255;
  }
}

function invokedDirectly(): boolean {
  try {
    return (
      !!process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))
    );
  } catch {
    return false;
  }
}
if (invokedDirectly()) {
  const signals = installSignalHandlers(process, (code) => process.exit(code));
  main(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    stdin: process.stdin,
    signal: signals.signal,
  }).then((code) => {
    signals.dispose();
    // A command that did not read all of a piped stdin must not keep the CLI alive.
    process.stdin.destroy();
    process.exitCode = code;
  });
}
