#!/usr/bin/env node
/**
 * The `winrs-emulator` command: winrs.exe's syntax, spoken to a WinRM endpoint by this library. Ctrl-C and
 * SIGTERM are caught before the library loads and for the whole run (the handlers are never removed, so no
 * signal finds the default action in between); one that comes early is delivered once the command runs.
 */
type Sig = 'SIGINT' | 'SIGTERM';
const early: Sig[] = [];
let sink: (signal: Sig) => void = (signal) => early.push(signal);
process.on('SIGINT', () => sink('SIGINT'));
process.on('SIGTERM', () => sink('SIGTERM'));
// Tell the local runner the handlers are set (it holds kill() back until then, see runners/local.ts).
const statusFd = Number(process.env.WINRS_EMULATOR_STATUS_FD);
if (Number.isInteger(statusFd) && statusFd > 2) {
  void import('node:fs').then(({ writeSync }) => {
    try {
      writeSync(statusFd, 'ready\n');
    } catch {
      // no such descriptor
    }
  });
}
void import('./index.ts').then(({ main }) =>
  main((handler) => {
    for (const signal of early.splice(0)) handler(signal);
    sink = handler;
    return () => {
      sink = () => undefined;
    };
  }),
);
