/**
 * A throw-away OpenSSH server for tests: Debian's `/usr/sbin/sshd -D -e -f CONFIG -p PORT` on 127.0.0.1, with a
 * fresh ed25519 host key and user key (ssh-keygen), `AuthorizedKeysFile` a temp file, `StrictModes no`, and a
 * session PATH that starts with a temp `bin` directory holding the shims a test asks for (a `winrs` that runs the
 * emulator, for instance). It runs as the current user; when that is root, `PermitRootLogin yes` is set for this
 * instance only. Everything (the process, the temp directory) is removed by `close()`, which tests call in
 * `after`/`finally`, and on process exit as a last resort.
 *
 * Outside CI a machine without sshd or ssh-keygen skips the tests with a loud message (see {@link sshdSkip});
 * with CI=true it fails, since CI installs openssh-server.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';
const KEYGEN = 'ssh-keygen';

function probe(): string | undefined {
  if (!existsSync(SSHD)) return `${SSHD} is missing (apt-get install -y openssh-server)`;
  const k = spawnSync(KEYGEN, ['-?'], { encoding: 'utf8' });
  if (k.error) return `ssh-keygen is missing (apt-get install -y openssh-client)`;
  return undefined;
}

/**
 * `false` when sshd can run here; otherwise the reason to skip, printed loudly. Under CI=true a missing sshd is
 * not a skip: the tests run and fail at startSshd.
 */
export function sshdSkip(): false | string {
  const why = probe();
  if (!why) return false;
  if (process.env.CI) return false;
  const msg = `SKIPPED: ${why}; the SSH winrs-proxy tests need Debian's OpenSSH server (skipped outside CI only)`;
  process.stderr.write(`\n*** ${msg} ***\n\n`);
  return msg;
}

export interface SshdOptions {
  /** Executable scripts put into the session PATH's first directory, by file name. Default: none. */
  shims?: Readonly<Record<string, string>>;
  /** Allow password authentication (the account's real password; tests only use it to see refusals). Default: true. */
  passwordAuthentication?: boolean;
  /** sshd's MaxSessions: open channels per SSH connection. Default: 10 (OpenSSH's default). */
  maxSessions?: number;
  /** Extra sshd_config lines. Default: none. */
  extraConfig?: readonly string[];
}

export interface Sshd {
  host: string;
  port: number;
  /** The account sessions run as (the current user). */
  username: string;
  /** OpenSSH private key (text) whose public key is in the authorized keys file. */
  userKey: string;
  /** The host key's fingerprint, as `ssh-keygen -lf` prints it (`SHA256:...`). */
  hostKeyFingerprint: string;
  /** A fingerprint of another, throw-away key: for pin-mismatch tests. */
  otherFingerprint: string;
  /** A private key that is not authorized: for wrong-key tests. */
  unauthorizedKey: string;
  /** The directory put first on the session PATH. */
  binDir: string;
  dir: string;
  /** sshd's stderr so far (LogLevel DEBUG1 off; VERBOSE logs auth and signals). */
  log(): string;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((ok, ko) => {
    const s = createServer();
    s.once('error', ko);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => ok(port));
    });
  });
}

function keygen(file: string): void {
  execFileSync(KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', 'winrm-connection-test', '-f', file], {
    stdio: 'ignore',
  });
}

function fingerprintOf(pubFile: string): string {
  const out = execFileSync(KEYGEN, ['-lf', pubFile], { encoding: 'utf8' });
  const m = /SHA256:[A-Za-z0-9+/]+/.exec(out);
  if (!m) throw new Error(`ssh-keygen -lf printed no SHA256 fingerprint: ${out}`);
  return m[0];
}

/** Start a private sshd. Throws (with sshd's log) when it does not come up. */
export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  const why = probe();
  if (why) throw new Error(`Cannot start the test sshd: ${why}`);
  const dir = await mkdtemp(join(tmpdir(), 'wrc-sshd-'));
  const cleanupDir = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', cleanupDir);
  let child: ReturnType<typeof spawn> | undefined;
  let stderr = '';
  const close = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const c = child;
      await new Promise<void>((ok) => {
        const t = setTimeout(() => {
          c.kill('SIGKILL');
        }, 5000);
        c.once('exit', () => {
          clearTimeout(t);
          ok();
        });
        c.kill('SIGTERM');
      });
    }
    process.removeListener('exit', cleanupDir);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const binDir = join(dir, 'bin');
    mkdirSync(binDir);
    for (const [name, text] of Object.entries(options.shims ?? {})) {
      const file = join(binDir, name);
      await writeFile(file, text);
      await chmod(file, 0o755);
    }
    keygen(join(dir, 'host_ed25519'));
    keygen(join(dir, 'user_ed25519'));
    keygen(join(dir, 'other_ed25519'));
    await writeFile(join(dir, 'authorized_keys'), await readFile(join(dir, 'user_ed25519.pub')));
    // sshd refuses to start without its privilege-separation directory, which Debian's service unit creates at
    // boot (RuntimeDirectory=sshd); a container that never started the service lacks it.
    if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { mode: 0o755, recursive: true });
    const user = userInfo();
    const config = [
      `HostKey ${join(dir, 'host_ed25519')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'ListenAddress 127.0.0.1',
      `PidFile ${join(dir, 'sshd.pid')}`,
      'UsePAM no',
      `PasswordAuthentication ${options.passwordAuthentication === false ? 'no' : 'yes'}`,
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      ...(user.uid === 0 ? ['PermitRootLogin yes'] : []),
      // The session PATH: the shims first (SetEnv overrides sshd's default PATH, OpenSSH 8.7+).
      `SetEnv PATH=${binDir}:/usr/local/bin:/usr/bin:/bin`,
      'LogLevel VERBOSE',
      `MaxSessions ${options.maxSessions ?? 10}`,
      'MaxStartups 50',
      ...(options.extraConfig ?? []),
    ];
    await writeFile(join(dir, 'sshd_config'), `${config.join('\n')}\n`);
    let port = 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      port = await freePort();
      stderr = '';
      const c = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config'), '-p', String(port)], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child = c;
      const up = await new Promise<boolean>((ok) => {
        const t = setTimeout(() => ok(false), 20_000);
        c.stderr!.setEncoding('utf8');
        c.stderr!.on('data', (s: string) => {
          stderr += s;
          if (/Server listening on 127\.0\.0\.1 port/.test(stderr)) {
            clearTimeout(t);
            ok(true);
          }
        });
        c.once('exit', () => {
          clearTimeout(t);
          ok(false);
        });
      });
      if (up) break;
      if (c.exitCode === null) c.kill('SIGKILL');
      if (!/Address already in use/.test(stderr)) throw new Error(`The test sshd did not start:\n${stderr}`);
    }
    if (!child || child.exitCode !== null) throw new Error(`The test sshd did not start:\n${stderr}`);
    return {
      host: '127.0.0.1',
      port,
      username: user.username,
      userKey: await readFile(join(dir, 'user_ed25519'), 'utf8'),
      unauthorizedKey: await readFile(join(dir, 'other_ed25519'), 'utf8'),
      hostKeyFingerprint: fingerprintOf(join(dir, 'host_ed25519.pub')),
      otherFingerprint: fingerprintOf(join(dir, 'other_ed25519.pub')),
      binDir,
      dir,
      log: () => stderr,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
