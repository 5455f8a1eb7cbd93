/**
 * `winrm-connection mock`: run the mock endpoint from the command line. Prints the endpoint URL on the first
 * line (then `sha1 THUMBPRINT` and `sha256 THUMBPRINT` with --https), serves until SIGINT or SIGTERM (or until
 * `io.signal` aborts), and returns 0 after a clean shutdown. Usage errors return 2.
 */
import { parseArgs } from 'node:util';
import { MOCK_DEFAULTS, type MockServerOptions, type MockUser, normalizeMockUser } from './options.ts';
import { startMockServer } from './server.ts';

export interface MockCliIo {
  /** Default: process.stdout. */
  stdout?: NodeJS.WritableStream;
  /** Default: process.stderr. */
  stderr?: NodeJS.WritableStream;
  /** Stops the server like SIGINT does (for embedding and tests). Default: none. */
  signal?: AbortSignal;
}

export const MOCK_USAGE = `Usage: winrm-connection mock [flags]
  --port N                 TCP port (0 picks a free one; default 0)
  --listen ADDRESS         listen address (default 127.0.0.1)
  --https                  serve HTTPS with a generated self-signed certificate
  --user NAME:PASSWORD     accepted account: NAME, .\\NAME, DOMAIN\\NAME or NAME@FULL.DOMAIN (repeatable; default vagrant:vagrant)
  --auth SCHEMES           offered schemes, comma-separated: basic, ntlm (Negotiate/NTLM with encryption),
                           kerberos (Kerberos and Kerberos inside Negotiate; needs --keytab) (default: none)
  --keytab FILE            service keys for kerberos (MIT keytab with WSMAN/<host> or HTTP/<host>)
  --allow-unencrypted      accept unencrypted messages over HTTP (needed for Basic over HTTP)
  --host builtins|local    command host: cmd.exe emulation, or /bin/sh -c on this machine (default builtins)
  --machine-name NAME      machine name (default WIN-MOCK)
  --path PATH              endpoint path (default /wsman)`;

class UsageError extends Error {}

function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  return new Promise((resolve) => stream.write(text, () => resolve()));
}

export function parseMockArgs(argv: string[]): MockServerOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      listen: { type: 'string' },
      https: { type: 'boolean' },
      user: { type: 'string', multiple: true },
      auth: { type: 'string' },
      'allow-unencrypted': { type: 'boolean' },
      host: { type: 'string' },
      'machine-name': { type: 'string' },
      path: { type: 'string' },
      keytab: { type: 'string' },
    },
  });
  const options: MockServerOptions = {};
  if (values.port !== undefined) {
    if (!/^\d+$/.test(values.port)) throw new UsageError(`--port must be a number, got "${values.port}"`);
    options.port = Number(values.port);
  }
  if (values.listen) options.host = values.listen;
  if (values.https) options.https = true;
  if (values.user) {
    options.users = values.user.map((u): MockUser => {
      const i = u.indexOf(':');
      if (i <= 0) throw new UsageError(`--user must be NAME:PASSWORD, got "${u.split(':')[0]}..."`);
      // CORP\alice and alice@corp.example become users of domain CORP (the shared account parser).
      try {
        const machine = values['machine-name'] || MOCK_DEFAULTS.machineName;
        const user = normalizeMockUser({ name: u.slice(0, i), password: u.slice(i + 1) }, machine);
        // A local account keeps the default domain (the machine name, filled in when options are resolved).
        return user.domain === machine ? { name: user.name, password: user.password } : user;
      } catch (e) {
        throw new UsageError(`--user: ${(e as Error).message}`);
      }
    });
  }
  if (values.auth !== undefined) {
    const schemes = values.auth
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean);
    for (const s of schemes) {
      if (s !== 'basic' && s !== 'ntlm' && s !== 'negotiate' && s !== 'kerberos') {
        throw new UsageError(`--auth: unknown scheme "${s}" (known: basic, ntlm, kerberos)`);
      }
    }
    const kerberos = schemes.includes('kerberos');
    if (kerberos && values.keytab === undefined) {
      throw new UsageError(
        '--auth kerberos needs --keytab FILE (the service keys of WSMAN/<host> or HTTP/<host>)',
      );
    }
    options.auth = {
      basic: schemes.includes('basic'),
      // Windows offers Kerberos inside Negotiate as well as alone (winrm/config/service/Auth: Kerberos, Negotiate).
      negotiate: schemes.includes('ntlm') || schemes.includes('negotiate') || kerberos,
      ...(kerberos ? { kerberos: { keytab: values.keytab as string } } : {}),
    };
  }
  if (values.keytab !== undefined && !options.auth?.kerberos) {
    throw new UsageError('--keytab is used only with --auth kerberos');
  }
  if (values['allow-unencrypted']) options.allowUnencrypted = true;
  if (values.host !== undefined) {
    if (values.host !== 'builtins' && values.host !== 'local') {
      throw new UsageError(`--host must be builtins or local, got "${values.host}"`);
    }
    options.commandHost = values.host;
  }
  if (values['machine-name']) options.machineName = values['machine-name'];
  if (values.path) options.path = values.path;
  return options;
}

export async function runMockCli(argv: string[], io: MockCliIo = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  if (argv.includes('--help') || argv.includes('-h')) {
    await write(stdout, `${MOCK_USAGE}\n`);
    return 0;
  }
  let options: MockServerOptions;
  try {
    options = parseMockArgs(argv);
  } catch (e) {
    await write(stderr, `winrm-connection mock: ${(e as Error).message}\n${MOCK_USAGE}\n`);
    return 2;
  }
  let server: Awaited<ReturnType<typeof startMockServer>>;
  try {
    server = await startMockServer(options);
  } catch (e) {
    // A bad option value (an unreadable keytab, a port in use) is the user's to fix: say it, exit 2.
    await write(stderr, `winrm-connection mock: ${(e as Error).message}\n`);
    return 2;
  }
  let lines = `${server.url}\n`;
  if (server.thumbprints) lines += `sha1 ${server.thumbprints.sha1}\nsha256 ${server.thumbprints.sha256}\n`;
  await write(stdout, lines);
  if (!options.auth?.basic && !options.auth?.negotiate) {
    await write(
      stderr,
      'winrm-connection mock: no authentication scheme enabled; use --auth basic or --auth ntlm\n',
    );
  }
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      io.signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (io.signal?.aborted) stop();
    io.signal?.addEventListener('abort', stop, { once: true });
  });
  await server.close();
  return 0;
}
