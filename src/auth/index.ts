/** The mechanism for the resolved options: Basic, or NTLM with the encryption the options decided. */
import type { ResolvedOptions } from '../options/index.ts';
import { BasicMechanism } from './basic.ts';
import type { AuthMechanism } from './mechanism.ts';
import { NtlmMechanism } from './ntlm-mechanism.ts';

export function mechanismFor(
  opts: Pick<
    ResolvedOptions,
    'auth' | 'account' | 'password' | 'encrypt' | 'channelBinding' | 'negotiateForm'
  >,
): AuthMechanism {
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
