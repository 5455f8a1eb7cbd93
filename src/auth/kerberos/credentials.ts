/**
 * Where the Kerberos client's initial ticket (TGT) comes from.
 *
 * - Ticket cache (no password): the user's own cache (KRB5CCNAME, or the system default), filled by `kinit`, by
 *   the login (pam_krb5, sssd) or by Windows' logon: single sign-on.
 * - Password: the `kerberos` addon ignores its `user`/`pass` options outside Windows (its C++ source: "Only used
 *   on Windows"; on Unix it calls gss_acquire_cred without a password) and offers no
 *   gss_acquire_cred_with_password. So the TGT is asked for in this process, by the AS exchange of
 *   ./as-exchange.ts (TCP to the realm's KDC, PA-ENC-TIMESTAMP from the password's string-to-key): no child
 *   process, the password stays in this closure. The TGT and its session key go into a private cache (FILE:,
 *   format 4, in a fresh 0700 temp directory, the file 0600, removed at close and at process exit), as MIT's
 *   kinit would store them; the addon is pointed at that cache only while it acquires its credential handle
 *   (KRB5CCNAME, swapped under a lock: GSSAPI resolves the cache at gss_acquire_cred and keeps it in the handle).
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AsReply, DEFAULT_KDC_TIMEOUT_MS, requestTgt, splitPrincipal } from './as-exchange.ts';
import { encodeCcache } from './ccache.ts';

/** A FILE ccache (format 4) holding the TGT of an AS exchange, as MIT's kinit would write it. */
export function tgtCcache(tgt: AsReply, fallbackRealm: string): Buffer {
  const client = { nameType: 1, realm: tgt.crealm || fallbackRealm, components: tgt.client };
  return encodeCcache(client, [
    {
      client,
      server: { nameType: 2, realm: tgt.srealm, components: tgt.server },
      key: tgt.sessionKey,
      authtime: tgt.authtime.getTime(),
      starttime: (tgt.starttime ?? tgt.authtime).getTime(),
      endtime: tgt.endtime.getTime(),
      renewTill: tgt.renewTill?.getTime() ?? 0,
      flags: tgt.flags,
      ticket: tgt.ticket,
    },
  ]);
}

export interface CredentialSource {
  /** Run `acquire` (gss_acquire_cred for `principal`) with this source's ticket cache in effect. */
  use<T>(principal: string, acquire: () => Promise<T>): Promise<T>;
  /** Get a fresh TGT on the next `use` (password: a new AS exchange); false when this source cannot (ticket cache). */
  renew(): boolean;
  /** The private cache (`FILE:...`) once a password TGT was obtained; undefined for the user's ticket cache. */
  readonly cache?: string | undefined;
  /** Remove the private cache (password); nothing for the user's ticket cache. */
  close?(): void;
}

export interface PasswordCredentialOptions {
  /** Ask for a forwardable TGT (delegation). Default false. */
  forwardable?: boolean;
  /** Bound on reaching and hearing from each KDC, ms. Default 15000 (the connection's connectTimeout). */
  timeoutMs?: number;
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

/**
 * A TGT for `principal` from the password, by an in-process AS exchange, into a private cache. The password is
 * kept only in this closure (for a renewal when the TGT expires).
 */
export function passwordCredentials(
  password: string,
  options: PasswordCredentialOptions = {},
): CredentialSource {
  let dir: string | undefined;
  let cache: string | undefined;
  let obtained: Promise<void> | undefined;
  const remove = () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  const obtain = async (principal: string): Promise<void> => {
    const tgt = await requestTgt({
      principal,
      password,
      forwardable: options.forwardable ?? false,
      timeoutMs: options.timeoutMs ?? DEFAULT_KDC_TIMEOUT_MS,
    });
    if (!dir) {
      dir = mkdtempSync(join(tmpdir(), 'winrm-krb5cc-')); // 0700
      process.once('exit', remove);
    }
    const file = join(dir, 'ccache');
    const bytes = tgtCcache(tgt, splitPrincipal(principal).realm);
    const temp = `${file}.new`;
    writeFileSync(temp, bytes, { mode: 0o600 });
    renameSync(temp, file);
    cache = `FILE:${file}`;
  };
  return {
    get cache() {
      return cache;
    },
    renew() {
      obtained = undefined;
      return true;
    },
    close() {
      remove();
      process.removeListener('exit', remove);
      dir = undefined;
      cache = undefined;
      obtained = undefined;
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
