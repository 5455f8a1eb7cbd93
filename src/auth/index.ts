/** The mechanism for the resolved options: Basic, NTLM or Kerberos, with the encryption the options decided. */
import type { ResolvedOptions } from '../options/index.ts';
import { BasicMechanism } from './basic.ts';
import { KerberosMechanism } from './kerberos/mechanism.ts';
import type { AuthMechanism } from './mechanism.ts';
import { NtlmMechanism } from './ntlm-mechanism.ts';

export function mechanismFor(
  opts: Pick<
    ResolvedOptions,
    | 'auth'
    | 'account'
    | 'password'
    | 'encrypt'
    | 'channelBinding'
    | 'negotiateForm'
    | 'hasPassword'
    | 'kerberos'
    | 'host'
    | 'port'
    | 'connectTimeoutMs'
  >,
): AuthMechanism {
  if (opts.auth === 'kerberos') {
    return new KerberosMechanism({
      account: opts.account,
      password: opts.hasPassword ? opts.password.reveal() : undefined,
      encrypt: opts.encrypt,
      host: opts.host,
      port: opts.port,
      kerberos: opts.kerberos,
      connectTimeoutMs: opts.connectTimeoutMs,
    });
  }
  return opts.auth === 'ntlm'
    ? new NtlmMechanism({
        account: opts.account,
        password: opts.password.reveal(),
        encrypt: opts.encrypt,
        channelBinding: opts.channelBinding,
        negotiateForm: opts.negotiateForm,
      })
    : new BasicMechanism(opts.account, opts.password.reveal());
}
