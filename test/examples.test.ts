/** The quick start (what `npm run demo` runs) keeps working against the mock. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quickstart } from '../examples/quickstart.ts';
import { startMockServer } from '../src/mock/index.ts';

describe('examples/quickstart.ts', () => {
  it('runs hostname, a failing command, an upload and a wrong password against the HTTPS mock', async () => {
    const user = { name: 'demo', password: 'Demo-Passw0rd' };
    const mock = await startMockServer({
      https: true,
      users: [user],
      auth: { basic: true },
      machineName: 'WIN-DEMO01',
    });
    const lines: string[] = [];
    try {
      await quickstart(
        {
          endpoint: mock.url,
          username: user.name,
          password: user.password,
          tls: { fingerprint: mock.thumbprints!.sha1 },
        },
        (l) => lines.push(l),
      );
    } finally {
      await mock.close();
    }
    assert.match(lines[0]!, /hostname -> exit 0, stdout "WIN-DEMO01\\r\\n"/);
    assert.match(lines[1]!, /exit 1, stderr "The system cannot find the file specified/);
    assert.match(lines[2]!, /upload -> 30 bytes to C:\\Users\\demo\\winrm-connection-hello.txt/);
    assert.match(lines[3]!, /"deployed by winrm-connection\\r\\n"/);
    assert.match(lines[4]!, /AuthenticationError \[WINRM_AUTH\].*Basic="true"/);
    assert.equal(mock.shells().length, 0);
  });
});
