/**
 * `npm run demo`: start the mock WinRM endpoint in-process (HTTPS, self-signed certificate) and run the quick
 * start against it, trusting the certificate by its SHA-1 thumbprint as you would a real host's.
 */
import { fileURLToPath } from 'node:url';
import { startMockServer } from '../src/mock/index.ts';
import { quickstart } from './quickstart.ts';

/** Run the demo; returns the number of shells the mock still had open afterwards (0 when all was cleaned up). */
export async function runDemo(print: (line: string) => void = console.log): Promise<number> {
  const user = { name: 'demo', password: 'Demo-Passw0rd' };
  const mock = await startMockServer({
    https: true,
    users: [user],
    auth: { basic: true },
    machineName: 'WIN-DEMO01',
  });
  try {
    print(`mock WinRM endpoint: ${mock.url}`);
    print(`certificate thumbprint (SHA-1): ${mock.thumbprints?.sha1}`);
    await quickstart(
      {
        endpoint: mock.url,
        username: user.name,
        password: user.password,
        tls: { fingerprint: mock.thumbprints!.sha1 },
      },
      print,
    );
    return mock.shells().length;
  } finally {
    await mock.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await runDemo();
