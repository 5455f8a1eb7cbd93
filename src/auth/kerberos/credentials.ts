/**
 * Where the Kerberos client's initial ticket (TGT) comes from.
 *
 * - Ticket cache (no password): the user's own cache (KRB5CCNAME, or the system default), filled by `kinit`, by
 *   the login (pam_krb5, sssd) or by Windows' logon: single sign-on.
 * - Password: the `kerberos` addon ignores its `user`/`pass` options outside Windows (its C++ source: "Only used
 *   on Windows"; on Unix it calls gss_acquire_cred without a password) and offers no
 *   gss_acquire_cred_with_password. So the TGT is asked for by MIT's `kinit`, with the password written to its
 *   standard input (a pipe): never on a command line, in a child's environment or in a file. kinit stores the
 *   TGT in a private cache (FILE: in a fresh 0700 temp directory, removed when the process exits); the addon is
 *   pointed at that cache only while it acquires its credential handle (KRB5CCNAME, swapped under a lock: GSSAPI
 *   resolves the cache at gss_acquire_cred and keeps it in the handle).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '../../errors.ts';

export interface CredentialSource {
  /** Run `acquire` (gss_acquire_cred for `principal`) with this source's ticket cache in effect. */
  use<T>(principal: string, acquire: () => Promise<T>): Promise<T>;
  /** Get a fresh TGT on the next `use` (password: kinit again); false when this source cannot (ticket cache). */
  renew(): boolean;
  /** The private cache (`FILE:...`) once a password TGT was obtained; undefined for the user's ticket cache. */
  readonly cache?: string | undefined;
}

/** One lock for every KRB5CCNAME swap of this process. */
let chain: Promise<unknown> = Promise.resolve();
function locked<T>(fn: () => Promise<T>): Promise<T> {
  const run = chain.then(fn, fn);
  chain = run.catch(() => undefined);
  return run;
}

/** The user's ticket cache as configured (KRB5CCNAME or the default). */
export function ticketCacheCredentials(): CredentialSource {
  return { use: (_principal, acquire) => locked(acquire), renew: () => false };
}

/** Exit code and stderr of kinit, for the error table. */
export class KinitFailure extends Error {}

/**
 * A TGT for `principal` from the password, through kinit's standard input, into a private cache. The password
 * is kept only in this closure (for a renewal when the TGT expires).
 */
export function passwordCredentials(password: string, kinit = 'kinit'): CredentialSource {
  let cache: string | undefined;
  let obtained: Promise<void> | undefined;
  const obtain = (principal: string): Promise<void> => {
    if (!cache) {
      const dir = mkdtempSync(join(tmpdir(), 'winrm-krb5cc-'));
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      cache = `FILE:${join(dir, 'ccache')}`;
    }
    const ccache = cache;
    return new Promise<void>((resolve, reject) => {
      const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };
      const child = spawn(kinit, ['-c', ccache, principal], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (b: Buffer) => {
        err += b.toString();
      });
      child.stdout.resume();
      child.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          e.code === 'ENOENT'
            ? new InvalidArgumentError(
                'Kerberos with a password needs MIT kinit, which was not found on PATH',
                {
                  argument: 'password',
                  remedy:
                    'install it (Debian: apt-get install krb5-user; RHEL: dnf install krb5-workstation), or run ' +
                    `kinit ${principal} yourself and leave the password option out (ticket cache)`,
                },
              )
            : e,
        ),
      );
      child.once('close', (code) =>
        code === 0 ? resolve() : reject(new KinitFailure(err.trim() || `kinit exited with ${code}`)),
      );
      child.stdin.on('error', () => undefined);
      child.stdin.end(`${password}\n`);
    });
  };
  return {
    get cache() {
      return cache;
    },
    renew() {
      obtained = undefined;
      return true;
    },
    async use(principal, acquire) {
      obtained ??= obtain(principal).catch((e: unknown) => {
        obtained = undefined;
        throw e;
      });
      await obtained;
      return locked(async () => {
        const previous = process.env.KRB5CCNAME;
        process.env.KRB5CCNAME = cache!;
        try {
          return await acquire();
        } finally {
          if (previous === undefined) delete process.env.KRB5CCNAME;
          else process.env.KRB5CCNAME = previous;
        }
      });
    },
  };
}
