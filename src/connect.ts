/** Entry point: resolve options and create the strategy's connection. */
import type { Connection } from './connection.ts';
import { type ConnectionOptions, resolveOptions } from './options.ts';
import { WinRmInternalConnection } from './winrm/connection.ts';

/**
 * Open a connection. Nothing is sent until the first command; use {@link WinRmInternalConnection} features via
 * the returned object. Throws InvalidArgumentError for bad options (naming the option and the fix).
 */
export async function connect(
  options: ConnectionOptions,
): Promise<Connection & { readonly requestCount: number }> {
  const resolved = resolveOptions(options);
  return new WinRmInternalConnection(resolved);
}
