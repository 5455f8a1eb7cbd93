/**
 * The remote commands the connection contract runs, as scripted handlers for the mock. Each emulates a small
 * program with a precise, checkable behaviour; anything else falls through to the mock's cmd.exe builtins.
 */
import { createHash } from 'node:crypto';
import type { ScriptedRule } from '../../src/mock/hosts/scripted.ts';

/** What handlers observed, for assertions (signals received, stdin sizes). */
export interface Observations {
  signals: string[];
  stdinSha256: string[];
}

export const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
export const UNICODE_TEXT = 'héllo wörld ½ ░\r\n';

export function contractRules(seen: Observations): ScriptedRule[] {
  return [
    {
      // stdout: every byte value; stderr: CRLF text. Byte-exactness and stream separation.
      match: 'contract-binary',
      reply: async (c) => {
        await c.stdout.write(ALL_BYTES);
        await c.stderr.write(Buffer.from('line one\r\nline two\r\n'));
        return 0;
      },
    },
    {
      // Text written through the shell's code page: 65001 and 437 give different bytes.
      match: 'contract-text',
      reply: async (c) => {
        await c.stdout.write(UNICODE_TEXT);
        return 0;
      },
    },
    {
      // Like `findstr "^"`: copies stdin to stdout, records the SHA-256 it saw.
      match: 'contract-cat',
      reply: async (c) => {
        const h = createHash('sha256');
        for await (const chunk of c.stdin) {
          h.update(chunk as Buffer);
          await c.stdout.write(chunk as Buffer);
        }
        seen.stdinSha256.push(h.digest('hex'));
        return 0;
      },
    },
    {
      // Silent for N ms, then one line: exercises OperationTimeout polling.
      match: /^contract-sleep (\d+)$/,
      reply: async (c) => {
        await c.sleep(Number(c.match![1]));
        await c.stdout.write('awake\r\n');
        return 0;
      },
    },
    {
      // Runs until signalled; records the signal (ctrl_c, terminate...).
      match: 'contract-wait-for-signal',
      reply: async (c) => {
        await c.stdout.write('waiting\r\n');
        await new Promise<void>((resolve) => {
          // A Signal may come before this line runs (while 'waiting' is delivered): an aborted signal fires no event.
          if (c.signal.aborted) resolve();
          else c.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        seen.signals.push(String(c.signal.reason));
        return 0xc000013a;
      },
    },
  ];
}
