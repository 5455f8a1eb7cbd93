/** Basic authentication as WinRM does it: local accounts only, `realm="WSMAN"`, one request at a time. */
import { timingSafeEqual } from 'node:crypto';
import type { AuthAttempt, AuthOutcome, AuthScheme } from './types.ts';

const PROFILE = 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile';

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export function basicScheme(options: { allowUnencrypted: boolean; machineName: string }): AuthScheme {
  return {
    name: 'Basic',
    providesEncryption: false,
    challenge: () => 'Basic realm="WSMAN"',
    // Windows refuses unencrypted messages over HTTP; with Basic that is every message.
    available: (https) => https || options.allowUnencrypted,
    securityProfile: (https) => `${PROFILE}/${https ? 'https' : 'http'}/basic`,
    authenticate(attempt: AuthAttempt): AuthOutcome {
      let decoded: string;
      try {
        decoded = Buffer.from(attempt.token.trim(), 'base64').toString('utf8');
      } catch {
        return { kind: 'failure', reason: 'malformed Basic token' };
      }
      const colon = decoded.indexOf(':');
      if (colon < 0) return { kind: 'failure', reason: 'malformed Basic token' };
      let name = decoded.slice(0, colon);
      const password = decoded.slice(colon + 1);
      let domain: string | undefined;
      // Windows accepts MACHINE\user and .\user for local accounts; user@domain is a domain account (refused).
      const slash = name.indexOf('\\');
      if (slash >= 0) {
        domain = name.slice(0, slash);
        name = name.slice(slash + 1);
        if (domain === '.') domain = undefined;
      }
      if (name.includes('@')) return { kind: 'failure', reason: 'Basic accepts local accounts only' };
      const user = attempt.findUser(name, domain);
      if (!user || !safeEqual(user.password, password)) {
        return { kind: 'failure', reason: `bad user name or password for "${name}"` };
      }
      // WinRM's Basic maps credentials to local accounts only (Microsoft's WinRM authentication docs; our client's
      // forBasic refuses domain accounts for the same reason): a domain account gets the normal 401.
      if (user.domain.toLowerCase() !== options.machineName.toLowerCase()) {
        return {
          kind: 'failure',
          reason: `Basic accepts local accounts only, "${name}" is in ${user.domain}`,
        };
      }
      return { kind: 'success', user };
    },
  };
}
