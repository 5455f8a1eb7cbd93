/**
 * `scripted`: commands answered by your handlers. A rule matches the command line (rsp:Command and the
 * rsp:Arguments joined by single spaces) by exact text, regular expression or predicate; a `powershell` rule
 * matches the text of a PowerShell script however powershell.exe got it (-EncodedCommand, or stdin as
 * executePowerShell sends it). The first match runs.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  clixmlErrorStream,
  isPowerShellLine,
  powerShellSource,
  scriptFromStdin,
} from './powershell-script.ts';
import type { CommandContext, CommandHost } from './types.ts';

export type CommandMatcher = string | RegExp | ((commandLine: string, ctx: CommandContext) => boolean);

/** What a handler gets: the command context plus the regular expression match, if the rule used one. */
export interface ScriptedContext extends CommandContext {
  match: RegExpExecArray | undefined;
  /** Wait `ms`, rejecting when the command is signalled (ctrl_c, terminate, shell delete). */
  sleep(ms: number): Promise<void>;
  /** Read all of stdin (until a Send with End="true"). */
  readStdin(): Promise<Buffer>;
}

/** Returns the exit code; `undefined` means 0. */
export type ScriptedHandler = (ctx: ScriptedContext) => Promise<number | undefined> | number | undefined;

/** A canned answer, for handlers that need no code. */
export interface CannedReply {
  /** Default: nothing. */
  stdout?: string | Buffer;
  /** Default: nothing. */
  stderr?: string | Buffer;
  /** Default: 0. */
  exitCode?: number;
  /** Wait this long before answering. Default: 0. */
  delayMs?: number;
}

export interface ScriptedRule {
  match: CommandMatcher;
  reply: ScriptedHandler | CannedReply;
}

/** Matches a PowerShell script's text: exact text (leading and trailing whitespace ignored), RegExp, predicate. */
export type PowerShellMatcher = string | RegExp | ((script: string, ctx: CommandContext) => boolean);

/** What a PowerShell handler gets: the scripted context plus the script and an error stream. */
export interface PowerShellContext extends ScriptedContext {
  /** The script text as powershell.exe would run it. */
  script: string;
  /**
   * Write an error record, as Write-Error or an uncaught error would. Records are sent on stderr as one CLIXML
   * document (`#< CLIXML` + <Objs> with `<S S="Error">` lines) when the handler returns, as powershell.exe
   * writes its error stream over WinRS. `ctx.stderr` still writes raw bytes.
   */
  writeError(text: string): void;
}

/** Returns the exit code; `undefined` means 0. */
export type PowerShellHandler = (ctx: PowerShellContext) => Promise<number | undefined> | number | undefined;

/**
 * A rule for PowerShell scripts. A canned reply's `stderr` is sent as CLIXML error records (one per line), as
 * powershell.exe writes them; `exitCode` defaults to 0 as powershell.exe's does after non-terminating errors.
 */
export interface PowerShellRule {
  powershell: PowerShellMatcher;
  reply: PowerShellHandler | CannedReply;
}

export interface ScriptedHostOptions {
  /**
   * Rules for PowerShell scripts, tried (first match wins) before the command-line rules when a command starts
   * powershell.exe with a script: its -EncodedCommand text, or the script it reads from stdin (executePowerShell,
   * `-Command -`). Default: none.
   */
  powershell?: readonly PowerShellRule[];
  /**
   * Runs commands no rule matches. Default: cmd.exe's answer for an unknown command
   * ("'x' is not recognized as an internal or external command, ..." on stderr, exit code 1); for powershell.exe,
   * a message naming the unmatched script (its first line and SHA-256) on stderr, exit code 1.
   */
  fallback?: CommandHost;
}

function matches(rule: ScriptedRule, ctx: CommandContext): RegExpExecArray | boolean {
  const m = rule.match;
  if (typeof m === 'string') return ctx.commandLine === m;
  if (m instanceof RegExp) {
    m.lastIndex = 0;
    return m.exec(ctx.commandLine) ?? false;
  }
  return m(ctx.commandLine, ctx);
}

function canned(reply: CannedReply): ScriptedHandler {
  return async (ctx) => {
    if (reply.delayMs) await ctx.sleep(reply.delayMs);
    if (reply.stdout !== undefined) await ctx.stdout.write(reply.stdout);
    if (reply.stderr !== undefined) await ctx.stderr.write(reply.stderr);
    return reply.exitCode ?? 0;
  };
}

function psMatches(rule: PowerShellRule, script: string, ctx: CommandContext): RegExpExecArray | boolean {
  const m = rule.powershell;
  if (typeof m === 'string') return script.trim() === m.trim();
  if (m instanceof RegExp) {
    m.lastIndex = 0;
    return m.exec(script) ?? false;
  }
  return m(script, ctx);
}

function cannedPowerShell(reply: CannedReply): PowerShellHandler {
  return async (ctx) => {
    if (reply.delayMs) await ctx.sleep(reply.delayMs);
    if (reply.stdout !== undefined) await ctx.stdout.write(reply.stdout);
    if (reply.stderr !== undefined) {
      ctx.writeError(typeof reply.stderr === 'string' ? reply.stderr : reply.stderr.toString('utf8'));
    }
    return reply.exitCode ?? 0;
  };
}

/** All of stdin, or the signal's reason once the command is signalled. */
function readAll(stdin: Readable, signal: AbortSignal): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    stdin.on('data', (c: Buffer) => chunks.push(c));
    stdin.once('end', () => {
      signal.removeEventListener('abort', onAbort);
      resolve(Buffer.concat(chunks));
    });
    stdin.once('error', reject);
  });
}

/** The loud answer for a PowerShell script no rule matches: the mock runs no PowerShell, so nothing is guessed. */
async function unmatchedPowerShell(ctx: CommandContext, script: string | undefined): Promise<number> {
  const first = script === undefined ? '' : (script.trim().split(/\r?\n/)[0] ?? '');
  const shown = first.length > 80 ? `${first.slice(0, 80)}...` : first;
  const what =
    script === undefined
      ? 'this powershell.exe command line'
      : `this PowerShell script (SHA-256 ${createHash('sha256').update(script, 'utf8').digest('hex')}, first line ${JSON.stringify(shown)})`;
  await ctx.stderr.write(
    `mock: no scriptedHost rule matches ${what}. The mock runs no PowerShell: add a { powershell: ..., reply: ... } rule (docs/mock.md).\r\n`,
  );
  return 1;
}

const unknownCommand: CommandHost = {
  async run(ctx) {
    if (isPowerShellLine(ctx.commandLine)) return unmatchedPowerShell(ctx, undefined);
    const name = ctx.command.trim().split(/\s+/)[0] ?? '';
    await ctx.stderr.write(
      `'${name}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n`,
    );
    return 1;
  },
};

/**
 * A host answering from rules. Rules may also be given as a map of exact command lines to handlers or replies.
 * @example scriptedHost([{ match: /^deploy (\S+)$/, reply: async (c) => { await c.stdout.write(`ok ${c.match![1]}\r\n`); return 0; } }])
 */
export function scriptedHost(
  rules: readonly ScriptedRule[] | Readonly<Record<string, ScriptedHandler | CannedReply>>,
  options: ScriptedHostOptions = {},
): CommandHost {
  const list: ScriptedRule[] = Array.isArray(rules)
    ? [...(rules as readonly ScriptedRule[])]
    : Object.entries(rules).map(([match, reply]) => ({ match, reply }));
  const psRules = [...(options.powershell ?? [])];
  const hasPowerShellRules = psRules.length > 0;
  const fallback = options.fallback;
  const scripted = (ctx: CommandContext, m: RegExpExecArray | true): ScriptedContext => ({
    ...ctx,
    match: m === true ? undefined : m,
    sleep: (ms) => sleep(ms, undefined, { signal: ctx.signal }),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of ctx.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
  });
  return {
    async run(original) {
      let ctx = original;
      // The script of a powershell.exe command, read from stdin when it comes that way (only when a rule needs it;
      // stdin is then replayed to whatever runs the command).
      let script: string | undefined;
      const source = hasPowerShellRules ? powerShellSource(ctx.commandLine) : undefined;
      if (source?.via === 'encoded') script = source.script;
      else if (source?.via === 'stdin') {
        const bytes = await readAll(ctx.stdin, ctx.signal);
        script = scriptFromStdin(bytes);
        ctx = { ...ctx, stdin: Readable.from(bytes.length > 0 ? [bytes] : []) };
      }
      if (script !== undefined) {
        const text = script;
        for (const rule of psRules) {
          const m = psMatches(rule, text, ctx);
          if (m === false) continue;
          const handler = typeof rule.reply === 'function' ? rule.reply : cannedPowerShell(rule.reply);
          const errors: string[] = [];
          const pctx: PowerShellContext = {
            ...scripted(ctx, m),
            script: text,
            writeError: (t) => {
              errors.push(t);
            },
          };
          try {
            return (await handler(pctx)) ?? 0;
          } finally {
            if (errors.length > 0 && !ctx.signal.aborted) await ctx.stderr.write(clixmlErrorStream(errors));
          }
        }
      }
      for (const rule of list) {
        const m = matches(rule, ctx);
        if (m === false) continue;
        const handler = typeof rule.reply === 'function' ? rule.reply : canned(rule.reply);
        return (await handler(scripted(ctx, m))) ?? 0;
      }
      if (!fallback && source) return unmatchedPowerShell(ctx, script);
      return (fallback ?? unknownCommand).run(ctx);
    },
    close: () => fallback?.close?.(),
  };
}
