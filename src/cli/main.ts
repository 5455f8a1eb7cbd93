#!/usr/bin/env node
/**
 * The winrm-connection command-line tool.
 * Exit codes: the remote exit code for exec; 2 for usage errors; 255 for connection and authentication failures.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connect } from '../connect.ts';
import { InvalidArgumentError, WinRmError } from '../errors.ts';
import { CONNECTION_USAGE, parseCli, toConnectionOptions, UsageError } from './options.ts';
import { runTransferCli, TRANSFER_USAGE } from './transfer.ts';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

const USAGE = `Usage: winrm-connection <command> [flags]

Commands:
  exec [connection flags] [--powershell] -- COMMAND [ARGS...]
                     run a command; its stdout/stderr bytes are written unchanged; exits with its exit code
${TRANSFER_USAGE}
  mock [--port N] [--https] [--user NAME:PASSWORD]... [--auth basic,ntlm] [--allow-unencrypted]
       [--host builtins|local]
                     start the mock WinRM endpoint; prints its URL on the first line

${CONNECTION_USAGE}`;

function write(stream: NodeJS.WritableStream, chunk: Buffer | string): Promise<void> {
  return new Promise((resolve) => {
    if (stream.write(chunk)) resolve();
    else stream.once('drain', resolve);
  });
}

async function exec(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCli(argv, { powershell: { type: 'boolean' } });
  if (values.help) {
    await write(io.stdout, `${USAGE}\n`);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('exec needs a command after --');
  const { timeoutMs, ...options } = toConnectionOptions(values, io.env);
  const conn = await connect(options);
  try {
    const streamOpts = {
      timeout: timeoutMs,
      onStdout: (c: Buffer) => void write(io.stdout, c),
      onStderr: (c: Buffer) => void write(io.stderr, c),
      maxBuffer: 0,
    };
    const result = values.powershell
      ? await conn.executePowerShell(positionals.join(' '), streamOpts)
      : await conn.execute(positionals.length === 1 ? positionals[0]! : positionals, streamOpts);
    return result.exitCode >>> 0 > 255 ? 255 : result.exitCode & 0xff;
  } finally {
    await conn.close();
  }
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'exec':
        return await exec(rest, io);
      case 'upload':
      case 'download':
        return await runTransferCli(command, rest, io);
      case 'mock': {
        const { runMockCli } = await import('../mock/cli.ts');
        return await runMockCli(rest, { stdout: io.stdout, stderr: io.stderr });
      }
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        await write(command === undefined ? io.stderr : io.stdout, `${USAGE}\n`);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof InvalidArgumentError) {
      await write(io.stderr, `winrm-connection: ${err.message}\nRun 'winrm-connection --help' for usage.\n`);
      return 2;
    }
    const msg = err instanceof WinRmError ? `${err.name} [${err.code}]: ${err.message}` : String(err);
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
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
    (code) => {
      process.exitCode = code;
    },
  );
}
