/** A mock WinRM endpoint with one Basic user and a connection to it, for lifecycle tests. */
import { type Connection, type ConnectionOptions, connect } from '../../src/index.ts';
import { type MockServer, type MockServerOptions, startMockServer } from '../../src/mock/index.ts';

export const USER = { name: 'vagrant', password: 'vagrant' };

export function startMock(extra: Partial<MockServerOptions> = {}): Promise<MockServer> {
  return startMockServer({ auth: { basic: true }, allowUnencrypted: true, users: [USER], ...extra });
}

export function connectTo(mock: MockServer, extra: Partial<ConnectionOptions> = {}): Promise<Connection> {
  return connect({
    endpoint: mock.url,
    username: USER.name,
    password: USER.password,
    allowUnencrypted: true,
    operationTimeout: 1000,
    ...extra,
  });
}

/** Poll `check` until it holds or `ms` pass (a "does not hang" bound, not a timing assertion). */
export async function eventually(check: () => boolean, ms = 10_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
