/** HTTP Basic ([RFC 7617]); WinRM accepts it for local accounts only. */
import { type Account, forBasic } from '../account.ts';
import type { HttpChannel, HttpResponse } from '../transport/http.ts';
import type { AuthExchangeOptions, AuthMechanismImpl } from './types.ts';

export class BasicAuth implements AuthMechanismImpl {
  readonly scheme = 'Basic';
  readonly encrypts = false;
  readonly #header: string;

  constructor(account: Account, password: string) {
    this.#header = `Basic ${Buffer.from(`${forBasic(account)}:${password}`, 'utf8').toString('base64')}`;
  }

  exchange(channel: HttpChannel, soap: Buffer, options: AuthExchangeOptions): Promise<HttpResponse> {
    return channel.post(soap, {
      headers: { Authorization: this.#header, 'Content-Type': 'application/soap+xml;charset=UTF-8' },
      signal: options.signal,
    });
  }

  /** Keep the credential out of console.log / util.inspect. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'BasicAuth { [credentials redacted] }';
  }

  toJSON(): object {
    return { scheme: this.scheme };
  }
}
