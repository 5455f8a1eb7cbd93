/**
 * A throw-away MIT Kerberos realm for tests: a temp directory with krb5.conf, kdc.conf, a database, a user
 * principal, service principals for WSMAN/<host> and HTTP/<host>, a keytab with the service keys, and `krb5kdc -n`
 * listening on 127.0.0.1 at a free port (UDP and TCP). `stop()` kills the KDC and removes the directory.
 *
 * Service hosts: `localhost`, `127.0.0.1` and `winrm.winrm.test` (a name that resolves nowhere, for tests that
 * want an SPN that cannot be canonicalised). krb5.conf sets `dns_lookup_kdc/realm = false`, `rdns = false` and
 * `dns_canonicalize_hostname = false`, so MIT's client uses the host name exactly as given: the SPN a test
 * asks for is the SPN it gets (with canonicalisation on, `127.0.0.1` could turn into `localhost` through
 * /etc/hosts and the test would depend on the machine).
 *
 * The `kerberos` addon (and libkrb5 in this process) reads KRB5_CONFIG, KRB5CCNAME and KRB5_KTNAME from the
 * process environment; libkrb5 caches the profile on first use in a context. Use ONE realm per test FILE: start it
 * in a `before()` hook and call `kdc.applyEnv()` (sets process.env) before the first Kerberos call of that file.
 * Child processes (kinit, klist, curl) get `kdc.env` explicitly.
 *
 * Outside CI a missing `krb5kdc` skips (loudly, see `kdcSkipReason()`); with CI=true it is a failure.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REALM = 'WINRM.TEST';
/** Host names that get WSMAN/ and HTTP/ service principals (and host/ for kvno checks). */
export const SERVICE_HOSTS = ['localhost', '127.0.0.1', 'winrm.winrm.test'] as const;

const SBIN = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function findTool(name: string): string | undefined {
  for (const dir of SBIN) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export interface Kdc {
  realm: string;
  kdcPort: number;
  dir: string;
  /** Environment for children and for this process (KRB5_CONFIG, KRB5_KDC_PROFILE, KRB5CCNAME, KRB5_KTNAME). */
  env: Record<string, string>;
  krb5Conf: string;
  keytabPath: string;
  /** Default credential cache of the realm (FILE:), empty until `kinit()`. */
  ccachePath: string;
  /** `alice@WINRM.TEST`. */
  user: string;
  password: string;
  /** Add another principal with a password (e.g. a second user). */
  addPrincipal(name: string, password: string, extra?: string[]): Promise<void>;
  /** Run kinit for the user into `ccachePath` (the password goes through stdin, never argv). */
  kinit(ccachePath?: string, extraArgs?: string[], principal?: string, password?: string): Promise<void>;
  /** Run a command with the realm's environment. */
  run(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Stop the KDC process only (files stay): for "KDC unreachable" tests. `stop()` still cleans up. */
  killKdc(): Promise<void>;
  /** Set this process's KRB5_* environment variables to the realm's (call before the first Kerberos call). */
  applyEnv(): void;
  stop(): Promise<void>;
}

/** Why this machine cannot run a realm, or undefined when it can. */
export function kdcSkipReason(): string | undefined {
  const missing = ['krb5kdc', 'kdb5_util', 'kadmin.local', 'kinit', 'klist'].filter((t) => !findTool(t));
  if (missing.length === 0) return undefined;
  return `MIT Kerberos tools missing (${missing.join(', ')}): apt-get install krb5-kdc krb5-admin-server krb5-user`;
}

export function kdcAvailable(): boolean {
  return kdcSkipReason() === undefined;
}

/**
 * For `describe(..., { skip: kdcSkip() })`: outside CI returns a loud skip message when the tools are missing;
 * with CI=true throws, so CI fails instead of silently skipping.
 */
export function kdcSkip(): string | false {
  const reason = kdcSkipReason();
  if (!reason) return false;
  if (process.env.CI === 'true') throw new Error(`CI=true and the Kerberos test realm cannot run: ${reason}`);
  process.stderr.write(`\n*** SKIPPING Kerberos tests: ${reason} ***\n\n`);
  return `SKIPPED: ${reason}`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function runWith(
  env: Record<string, string>,
  cmd: string,
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(findTool(cmd) ?? cmd, args, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.on('error', () => undefined); // a tool that reads no input (klist) may close stdin first
    child.stdin.end(input ?? '');
  });
}

async function must(
  p: Promise<{ code: number; stdout: string; stderr: string }>,
  what: string,
): Promise<string> {
  const r = await p;
  if (r.code !== 0) throw new Error(`${what} failed (${r.code}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

async function waitForKdc(port: number, deadlineMs: number, died: () => string | undefined): Promise<void> {
  const { connect } = await import('node:net');
  const end = Date.now() + deadlineMs;
  for (;;) {
    const why = died();
    if (why) throw new Error(`krb5kdc exited before listening: ${why}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end)
      throw new Error(`krb5kdc did not listen on 127.0.0.1:${port} within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startKdc(options: { user?: string; ticketLifetime?: string } = {}): Promise<Kdc> {
  const reason = kdcSkipReason();
  if (reason) throw new Error(reason);
  const dir = await mkdtemp(join(tmpdir(), 'winrm-kdc-'));
  const kdcPort = await freePort();
  const krb5Conf = join(dir, 'krb5.conf');
  const kdcConf = join(dir, 'kdc.conf');
  const keytabPath = join(dir, 'service.keytab');
  const ccachePath = join(dir, 'ccache');
  const db = join(dir, 'principal');
  const userName = options.user ?? 'alice';
  const password = `Pw-${randomBytes(9).toString('base64url')}`;
  const masterPassword = randomBytes(18).toString('base64url');

  await writeFile(
    krb5Conf,
    [
      '[libdefaults]',
      `  default_realm = ${REALM}`,
      '  dns_lookup_kdc = false',
      '  dns_lookup_realm = false',
      '  dns_canonicalize_hostname = false',
      '  rdns = false',
      '  udp_preference_limit = 1',
      '  ticket_lifetime = 10h',
      '  allow_weak_crypto = false',
      '  default_tkt_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96',
      '  default_tgs_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96',
      '  permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96',
      '  kdc_timesync = 1',
      '',
      '[realms]',
      `  ${REALM} = {`,
      `    kdc = 127.0.0.1:${kdcPort}`,
      `    admin_server = 127.0.0.1:${kdcPort}`,
      '  }',
      '',
      '[domain_realm]',
      `  localhost = ${REALM}`,
      `  127.0.0.1 = ${REALM}`,
      `  .winrm.test = ${REALM}`,
      `  winrm.test = ${REALM}`,
      '',
    ].join('\n'),
  );
  await writeFile(
    kdcConf,
    [
      '[kdcdefaults]',
      `  kdc_listen = 127.0.0.1:${kdcPort}`,
      `  kdc_tcp_listen = 127.0.0.1:${kdcPort}`,
      '',
      '[realms]',
      `  ${REALM} = {`,
      `    database_name = ${db}`,
      `    key_stash_file = ${join(dir, 'stash')}`,
      `    acl_file = ${join(dir, 'kadm5.acl')}`,
      `    kdc_listen = 127.0.0.1:${kdcPort}`,
      `    kdc_tcp_listen = 127.0.0.1:${kdcPort}`,
      '    master_key_type = aes256-cts-hmac-sha1-96',
      '    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal',
      `    max_life = ${options.ticketLifetime ?? '10h'}`,
      '    max_renewable_life = 1d',
      '  }',
      '',
      '[logging]',
      `  kdc = FILE:${join(dir, 'kdc.log')}`,
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'kadm5.acl'), '');

  const env: Record<string, string> = {
    KRB5_CONFIG: krb5Conf,
    KRB5_KDC_PROFILE: kdcConf,
    KRB5CCNAME: `FILE:${ccachePath}`,
    KRB5_KTNAME: `FILE:${keytabPath}`,
    KRB5RCACHETYPE: 'none',
  };
  const run = (cmd: string, args: string[], input?: string) => runWith(env, cmd, args, input);
  const kadmin = (query: string) =>
    must(run('kadmin.local', ['-r', REALM, '-q', query]), `kadmin.local ${query}`);

  let child: ReturnType<typeof spawn> | undefined;
  let exitInfo: string | undefined;
  try {
    await must(run('kdb5_util', ['-r', REALM, 'create', '-s', '-P', masterPassword]), 'kdb5_util create');
    const user = `${userName}@${REALM}`;
    // The password goes through kadmin.local's own prompt on stdin, never argv.
    await must(
      run(
        'kadmin.local',
        ['-r', REALM, '-q', `addprinc +requires_preauth ${user}`],
        `${password}\n${password}\n`,
      ),
      'addprinc user',
    );
    const services: string[] = [];
    for (const host of SERVICE_HOSTS)
      for (const cls of ['WSMAN', 'HTTP']) services.push(`${cls}/${host}@${REALM}`);
    for (const spn of services) await kadmin(`addprinc -randkey ${spn}`);
    await kadmin(`ktadd -k ${keytabPath} ${services.join(' ')}`);

    child = spawn(findTool('krb5kdc') ?? 'krb5kdc', ['-n', '-r', REALM, '-P', join(dir, 'kdc.pid')], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.once('exit', (code, signal) => {
      exitInfo = `code ${code} signal ${signal} ${stderr}`;
    });
    await waitForKdc(kdcPort, 20_000, () => exitInfo);
  } catch (err) {
    child?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const kdcChild = child;
  // A test process that dies without stop() leaves no KDC and no realm directory behind.
  const onExit = () => {
    kdcChild.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);

  const kdc: Kdc = {
    realm: REALM,
    kdcPort,
    dir,
    env,
    krb5Conf,
    keytabPath,
    ccachePath,
    user: `${userName}@${REALM}`,
    password,
    async addPrincipal(name, pw, extra = []) {
      await must(
        run('kadmin.local', ['-r', REALM, '-q', `addprinc ${extra.join(' ')} ${name}`], `${pw}\n${pw}\n`),
        `addprinc ${name}`,
      );
    },
    async kinit(path = ccachePath, extraArgs = [], principal = kdc.user, pw = password) {
      await must(
        runWith({ ...env, KRB5CCNAME: `FILE:${path}` }, 'kinit', [...extraArgs, principal], `${pw}\n`),
        'kinit',
      );
    },
    run,
    applyEnv() {
      for (const [k, v] of Object.entries(env)) process.env[k] = v;
    },
    async killKdc() {
      if (exitInfo === undefined) {
        const exited = new Promise<void>((r) => kdcChild.once('exit', () => r()));
        kdcChild.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (exitInfo === undefined) kdcChild.kill('SIGKILL');
      }
    },
    async stop() {
      process.removeListener('exit', onExit);
      if (exitInfo === undefined) {
        const exited = new Promise<void>((r) => kdcChild.once('exit', () => r()));
        kdcChild.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (exitInfo === undefined) kdcChild.kill('SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  return kdc;
}
