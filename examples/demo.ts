/**
 * `npm run demo`: start the mock WinRM endpoint in-process (HTTPS, self-signed certificate) and run the quick
 * start against it, trusting the certificate by its SHA-1 thumbprint as you would a real host's.
 */
import { startMockServer } from '../src/mock/index.ts';
import { quickstart } from './quickstart.ts';

const user = { name: 'demo', password: 'Demo-Passw0rd' };
const mock = await startMockServer({
  https: true,
  users: [user],
  auth: { basic: true },
  machineName: 'WIN-DEMO01',
});
try {
  console.log(`mock WinRM endpoint: ${mock.url}`);
  console.log(`certificate thumbprint (SHA-1): ${mock.thumbprints?.sha1}`);
  await quickstart({
    endpoint: mock.url,
    username: user.name,
    password: user.password,
    tls: { fingerprint: mock.thumbprints!.sha1 },
  });
} finally {
  await mock.close();
}
