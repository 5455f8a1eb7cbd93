/** HTTP Basic ([RFC 7617]): the trivial mechanism, one header on every request, no context. WinRM: local accounts. */
import { type Account, forBasic } from '../account.ts';
import type { AuthContext, AuthMechanism } from './mechanism.ts';

export class BasicMechanism implements AuthMechanism {
  readonly schemes = ['Basic'] as const;
  readonly connectionBound = false;
  readonly encrypts = false;
  readonly #token: Buffer;
  readonly #account: Account;

  constructor(account: Account, password: string) {
    this.#account = account;
    // Its own memory, not a slice of Buffer's shared 8 KiB pool: a connection that keeps its token must not keep
    // a whole pool slab (and whatever else was cut from it) alive with it.
    const text = `${forBasic(account)}:${password}`;
    this.#token = Buffer.allocUnsafeSlow(Buffer.byteLength(text, 'utf8'));
    this.#token.write(text, 'utf8');
  }

  begin(): AuthContext {
    const token = this.#token;
    return {
      init: () => ({ token, done: true }),
      step: () => ({ done: true }),
      securityContext: () => undefined,
    };
  }

  describeAccount(): string {
    return describeAccount(this.#account);
  }

  refusedRemedy(offered: readonly string[], https: boolean): string {
    if (!offered.some((s) => s.toLowerCase() === 'basic')) {
      return (
        'the service does not offer Basic authentication; enable it for local accounts with ' +
        'winrm set winrm/config/service/Auth @{Basic="true"}' +
        (https ? '' : ', and for plain HTTP also winrm set winrm/config/service @{AllowUnencrypted="true"}')
      );
    }
    return (
      'check the password, and that the account is a local account (Basic accepts only local accounts; ' +
      'write it as USER or .\\USER); Basic must be enabled: winrm set winrm/config/service/Auth @{Basic="true"}' +
      (https ? '' : '; over HTTP the service also needs @{AllowUnencrypted="true"}')
    );
  }

  /** Keep the credential out of console.log / util.inspect. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'BasicMechanism { [credentials redacted] }';
  }

  toJSON(): object {
    return { schemes: this.schemes };
  }
}

export function describeAccount(account: Account): string {
  return account.kind === 'local'
    ? `local account "${account.user}"`
    : `domain account "${account.original}"`;
}
