/**
 * Compatibility entry: the options moved to src/options/ (one module per concern). The HTTP and auth layers, and
 * their tests, still import from here; this re-export goes once they import from options/index.ts.
 */
export * from './options/index.ts';
