/**
 * `builtins`: a deterministic in-process emulation of cmd.exe for tests and benchmarks. Every command line runs
 * as `cmd.exe /c LINE` does (WINRS_SKIP_CMD_SHELL is ignored, as Windows 2012 R2+ ignore it, [MS-WSMV] note
 * 117). Text is written with CRLF line ends in the shell's codepage. The command table is in builtin-commands.ts.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import type { PowerShellEmulationOptions } from '../transfer/powershell.ts';
import {
  BUILTIN_COMMANDS,
  type BuiltinIo,
  ExitRequest,
  isExecutableFile,
  type LineState,
  notRecognized,
} from './builtin-commands.ts';
import {
  applySlashCQuotes,
  expandVariables,
  parseCommandLine,
  type Redirection,
  type SimpleCommand,
} from './cmd-parse.ts';
import { encodeText } from './codepage.ts';
import { FileArea, isNulDevice } from './files.ts';
import type { CommandContext, CommandHost, Sink } from './types.ts';

export interface BuiltinsOptions {
  /** The file area `type`, `cd`, redirections and friends use. Default: the server's (`fileRoot` option). */
  files?: FileArea;
  /** `ver` output version. Default: '10.0.17763.1'. */
  windowsVersion?: string;
  /**
   * How `powershell.exe` is answered: the mock emulates only winrm-connection's transfer scripts, recognised by
   * their exact text; every other PowerShell command fails (stderr, exit code 1). Fault injection and the
   * benchmark-only accept-all mode are set here. Default: `{}`.
   */
  powershell?: PowerShellEmulationOptions;
}

const PATH_NOT_FOUND = 'The system cannot find the path specified.\r\n';

export function builtinsHost(options: BuiltinsOptions = {}): CommandHost {
  const version = options.windowsVersion ?? '10.0.17763.1';
  return {
    async run(ctx: CommandContext): Promise<number> {
      const state: LineState = {
        cwd: ctx.shell.workingDirectory,
        env: { ...ctx.shell.environment },
        lastExit: 0,
        version,
        files: options.files ?? new FileArea(ctx.shell.fileRoot),
        powershell: options.powershell ?? {},
      };
      const out: Sink = ctx.stdout;
      const err: Sink = ctx.stderr;
      try {
        // Windows runs `cmd.exe /c LINE` (no /S), so cmd's /C quote rule applies to the line first.
        const line = await applySlashCQuotes(ctx.commandLine, {
          slashS: false,
          isExecutable: (name) => isExecutableFile(name, state),
        });
        return await runLine(line, ctx, state, ctx.stdin, out, err);
      } catch (e) {
        if (e instanceof ExitRequest) return e.code;
        throw e;
      }
    },
  };
}

/** Run one command line (also used by `cmd /c`). */
export async function runLine(
  line: string,
  ctx: CommandContext,
  state: LineState,
  stdin: Readable,
  out: Sink,
  err: Sink,
): Promise<number> {
  // Dynamic variables (set /?): used only when the environment does not define the name; the environment's
  // entries come last, so they win in expandVariables' case-insensitive map.
  const vars = { CD: state.cwd, ERRORLEVEL: String(state.lastExit), ...state.env };
  const pipelines = parseCommandLine(expandVariables(line, vars));
  for (const p of pipelines) {
    if (p.op === '&&' && state.lastExit !== 0) continue;
    if (p.op === '||' && state.lastExit === 0) continue;
    let input: Readable = stdin;
    for (let i = 0; i < p.commands.length; i++) {
      const cmd = p.commands[i]!;
      const last = i === p.commands.length - 1;
      if (cmd.name === '' && cmd.redirections.length === 0) continue;
      if (last) {
        state.lastExit = await runSimple(cmd, ctx, state, input, out, err);
      } else {
        // Pipes are buffered: the left side runs to completion, then feeds the right side's stdin.
        const chunks: Buffer[] = [];
        const capture: Sink = { write: async (d) => void chunks.push(toBuffer(d, ctx.codepage)) };
        state.lastExit = await runSimple(cmd, ctx, state, input, capture, err);
        const next = new PassThrough();
        next.end(Buffer.concat(chunks));
        input = next;
      }
    }
  }
  return state.lastExit;
}

function toBuffer(d: Buffer | string, codepage: number): Buffer {
  return typeof d === 'string' ? encodeText(d, codepage) : d;
}

function fileSink(stream: WriteStream, codepage: number): Sink {
  return {
    write: (d) =>
      new Promise<void>((resolve, reject) =>
        stream.write(toBuffer(d, codepage), (e) => (e ? reject(e) : resolve())),
      ),
  };
}

const NUL_SINK: Sink = { write: async () => {} };

async function openRedirection(
  r: Redirection,
  state: LineState,
  codepage: number,
): Promise<{ sink?: Sink; input?: Readable; close?: () => Promise<void> } | string> {
  if (isNulDevice(r.target)) return r.fd === 0 ? { input: emptyStream() } : { sink: NUL_SINK };
  const path = state.files.resolve(r.target, state.cwd);
  if (!path) return PATH_NOT_FOUND;
  if (r.fd === 0) {
    const s = await stat(path).catch(() => undefined);
    if (!s?.isFile()) return 'The system cannot find the file specified.\r\n';
    return { input: createReadStream(path) };
  }
  const dir = await stat(dirname(path)).catch(() => undefined);
  if (!dir?.isDirectory()) return PATH_NOT_FOUND;
  const stream = createWriteStream(path, { flags: r.append ? 'a' : 'w' });
  await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
  return {
    sink: fileSink(stream, codepage),
    close: () => new Promise<void>((resolve) => stream.end(() => resolve())),
  };
}

function emptyStream(): Readable {
  const s = new PassThrough();
  s.end();
  return s;
}

async function runSimple(
  cmd: SimpleCommand,
  ctx: CommandContext,
  state: LineState,
  stdin: Readable,
  out: Sink,
  err: Sink,
): Promise<number> {
  let o = out;
  let e = err;
  let input = stdin;
  const closers: Array<() => Promise<void>> = [];
  try {
    for (const r of cmd.redirections) {
      if (r.target === '&1' || r.target === '&2') {
        const to = r.target === '&1' ? o : e;
        if (r.fd === 2) e = to;
        else if (r.fd === 1) o = to;
        continue;
      }
      const opened = await openRedirection(r, state, ctx.codepage);
      if (typeof opened === 'string') {
        await err.write(opened);
        return 1;
      }
      if (opened.close) closers.push(opened.close);
      if (r.fd === 0 && opened.input) input = opened.input;
      else if (r.fd === 2 && opened.sink) e = opened.sink;
      else if (opened.sink) o = opened.sink;
    }
    if (cmd.name === '') return 0;
    const io: BuiltinIo = { cmd, ctx, state, stdin: input, out: o, err: e, runLine };
    const impl = BUILTIN_COMMANDS[cmd.name.toLowerCase().replace(/\.exe$/, '')];
    return impl ? await impl(io) : await notRecognized(io);
  } finally {
    for (const c of closers) await c();
  }
}
