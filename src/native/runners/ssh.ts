/**
 * The `ssh` winrs runner: winrs runs on a "winrs proxy", a Windows host running OpenSSH, reached with the `ssh2`
 * package (loaded on first use, so a program that never uses this runner never loads it). One SSH connection
 * serves every process of one winrs-native connection; each spawn is one `exec` channel (RFC 4254 6.5) whose
 * command string the proxy's shell splits: cmd.exe for Windows OpenSSH's default shell, PowerShell when the proxy's
 * `DefaultShell` is powershell.exe, a POSIX shell for OpenSSH on Linux (the tests). Each argv element is quoted for
 * that shell by src/cmdline.ts and nowhere else.
 *
 * Host keys are pinned by SHA-256 fingerprint, written as `ssh-keygen -l` prints it (`SHA256:` and the unpadded
 * base64 of the SHA-256 of the key blob, RFC 4253 6.6); accepting any key is an opt-in whose name says it is
 * insecure.
 *
 * kill: a `signal` channel request (RFC 4254 6.9) for INT, then, when the process has not ended within
 * `killGraceMs`, KILL and a channel close. OpenSSH's sshd (7.9 and later) delivers INT and KILL to the session's
 * process group; Windows OpenSSH has no POSIX signals (inferred: the Win32 port does not act on `signal`
 * requests), so there the close is what ends the session: winrs.exe loses its console pipes without sending the
 * target a ctrl_c, and the target's shell stays until the target's IdleTimeout. See docs/native.md, "Proxies".
 *
 * Secrets: the SSH password and key passphrase are held as {@link Secret}s; the command string (which carries the
 * winrs `-p:` password) only travels inside the encrypted channel and is never logged or put into an error.
 */
import { createHash } from 'node:crypto';
import { PassThrough, type Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { inspect } from 'node:util';
import type { Client, ClientChannel, ConnectConfig } from 'ssh2';
import { argvToCmdLine, argvToPosixLine, argvToPowerShellLine } from '../../cmdline.ts';
import { REDACTED, Secret } from '../../debug.ts';
import {
  AbortError,
  AuthenticationError,
  ConnectionError,
  InvalidArgumentError,
  redactError,
  TimeoutError,
  type WinRmError,
} from '../../errors.ts';
import { importLazily } from '../../lazy-import.ts';
import {
  killOnAbort,
  type WinrsChild,
  type WinrsExit,
  type WinrsKillSignal,
  type WinrsRunner,
  type WinrsRunnerFactory,
  type WinrsSpawnOptions,
} from '../runner.ts';

/** Which shell on the proxy splits the exec request's command string. */
export type RemoteShell = 'cmd' | 'powershell' | 'posix';

/** Default SSH handshake and authentication deadline (ms). */
export const DEFAULT_SSH_CONNECT_TIMEOUT_MS = 20_000;
/** Default wait after the INT signal before KILL and the channel close (ms). */
export const DEFAULT_SSH_KILL_GRACE_MS = 2_000;
/** Default interval of SSH keepalive requests (ms). */
export const DEFAULT_SSH_KEEPALIVE_INTERVAL_MS = 15_000;

export interface SshRunnerOptions {
  /** The winrs proxy's host name or address. Required. */
  host: string;
  /** SSH port. Default: 22. */
  port?: number;
  /** Account on the proxy. Required. */
  username: string;
  /** Private key (OpenSSH or PEM text, or its bytes) for public-key authentication. Default: none. */
  privateKey?: string | Buffer;
  /** Passphrase of an encrypted `privateKey`. Default: none. Never logged. */
  passphrase?: string | Secret;
  /** Password for password authentication. Default: none. Never logged. */
  password?: string | Secret;
  /**
   * An SSH agent: the path of its socket, or true for the socket named by `SSH_AUTH_SOCK`. Default: false (no
   * agent). At least one of privateKey, password and agent is required.
   */
  agent?: string | boolean;
  /**
   * The proxy's host-key fingerprint(s), as `ssh-keygen -l` prints them: `SHA256:` then unpadded base64 (get it
   * with `ssh-keyscan -t ed25519 HOST | ssh-keygen -lf -`). The key the server presents must match one of them.
   * Required unless {@link insecureAcceptAnyHostKey}.
   */
  hostKeyFingerprint?: string | readonly string[];
  /**
   * Accept whatever host key the server presents: anyone between this machine and the proxy can then read the
   * winrs password from the command string. For throw-away test setups only. Default: false.
   */
  insecureAcceptAnyHostKey?: boolean;
  /**
   * The proxy's shell, which splits the command string: 'cmd' (Windows OpenSSH's default shell, cmd.exe /c),
   * 'powershell' (a proxy whose `DefaultShell` is powershell.exe) or 'posix' (OpenSSH on Linux or macOS).
   * Default: 'cmd'.
   */
  remoteShell?: RemoteShell;
  /** Deadline of the SSH handshake and authentication, in ms. Default: 20000. */
  connectTimeout?: number;
  /** After kill()'s INT signal, how long to wait for the process to end before KILL and closing the channel, in ms. Default: 2000. */
  killGraceMs?: number;
  /** Interval of SSH keepalive requests, in ms; 0 turns them off. Default: 15000. */
  keepaliveInterval?: number;
}

/** The server's host key is not the pinned one (or none was pinned and no insecure opt-in was given). */
export class SshHostKeyError extends ConnectionError {
  /** The pinned fingerprints (`SHA256:...`). */
  readonly expected: readonly string[];
  /** The fingerprint of the key the server presented. */
  readonly got: string;

  constructor(host: string, port: number, expected: readonly string[], got: string) {
    const scan = `ssh-keyscan -t ed25519 -p ${port} ${host} | ssh-keygen -lf -`;
    super(
      `The SSH host key of ${host}:${port} is ${got}, expected ${expected.join(' or ')}: the server is not the pinned winrs proxy, or its key changed`,
      {
        host,
        port,
        remedy: `check the key on the proxy itself (ssh-keygen -lf on its host key file), or read it with \`${scan}\` over a network you trust, then set hostKeyFingerprint to that SHA256:... value`,
      },
    );
    this.expected = expected;
    this.got = got;
  }
}

/** `SHA256:` plus unpadded base64 of the SHA-256 of a public key blob, as `ssh-keygen -l` prints it. */
export function sshFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

function normalizeFingerprint(value: unknown): string {
  const m = typeof value === 'string' ? /^SHA256:([A-Za-z0-9+/]{43})=?$/.exec(value.trim()) : null;
  if (!m) {
    throw new InvalidArgumentError(
      `hostKeyFingerprint ${JSON.stringify(value)} is not a SHA-256 fingerprint as ssh-keygen -l prints it (SHA256: and 43 base64 characters)`,
      {
        argument: 'hostKeyFingerprint',
        remedy:
          'get it with `ssh-keyscan -t ed25519 HOST | ssh-keygen -lf -` (MD5 fingerprints are not accepted)',
      },
    );
  }
  return `SHA256:${m[1]}`;
}

function checkMs(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be a number of milliseconds >= 0, got ${value}`, {
      argument: name,
    });
  }
  return value;
}

interface ResolvedSsh {
  host: string;
  port: number;
  username: string;
  privateKey: string | Buffer | undefined;
  passphrase: Secret | undefined;
  password: Secret | undefined;
  agent: string | undefined;
  fingerprints: readonly string[] | undefined;
  remoteShell: RemoteShell;
  connectTimeout: number;
  killGraceMs: number;
  keepaliveInterval: number;
}

function resolve(options: SshRunnerOptions): ResolvedSsh {
  if (!options || typeof options.host !== 'string' || options.host === '') {
    throw new InvalidArgumentError('The ssh runner needs host: the winrs proxy to connect to', {
      argument: 'host',
    });
  }
  if (typeof options.username !== 'string' || options.username === '') {
    throw new InvalidArgumentError('The ssh runner needs username: the account on the winrs proxy', {
      argument: 'username',
    });
  }
  const port = options.port ?? 22;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidArgumentError(`port must be an integer from 1 to 65535, got ${port}`, {
      argument: 'port',
    });
  }
  let agent: string | undefined;
  if (options.agent === true) {
    agent = process.env.SSH_AUTH_SOCK;
    if (!agent) {
      throw new InvalidArgumentError('agent: true, but SSH_AUTH_SOCK is not set', {
        argument: 'agent',
        remedy: 'start ssh-agent (eval $(ssh-agent); ssh-add KEY) or pass the agent socket path',
      });
    }
  } else if (typeof options.agent === 'string' && options.agent !== '') agent = options.agent;
  if (options.privateKey === undefined && options.password === undefined && agent === undefined) {
    throw new InvalidArgumentError(
      'The ssh runner needs a way to authenticate: privateKey, password or agent',
      {
        argument: 'privateKey',
      },
    );
  }
  let fingerprints: readonly string[] | undefined;
  if (options.hostKeyFingerprint !== undefined) {
    const list =
      typeof options.hostKeyFingerprint === 'string'
        ? [options.hostKeyFingerprint]
        : options.hostKeyFingerprint;
    if (list.length === 0) {
      throw new InvalidArgumentError('hostKeyFingerprint is an empty list', {
        argument: 'hostKeyFingerprint',
      });
    }
    fingerprints = list.map(normalizeFingerprint);
  } else if (options.insecureAcceptAnyHostKey !== true) {
    throw new InvalidArgumentError(
      `The ssh runner needs hostKeyFingerprint: without it anyone on the way to ${options.host} could pose as the proxy and read the winrs password`,
      {
        argument: 'hostKeyFingerprint',
        remedy: `pin the proxy's key: \`ssh-keyscan -t ed25519 -p ${port} ${options.host} | ssh-keygen -lf -\` prints the SHA256:... value (or set insecureAcceptAnyHostKey: true for a throw-away test setup)`,
      },
    );
  }
  const remoteShell = options.remoteShell ?? 'cmd';
  if (remoteShell !== 'cmd' && remoteShell !== 'powershell' && remoteShell !== 'posix') {
    throw new InvalidArgumentError(
      `remoteShell must be 'cmd', 'powershell' or 'posix', got ${String(remoteShell)}`,
      {
        argument: 'remoteShell',
      },
    );
  }
  const secret = (v: string | Secret | undefined) =>
    v === undefined || v instanceof Secret ? v : new Secret(v);
  return {
    host: options.host,
    port,
    username: options.username,
    privateKey: options.privateKey,
    passphrase: secret(options.passphrase),
    password: secret(options.password),
    agent,
    fingerprints,
    remoteShell,
    connectTimeout: checkMs('connectTimeout', options.connectTimeout, DEFAULT_SSH_CONNECT_TIMEOUT_MS),
    killGraceMs: checkMs('killGraceMs', options.killGraceMs, DEFAULT_SSH_KILL_GRACE_MS),
    keepaliveInterval: checkMs(
      'keepaliveInterval',
      options.keepaliveInterval,
      DEFAULT_SSH_KEEPALIVE_INTERVAL_MS,
    ),
  };
}

/** The exec request's command string: argv quoted for the proxy's shell (the one place that decides it). */
export function sshCommandString(shell: RemoteShell, program: string, args: readonly string[]): string {
  const argv = [program, ...args];
  if (shell === 'posix') return argvToPosixLine(argv);
  if (shell === 'powershell') return argvToPowerShellLine(argv);
  return argvToCmdLine(argv);
}

type SshModule = typeof import('ssh2');

async function loadSsh2(): Promise<SshModule> {
  try {
    const mod = (await importLazily('ssh2')) as SshModule & { default?: SshModule };
    return mod.Client ? mod : (mod.default as SshModule);
  } catch (cause) {
    throw new ConnectionError('The ssh runner needs the ssh2 package, which could not be loaded', {
      cause,
      remedy: 'npm install ssh2',
    });
  }
}

interface Lifeline {
  client: Client;
  ready: Promise<void>;
  dead: boolean;
}

/**
 * A {@link WinrsRunner} that starts winrs on a proxy over SSH. Construct it with {@link createSshRunner}; the SSH
 * connection is made on the first spawn and made again after it was lost.
 */
export class SshWinrsRunner implements WinrsRunner {
  readonly kind = 'ssh' as const;
  readonly #cfg: ResolvedSsh;
  #line: Lifeline | undefined;
  readonly #children = new Set<SshChild>();
  #closed = false;

  constructor(options: SshRunnerOptions) {
    this.#cfg = resolve(options);
  }

  /** Secrets (SSH password, passphrase) masked in a text: every error leaves through here. */
  #redact = (text: string): string => {
    let out = text;
    for (const s of [this.#cfg.password, this.#cfg.passphrase]) {
      const v = s?.reveal();
      if (v) out = out.split(v).join(REDACTED);
    }
    return out;
  };

  #fail(err: WinRmError): WinRmError {
    return redactError(err, this.#redact);
  }

  async spawn(
    program: string,
    args: readonly string[],
    options: WinrsSpawnOptions = {},
  ): Promise<WinrsChild> {
    if (this.#closed) throw new ConnectionError('The ssh runner is closed');
    if (options.signal?.aborted) throw new AbortError('The winrs process was aborted before it started');
    const command = sshCommandString(this.#cfg.remoteShell, program, args);
    const line = await this.#connection();
    const channel = await new Promise<ClientChannel>((ok, ko) => {
      try {
        line.client.exec(command, (err, ch) => {
          if (err) {
            ko(
              this.#fail(
                new ConnectionError(
                  `The winrs proxy ${this.#cfg.host}:${this.#cfg.port} refused a new SSH session channel (${err.message})`,
                  {
                    cause: err,
                    host: this.#cfg.host,
                    port: this.#cfg.port,
                    remedy:
                      "OpenSSH limits open sessions per connection with MaxSessions (default 10): run fewer processes at once, or raise MaxSessions in the proxy's sshd_config",
                  },
                ),
              ),
            );
          } else ok(ch);
        });
      } catch (cause) {
        ko(this.#fail(new ConnectionError('The SSH connection to the winrs proxy is gone', { cause })));
      }
    });
    const child = new SshChild(channel, this.#cfg.killGraceMs);
    this.#children.add(child);
    const forget = () => this.#children.delete(child);
    child.exited.then(forget, forget);
    killOnAbort(child, options.signal);
    return child;
  }

  /** Open the SSH connection now (host key and login checked); spawn() does it when needed. */
  async connect(): Promise<void> {
    if (this.#closed) throw new ConnectionError('The ssh runner is closed');
    await this.#connection();
  }

  /** The live SSH connection, made when there is none; concurrent spawns share one attempt. */
  async #connection(): Promise<Lifeline> {
    if (this.#line && !this.#line.dead) {
      await this.#line.ready;
      return this.#line;
    }
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  #connecting: Promise<Lifeline> | undefined;

  async #connect(): Promise<Lifeline> {
    const ssh2 = await loadSsh2();
    if (this.#closed) throw new ConnectionError('The ssh runner is closed');
    const cfg = this.#cfg;
    const client = new ssh2.Client();
    let presented: string | undefined;
    const config: ConnectConfig = {
      host: cfg.host,
      port: cfg.port,
      username: cfg.username,
      readyTimeout: cfg.connectTimeout,
      keepaliveInterval: cfg.keepaliveInterval,
      hostVerifier: (key: Buffer) => {
        presented = sshFingerprint(key);
        return cfg.fingerprints === undefined || cfg.fingerprints.includes(presented);
      },
    };
    if (cfg.privateKey !== undefined) config.privateKey = cfg.privateKey;
    if (cfg.passphrase) config.passphrase = cfg.passphrase.reveal();
    if (cfg.password) config.password = cfg.password.reveal();
    if (cfg.agent) config.agent = cfg.agent;
    const line: Lifeline = { client, dead: false, ready: Promise.resolve() };
    line.ready = new Promise<void>((ok, ko) => {
      let isReady = false;
      client.once('ready', () => {
        isReady = true;
        ok();
      });
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        line.dead = true;
        if (!isReady) ko(this.#fail(this.#connectError(err, presented)));
      });
      client.on('close', () => {
        line.dead = true;
        if (!isReady) {
          ko(
            this.#fail(
              new ConnectionError(
                `The winrs proxy ${cfg.host}:${cfg.port} closed the SSH connection during the handshake`,
                {
                  host: cfg.host,
                  port: cfg.port,
                },
              ),
            ),
          );
        }
      });
    });
    this.#line = line;
    try {
      client.connect(config);
    } catch (cause) {
      // ssh2 parses the private key synchronously: a bad key or passphrase is the caller's input.
      line.dead = true;
      this.#line = undefined;
      const text = cause instanceof Error ? cause.message : String(cause);
      throw this.#fail(
        new InvalidArgumentError(`The SSH private key cannot be used: ${text}`, {
          cause,
          argument: /passphrase/i.test(text) ? 'passphrase' : 'privateKey',
          remedy: 'pass the private key in OpenSSH or PEM form, with its passphrase when it is encrypted',
        }),
      );
    }
    try {
      await line.ready;
    } catch (err) {
      if (this.#line === line) this.#line = undefined;
      client.destroy();
      throw err;
    }
    return line;
  }

  #connectError(err: Error & { level?: string; code?: string }, presented: string | undefined): WinRmError {
    const { host, port, username, fingerprints } = this.#cfg;
    if (fingerprints && presented && !fingerprints.includes(presented)) {
      return new SshHostKeyError(host, port, fingerprints, presented);
    }
    if (err.level === 'client-authentication') {
      const methods = [
        this.#cfg.privateKey !== undefined ? 'publickey' : '',
        this.#cfg.password ? 'password' : '',
        this.#cfg.agent ? 'agent' : '',
      ].filter(Boolean);
      return new AuthenticationError(
        `The winrs proxy ${host}:${port} refused SSH authentication of ${username} (tried: ${methods.join(', ')})`,
        {
          cause: err,
          remedy: `put the public key of privateKey into ${username}'s authorized_keys on the proxy (for an administrator on Windows OpenSSH: C:\\ProgramData\\ssh\\administrators_authorized_keys), or check the password and that the proxy allows PasswordAuthentication`,
        },
      );
    }
    if (err.level === 'client-timeout') {
      return new TimeoutError(
        `The SSH handshake with the winrs proxy ${host}:${port} did not finish within ${this.#cfg.connectTimeout} ms`,
        {
          cause: err,
          timeoutMs: this.#cfg.connectTimeout,
          remedy: 'check that an SSH server listens there, or raise connectTimeout',
        },
      );
    }
    return new ConnectionError(`Cannot reach the winrs proxy ${host}:${port} over SSH: ${err.message}`, {
      cause: err,
      host,
      port,
      syscallCode: err.code,
      remedy: 'check host and port, and that the proxy runs an OpenSSH server (sshd)',
    });
  }

  async close(): Promise<void> {
    if (this.#closed && !this.#line) return;
    this.#closed = true;
    await Promise.all([...this.#children].map((c) => c.kill()));
    const line = this.#line;
    this.#line = undefined;
    if (!line || line.dead) {
      line?.client.destroy();
      return;
    }
    await new Promise<void>((ok) => {
      const timer = setTimeout(() => {
        line.client.destroy();
        ok();
      }, this.#cfg.connectTimeout);
      line.client.once('close', () => {
        clearTimeout(timer);
        ok();
      });
      line.client.end();
    });
  }

  destroy(): void {
    this.#closed = true;
    const line = this.#line;
    this.#line = undefined;
    if (line) {
      line.dead = true;
      line.client.destroy();
    }
  }

  /** `util.inspect` / `console.log`: where it connects and how it authenticates, never a secret. */
  [inspect.custom](): string {
    const c = this.#cfg;
    const auth = [
      c.privateKey !== undefined ? 'key' : '',
      c.password ? 'password' : '',
      c.agent ? 'agent' : '',
    ]
      .filter(Boolean)
      .join('+');
    return `SshWinrsRunner { ${c.username}@${c.host}:${c.port}, auth: ${auth}, shell: ${c.remoteShell}, hostKey: ${c.fingerprints ? c.fingerprints.join(' | ') : 'ANY (insecure)'} }`;
  }

  toJSON(): Record<string, unknown> {
    return { kind: this.kind, host: this.#cfg.host, port: this.#cfg.port, username: this.#cfg.username };
  }
}

/** ssh2 internals {@link sendSignal} reaches for; checked at run time, so a changed ssh2 falls back to its API. */
interface ChannelInternals {
  type?: string;
  outgoing?: { id?: number; state?: string };
  _client?: { _protocol?: { signal?: (id: number, name: string) => void } };
}

/**
 * Send a `signal` channel request. ssh2 1.x's `channel.signal()` silently sends nothing once the channel's
 * writable side ended (stdin closed), which is exactly when a kill is needed (a command reading no stdin), so
 * the request goes out through ssh2's protocol object while the channel is open; RFC 4254 6.9 allows a signal
 * request at any time before the channel closes.
 */
function sendSignal(channel: ClientChannel, name: string): void {
  const c = channel as unknown as ChannelInternals;
  const protocol = c._client?._protocol;
  if (
    c.type === 'session' &&
    c.outgoing?.state === 'open' &&
    typeof c.outgoing.id === 'number' &&
    protocol?.signal
  ) {
    protocol.signal(c.outgoing.id, name);
  } else channel.signal(name);
}

/** One winrs process on the proxy: one SSH exec channel. */
class SshChild implements WinrsChild {
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly exited: Promise<WinrsExit>;
  readonly #channel: ClientChannel;
  readonly #graceMs: number;
  #closed = false;
  readonly #closedP: Promise<void>;
  #killing: Promise<void> | undefined;
  #killed = false;
  #abandon: () => void = () => undefined;

  constructor(channel: ClientChannel, graceMs: number) {
    this.#channel = channel;
    this.#graceMs = graceMs;
    this.stdin = new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        if (this.#closed) {
          cb(new ConnectionError('The winrs process on the proxy has ended: its stdin is closed'));
          return;
        }
        channel.write(chunk, (err?: Error | null) => cb(err ?? null));
      },
      final: (cb) => {
        if (!this.#closed) channel.end();
        cb();
      },
    });
    const out = new PassThrough();
    const err = new PassThrough();
    channel.pipe(out);
    channel.stderr.pipe(err);
    this.stdout = out;
    this.stderr = err;
    let status: WinrsExit | undefined;
    channel.on('exit', (code: number | null, signal?: string) => {
      status =
        typeof code === 'number'
          ? { code, signal: null }
          : { code: null, signal: signal ? (signal.startsWith('SIG') ? signal : `SIG${signal}`) : null };
    });
    // An error on the channel ends in its close; the missing exit status then tells the caller it was lost.
    channel.on('error', () => undefined);
    // A channel closed without EOF (killed, destroyed, connection lost) never ends its readable sides: no more
    // data can come once it is closed, so end them here; what was received still reaches the reader first.
    const endAfterClose = (src: Readable, dst: PassThrough) => {
      if (src.readableEnded || dst.writableEnded) return;
      if (src.destroyed) {
        src.unpipe(dst);
        dst.end();
      } else src.push(null);
    };
    this.#closedP = new Promise<void>((ok) => {
      const end = () => {
        if (this.#closed) return;
        this.#closed = true;
        endAfterClose(channel, out);
        endAfterClose(channel.stderr, err);
        ok();
      };
      channel.once('close', end);
      this.#abandon = () => {
        // The server neither delivered the signals nor closed the channel (see #kill): stop listening to it.
        channel.unpipe(out);
        channel.stderr.unpipe(err);
        out.end();
        err.end();
        end();
      };
    });
    // Settled once everything the channel carried is in `stdout`/`stderr` (their writable sides finished), not
    // once a reader consumed it: a caller that never reads stderr still learns the exit status.
    const drained = (s: PassThrough) => finished(s, { readable: false }).catch(() => undefined);
    this.exited = this.#closedP.then(async () => {
      await Promise.all([drained(out), drained(err)]);
      if (status) return status;
      // Killed, and the server closed the channel without an exit status, or never closed it (abandoned): the
      // runner cannot tell how, or whether, the process ended on the proxy.
      if (this.#killed) return { code: null, signal: null };
      throw new ConnectionError(
        'The SSH channel of the winrs process closed without an exit status: the connection to the winrs proxy was lost',
        {
          remedy: 'check the network to the proxy and its sshd log; the command may still run on the target',
        },
      );
    });
  }

  /**
   * 'ctrl_c': an INT signal request, nothing more (winrs.exe forwards a Ctrl-C to its target). 'terminate' (the
   * default): INT, then after the grace period KILL and a channel close (see the module comment). Idempotent.
   */
  kill(signal: WinrsKillSignal = 'terminate'): Promise<void> {
    if (signal === 'ctrl_c') {
      if (!this.#closed) this.#send('INT');
      return Promise.resolve();
    }
    this.#killing ??= this.#kill();
    return this.#killing;
  }

  #send(name: string): void {
    try {
      sendSignal(this.#channel, name);
    } catch {
      // The channel closed meanwhile.
    }
  }

  async #kill(): Promise<void> {
    if (this.#closed) return;
    this.#killed = true;
    const send = (name: string) => this.#send(name);
    send('INT');
    if (await this.#closedWithin(this.#graceMs)) return;
    send('KILL');
    try {
      this.#channel.close();
    } catch {
      // Already closing.
    }
    // OpenSSH keeps a session channel until its process ends (session_close_by_channel waits for the child), and
    // refuses signals in sessions without privilege separation (root logins), as Windows OpenSSH has none at
    // all: after a second grace period the process is left to end by itself and this side stops waiting.
    if (!(await this.#closedWithin(this.#graceMs))) this.#abandon();
  }

  async #closedWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<boolean>((ok) => {
      timer = setTimeout(() => ok(false), ms);
    });
    const r = await Promise.race([this.#closedP.then(() => true), t]);
    clearTimeout(timer);
    return r;
  }
}

/** An SSH winrs runner; options are checked at once (host-key pin, authentication, shell). */
export function createSshRunner(options: SshRunnerOptions): SshWinrsRunner {
  return new SshWinrsRunner(options);
}

const SSH_PROXY_OPTIONS = [
  'host',
  'address',
  'port',
  'username',
  'privateKey',
  'privateKeyFile',
  'passphrase',
  'password',
  'agent',
  'hostKeyFingerprint',
  'insecureAcceptAnyHostKey',
  'remoteShell',
  'connectTimeout',
  'killGraceMs',
  'keepaliveInterval',
] as const;

/**
 * The runner of `winrsProxyProtocol: 'ssh'`: `winrsProxyConnectionOptions` are {@link SshRunnerOptions}, plus
 * Overthere's SSH names `address` (for host) and `privateKeyFile` (a key file's path). `connectTimeout` defaults
 * to the connection's connectTimeout. It connects (and checks the host key and the login) before connect()
 * resolves; the SSH password and passphrase are registered as secrets of the connection's log.
 */
export const sshRunnerFactory: WinrsRunnerFactory = async (proxyOptions, context) => {
  const o: Record<string, unknown> = { ...proxyOptions };
  for (const key of Object.keys(o)) {
    if (!(SSH_PROXY_OPTIONS as readonly string[]).includes(key)) {
      throw new InvalidArgumentError(
        `winrsProxyConnectionOptions.${key} is not an option of the ssh winrs runner (known: ${SSH_PROXY_OPTIONS.join(', ')})`,
        { argument: `winrsProxyConnectionOptions.${key}` },
      );
    }
  }
  if (o.host === undefined && o.address !== undefined) o.host = o.address;
  delete o.address;
  if (typeof o.privateKeyFile === 'string' && o.privateKey === undefined) {
    const { readFile } = await import('node:fs/promises');
    try {
      o.privateKey = await readFile(o.privateKeyFile);
    } catch (cause) {
      throw new InvalidArgumentError(`Cannot read privateKeyFile ${o.privateKeyFile}`, {
        cause,
        argument: 'winrsProxyConnectionOptions.privateKeyFile',
      });
    }
  }
  delete o.privateKeyFile;
  o.connectTimeout ??= context.connectTimeoutMs;
  const options = o as unknown as SshRunnerOptions;
  context.debug.addSecret(options.password);
  context.debug.addSecret(options.passphrase);
  const runner = new SshWinrsRunner(options);
  await runner.connect();
  return runner;
};
