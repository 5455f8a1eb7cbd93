/**
 * The builtins host's command table. Real cmd.exe commands answer with cmd's exact texts; commands named
 * `mock-*` exist only in the mock (documented in docs/mock.md):
 * - `mock-output BYTES [stderr]` writes BYTES bytes of a fixed ASCII pattern, fast (throughput tests);
 * - `mock-sleep MS` waits MS milliseconds silently (OperationTimeout tests); ctrl_c ends it;
 * - `mock-cat` copies stdin to stdout until stdin ends (Send tests);
 * - `mock-memory MB` reports MB of memory use (MaxMemoryPerShellMB tests);
 * - `mock-argv ARGS` prints each argument as a program built with the Microsoft C runtime would get it, one per
 *   line (quoting round-trip tests).
 */
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { win32 } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { type PowerShellEmulationOptions, runPowerShell } from '../transfer/powershell.ts';
import type { SimpleCommand } from './cmd-parse.ts';
import { applySlashCQuotes, msvcrtArgs, words } from './cmd-parse.ts';
import type { FileArea } from './files.ts';
import type { CommandContext, Sink } from './types.ts';

/** State that lives for one command line: `set` and `cd` change it for the commands after them. */
export interface LineState {
  cwd: string;
  env: Record<string, string>;
  lastExit: number;
  version: string;
  files: FileArea;
  /** How `powershell.exe` is answered (the transfer-script emulation, src/mock/transfer). */
  powershell: PowerShellEmulationOptions;
}

export interface BuiltinIo {
  cmd: SimpleCommand;
  ctx: CommandContext;
  state: LineState;
  stdin: Readable;
  out: Sink;
  err: Sink;
  runLine: (
    line: string,
    ctx: CommandContext,
    state: LineState,
    stdin: Readable,
    out: Sink,
    err: Sink,
  ) => Promise<number>;
}

/** `exit`: ends the whole command line with a code. */
export class ExitRequest {
  constructor(readonly code: number) {}
}

type Builtin = (io: BuiltinIo) => Promise<number>;

const FILE_NOT_FOUND = 'The system cannot find the file specified.\r\n';
const PATH_NOT_FOUND = 'The system cannot find the path specified.\r\n';
// A multiple of 36 bytes, so consecutive chunks continue the pattern seamlessly.
const PATTERN = Buffer.alloc(36 * 1820);
for (let i = 0; i < PATTERN.length; i++)
  PATTERN[i] = 'abcdefghijklmnopqrstuvwxyz0123456789'.charCodeAt(i % 36);

export async function notRecognized(io: BuiltinIo): Promise<number> {
  await io.err.write(
    `'${io.cmd.name}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n`,
  );
  return 1;
}

const echo: Builtin = async ({ cmd, out }) => {
  const text = cmd.argText;
  if (cmd.bare) await out.write('ECHO is on.\r\n');
  else if (/^\s*(on|off)\s*$/i.test(text)) return 0;
  else await out.write(`${text}\r\n`);
  return 0;
};

const exit: Builtin = async ({ cmd, state }) => {
  const w = words(cmd.argText);
  const b = w[0]?.toLowerCase() === '/b';
  const n = w[b ? 1 : 0];
  const code = n !== undefined && /^-?\d+$/.test(n) ? Number(n) : b ? state.lastExit : 0;
  throw new ExitRequest(code);
};

const type: Builtin = async ({ cmd, state, out, err }) => {
  const names = words(cmd.argText);
  if (names.length === 0) {
    await err.write('The syntax of the command is incorrect.\r\n');
    return 1;
  }
  let code = 0;
  for (const name of names) {
    const path = state.files.resolve(name, state.cwd);
    const data = path ? await readFile(path).catch(() => undefined) : undefined;
    if (!data) {
      await err.write(FILE_NOT_FOUND);
      code = 1;
      continue;
    }
    await out.write(data);
  }
  return code;
};

/** A variable's value, its name matched case-insensitively as cmd does. */
export function envGet(env: Readonly<Record<string, string>>, name: string): string | undefined {
  const key = Object.keys(env).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : env[key];
}

/**
 * The /C quote rule's "is the name of an executable file" test, against the file area: the name as typed
 * when its extension is in PATHEXT, else the name with each PATHEXT extension; looked up relative to the
 * current directory and, for a bare name, in each PATH directory (cmd's search order).
 */
export async function isExecutableFile(name: string, state: LineState): Promise<boolean> {
  const exts = (envGet(state.env, 'PATHEXT') ?? '.COM;.EXE;.BAT;.CMD')
    .split(';')
    .filter((e) => e !== '')
    .map((e) => e.toLowerCase());
  const ext = win32.extname(name).toLowerCase();
  const candidates = exts.includes(ext) ? [name] : exts.map((e) => name + e);
  const bare = !/[\\/:]/.test(name);
  const dirs = bare
    ? [state.cwd, ...(envGet(state.env, 'PATH') ?? '').split(';').filter((d) => d !== '')]
    : [state.cwd];
  for (const dir of dirs) {
    for (const c of candidates) {
      const path = state.files.resolve(c, dir);
      if (path && (await stat(path).catch(() => undefined))?.isFile()) return true;
    }
  }
  return false;
}

const cmdExe: Builtin = async (io) => {
  const m = /^((?:\/[a-z](?::\w*)?\s*)*?)\/([ck])([\s\S]*)$/i.exec(io.cmd.argText.replace(/^\s+/, ''));
  if (!m) {
    // Interactive cmd is not emulated: it reads stdin to the end and exits.
    for await (const _ of io.stdin) {
    }
    return 0;
  }
  // A new cmd.exe process: its own copy of the environment, ERRORLEVEL 0.
  const nested: LineState = { ...io.state, env: { ...io.state.env }, lastExit: 0 };
  const rest = await applySlashCQuotes(m[3]!, {
    slashS: /\/s(?![:\w])/i.test(m[1]!),
    isExecutable: (name) => isExecutableFile(name, nested),
  });
  try {
    return await io.runLine(rest, io.ctx, nested, io.stdin, io.out, io.err);
  } catch (e) {
    if (e instanceof ExitRequest) return e.code;
    throw e;
  }
};

const set: Builtin = async ({ cmd, state, out, err }) => {
  const text = cmd.argText.trim();
  const eq = text.indexOf('=');
  if (text === '') {
    const lines = Object.entries(state.env)
      .sort(([a], [b]) => a.toLowerCase().localeCompare(b.toLowerCase()))
      .map(([k, v]) => `${k}=${v}\r\n`);
    await out.write(lines.join(''));
    return 0;
  }
  if (eq > 0) {
    const name = text.slice(0, eq);
    const existing = Object.keys(state.env).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
    const value = text.slice(eq + 1);
    if (value === '') delete state.env[existing];
    else state.env[existing] = value;
    return 0;
  }
  const hits = Object.entries(state.env).filter(([k]) => k.toLowerCase().startsWith(text.toLowerCase()));
  if (hits.length === 0) {
    await err.write(`Environment variable ${text} not defined\r\n`);
    return 1;
  }
  await out.write(hits.map(([k, v]) => `${k}=${v}\r\n`).join(''));
  return 0;
};

const cd: Builtin = async ({ cmd, state, out, err }) => {
  const target = cmd.argText
    .trim()
    .replace(/^\/d\s+/i, '')
    .replace(/^"|"$/g, '');
  if (target === '') {
    await out.write(`${state.cwd}\r\n`);
    return 0;
  }
  const path = state.files.resolve(target, state.cwd);
  const s = path ? await stat(path).catch(() => undefined) : undefined;
  if (!s?.isDirectory()) {
    await err.write(PATH_NOT_FOUND);
    return 1;
  }
  state.cwd = win32.resolve(state.cwd, target);
  return 0;
};

const md: Builtin = async ({ cmd, state, err }) => {
  let code = 0;
  for (const name of words(cmd.argText)) {
    const path = state.files.resolve(name, state.cwd);
    if (!path) {
      await err.write('The filename, directory name, or volume label syntax is incorrect.\r\n');
      code = 1;
      continue;
    }
    if (await stat(path).catch(() => undefined)) {
      await err.write(`A subdirectory or file ${name} already exists.\r\n`);
      code = 1;
      continue;
    }
    await mkdir(path, { recursive: true });
  }
  return code;
};

const del: Builtin = async ({ cmd, state, err }) => {
  for (const name of words(cmd.argText).filter((w) => !w.startsWith('/'))) {
    const path = state.files.resolve(name, state.cwd);
    const s = path ? await stat(path).catch(() => undefined) : undefined;
    if (!path || !s?.isFile()) {
      await err.write(`Could Not Find ${win32.resolve(state.cwd, name)}\r\n`);
      continue;
    }
    await rm(path);
  }
  return 0;
};

/** powershell.exe: only winrm-connection's transfer scripts are emulated (src/mock/transfer/powershell.ts). */
const powershell: Builtin = ({ cmd, ctx, state, stdin, out, err }) =>
  runPowerShell(
    { args: words(cmd.argText), stdin, out, err, files: state.files, cwd: state.cwd, signal: ctx.signal },
    state.powershell,
  );

const mockOutput: Builtin = async ({ cmd, ctx, out, err }) => {
  const [n, stream] = words(cmd.argText);
  let left = Number(n);
  if (!Number.isSafeInteger(left) || left < 0) {
    await err.write('mock-output: BYTES must be a non-negative integer\r\n');
    return 1;
  }
  const sink = stream?.toLowerCase() === 'stderr' ? err : out;
  while (left > 0 && !ctx.signal.aborted) {
    const take = Math.min(left, PATTERN.length);
    // A copy: queued chunks must not alias the shared pattern buffer.
    await sink.write(Buffer.from(PATTERN.subarray(0, take)));
    left -= take;
  }
  return 0;
};

const mockSleep: Builtin = async ({ cmd, ctx }) => {
  const ms = Number(words(cmd.argText)[0] ?? 0);
  await sleep(Number.isFinite(ms) ? ms : 0, undefined, { signal: ctx.signal });
  return 0;
};

const mockCat: Builtin = async ({ stdin, out }) => {
  for await (const chunk of stdin) await out.write(chunk as Buffer);
  return 0;
};

const mockArgv: Builtin = async ({ cmd, out }) => {
  await out.write(
    msvcrtArgs(cmd.argText)
      .map((a) => `${a}\r\n`)
      .join(''),
  );
  return 0;
};

const mockMemory: Builtin = async ({ cmd, ctx }) => {
  ctx.reportMemory(Number(words(cmd.argText)[0] ?? 0));
  if (ctx.signal.aborted) throw ctx.signal.reason;
  return 0;
};

export const BUILTIN_COMMANDS: Readonly<Record<string, Builtin>> = {
  echo,
  'echo.': echo,
  hostname: async ({ ctx, out }) => {
    await out.write(`${ctx.shell.machine}\r\n`);
    return 0;
  },
  whoami: async ({ ctx, out }) => {
    const account = `${ctx.shell.domain}\\${ctx.shell.user}`.toLowerCase();
    await out.write(`${account}\r\n`);
    return 0;
  },
  ver: async ({ state, out }) => {
    await out.write(`\r\nMicrosoft Windows [Version ${state.version}]\r\n`);
    return 0;
  },
  exit,
  type,
  cmd: cmdExe,
  set,
  cd,
  chdir: cd,
  md,
  mkdir: md,
  del,
  erase: del,
  powershell,
  'mock-output': mockOutput,
  'mock-sleep': mockSleep,
  'mock-cat': mockCat,
  'mock-memory': mockMemory,
  'mock-argv': mockArgv,
};
