/**
 * The winrs emulator as one program for tests: src/native/emulator/bin.ts bundled once per test process with
 * esbuild (which tsx brings along) into a temporary .mjs, its entry chunk made executable. Running it from source
 * with `node --import tsx` costs about 2 s of CPU a start; the bundle about 0.3 s.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type MockEnvironment, mockEnvironment } from '../contract/mock-environment.ts';

const ENTRY = fileURLToPath(new URL('../../src/native/emulator/bin.ts', import.meta.url));

interface Esbuild {
  build(options: Record<string, unknown>): Promise<unknown>;
}

/** The emulator program (`bin.mjs`, executable) and its directory; remove it with the returned dispose(). */
export async function buildEmulator(): Promise<{ path: string; dir: string; dispose(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'winrs-emulator-'));
  const require = createRequire(createRequire(import.meta.url).resolve('tsx'));
  const esbuild = require('esbuild') as Esbuild;
  const bundle = join(dir, 'bin.mjs');
  // Split, so that bin.ts's signal handlers are set before the library's chunk loads.
  await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    logLevel: 'silent',
    banner: {
      js: `import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);`,
    },
  });
  // The entry chunk itself is the program (bin.ts starts with #!/usr/bin/env node): no shell in between.
  const path = bundle;
  await chmod(path, 0o755);
  return { path, dir, dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** The account the native contract environments log on with: cmd metacharacters, a blank and a %NAME%. */
export const NATIVE_USER = { name: 'svc-native', password: 'N&tive|Contract^1 %OS%', domain: 'CORP' };

/**
 * A contract environment for WINRM_NATIVE through the local runner and the emulator (built once per test
 * process) against the mock: NTLM with message encryption over HTTP, as winrs with -username/-password speaks
 * to a host at Windows' defaults; with `unencrypted`, `-unencrypted` against a service that allows it. One winrs process per command: no shell pool, no request counter; injected
 * faults come back as Winrs errors, so the fault tests are skipped.
 */
export function nativeLocalSetup(options: { unencrypted?: boolean } = {}): {
  setup: () => Promise<MockEnvironment & { sequentialCommands: number }>;
  dispose(): Promise<void>;
} {
  const emulator = buildEmulator();
  emulator.catch(() => undefined);
  return {
    dispose: async () => (await emulator).dispose(),
    setup: async () => {
      const { path } = await emulator;
      const unencrypted = options.unencrypted ?? false;
      const mockOptions = { users: [NATIVE_USER], auth: { negotiate: true }, allowUnencrypted: unencrypted };
      const env = await mockEnvironment(mockOptions, (mock) => {
        const url = new URL(mock.url);
        return {
          connectionType: 'WINRM_NATIVE',
          host: url.hostname,
          port: Number(url.port),
          username: `${NATIVE_USER.domain}\\${NATIVE_USER.name}`,
          password: NATIVE_USER.password,
          winrsPath: path,
          winrsUnencrypted: unencrypted,
        };
      });
      return {
        ...env,
        capabilities: { shellPooling: false, faultInjection: false, requestCounts: false },
        sequentialCommands: 10,
      };
    },
  };
}
