/**
 * `scripted`: commands answered by your handlers. A rule matches the command line (rsp:Command and the
 * rsp:Arguments joined by single spaces) by exact text, regular expression or predicate; the first match runs.
 */
import { setTimeout as sleep } from 'node:timers/promises';
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

export interface ScriptedHostOptions {
  /**
   * Runs commands no rule matches. Default: cmd.exe's answer for an unknown command
   * ("'x' is not recognized as an internal or external command, ..." on stderr, exit code 1).
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

const unknownCommand: CommandHost = {
  async run(ctx) {
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
  const fallback = options.fallback ?? unknownCommand;
  return {
    async run(ctx) {
      for (const rule of list) {
        const m = matches(rule, ctx);
        if (m === false) continue;
        const handler = typeof rule.reply === 'function' ? rule.reply : canned(rule.reply);
        const sctx: ScriptedContext = {
          ...ctx,
          match: m === true ? undefined : m,
          sleep: (ms) => sleep(ms, undefined, { signal: ctx.signal }),
          readStdin: async () => {
            const chunks: Buffer[] = [];
            for await (const c of ctx.stdin) chunks.push(c as Buffer);
            return Buffer.concat(chunks);
          },
        };
        return (await handler(sctx)) ?? 0;
      }
      return fallback.run(ctx);
    },
    close: () => fallback.close?.(),
  };
}
