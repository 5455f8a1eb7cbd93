/**
 * The one way this library loads a package it needs only for some connections (the `kerberos` addon, `ssh2`):
 * on first use, by a name held in a variable. A consumer's bundler (esbuild, webpack, rollup) then leaves the
 * import alone instead of following it into native `.node` files it cannot bundle, which would fail the whole
 * build even for users who never ask for Kerberos or SSH (test/packaging/bundle.test.ts). The package is then
 * resolved at run time from the application's node_modules, as an optional dependency should be.
 */
export function importLazily(packageName: string): Promise<unknown> {
  return import(packageName);
}
