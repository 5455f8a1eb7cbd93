/**
 * Entry point and strategy registry: connectionType -> its options resolver and its factory. connect() looks the
 * strategy up, lets it resolve (and check) the options into its own config, and creates the connection.
 */
import type { Connection, ConnectionType } from './connection.ts';
import { WinRsNativeConnection, type WinrsRunnerFactories } from './native/connection.ts';
import { jumpRunnerFactory } from './native/runners/jump.ts';
import { sshRunnerFactory } from './native/runners/ssh.ts';
import { bad, oneOf } from './options/check.ts';
import { CONNECTION_TYPES } from './options/common.ts';
import { type ConnectionOptions, resolveWinRmInternal } from './options/index.ts';
import { resolveNative } from './options/native.ts';
import { fromOverthere, looksLikeOverthere } from './options/overthere.ts';
import { WinRmInternalConnection } from './winrm/connection.ts';

/** A strategy: how to resolve the options it reads, and how to make a connection from the result. */
export interface Strategy<Config> {
  resolve(options: ConnectionOptions): Config;
  create(config: Config): Connection;
}

/** A registered strategy, its config type hidden behind open(). */
interface Registered {
  open(options: ConnectionOptions): Connection;
}

function register<Config>(s: Strategy<Config>): Registered {
  return { open: (options) => s.create(s.resolve(options)) };
}

const STRATEGIES: Readonly<Record<ConnectionType, Registered>> = {
  WINRM_INTERNAL: register({
    resolve: resolveWinRmInternal,
    create: (config) => new WinRmInternalConnection(config),
  }),
  WINRM_NATIVE: register({
    resolve: (options) => resolveNative(options),
    create: (config) => new WinRsNativeConnection(config, WINRS_RUNNERS),
  }),
};

/**
 * The proxy runners of WINRM_NATIVE by winrsProxyProtocol ('local' is built in). src/native/runners/ssh.ts and
 * jump.ts plug in here.
 */
const WINRS_RUNNERS: WinrsRunnerFactories = {
  ssh: sshRunnerFactory,
  jump: jumpRunnerFactory((options) => connect(options as unknown as ConnectionOptions)),
};

/**
 * Open a connection. Nothing is sent until the first command, unless `verify: true` (an authenticated Identify
 * first; its failure rejects connect()). Throws InvalidArgumentError for bad options
 * (naming the option and the fix).
 */
export async function connect(options: ConnectionOptions): Promise<Connection> {
  if (options === null || typeof options !== 'object') bad('options', 'connect() needs an options object');
  // An Overthere connection definition (address, winrmEnableHttps, connectionTimeoutMillis, ...) is translated.
  const given = looksLikeOverthere(options) ? fromOverthere({ ...options }) : options;
  const type = oneOf('connectionType', given.connectionType, CONNECTION_TYPES, 'WINRM_INTERNAL');
  const conn = STRATEGIES[type].open(given);
  if (conn instanceof WinRmInternalConnection) await conn.verifyIfAsked();
  if (conn instanceof WinRsNativeConnection) {
    try {
      await conn.ready();
    } catch (err) {
      conn.destroy();
      throw err;
    }
  }
  return conn;
}
