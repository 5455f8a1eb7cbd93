/** `winrm-connection exec` against the mock: bytes unchanged, remote exit code, errors exit 255. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { main } from '../src/cli/main.ts';
import { builtinsHost } from '../src/mock/hosts/builtins.ts';
import { scriptedHost } from '../src/mock/hosts/scripted.ts';
import { type MockServer, startMockServer } from '../src/mock/index.ts';
import { captureIo as io } from './helpers/cli-io.ts';

const USER = { name: 'cli', password: 'Cli-Passw0rd' };
const BINARY = Buffer.from([0, 1, 2, 13, 10, 10, 13, 255, 254, 0x1b]);

describe('winrm-connection exec', () => {
  let mock: MockServer;
  before(async () => {
    mock = await startMockServer({
      https: true,
      users: [USER],
      auth: { basic: true },
      commandHost: scriptedHost(
        [
          {
            match: 'emit-binary',
            reply: async (c) => {
              await c.stdout.write(BINARY);
              await c.stderr.write('warn\r\n');
              return 42;
            },
          },
        ],
        { fallback: builtinsHost({}) },
      ),
    });
  });
  after(() => mock.close());

  const flags = () => ['--endpoint', mock.url, '-u', USER.name, '--fingerprint', mock.thumbprints!.sha1];

  it('writes stdout and stderr bytes unchanged and exits with the remote exit code', async () => {
    const t = io({ WINRM_PASSWORD: USER.password });
    assert.equal(await main(['exec', ...flags(), '--', 'emit-binary'], t.io), 42);
    assert.deepEqual(t.out(), BINARY);
    assert.equal(t.err(), 'warn\r\n');
  });

  it('passes several arguments as one quoted command line', async () => {
    const t = io({ WINRM_PASSWORD: USER.password });
    assert.equal(await main(['exec', ...flags(), '--', 'echo', 'a&b'], t.io), 0);
    assert.equal(t.out().toString(), 'a&b\r\n');
  });

  it('a wrong password exits 255 with the typed error and no password', async () => {
    const t = io({ WINRM_PASSWORD: 'Wrong-Passw0rd' });
    assert.equal(await main(['exec', ...flags(), '--', 'hostname'], t.io), 255);
    assert.match(t.err(), /AuthenticationError \[WINRM_AUTH\]/);
    assert.doesNotMatch(t.err(), /Wrong-Passw0rd/);
  });
});
