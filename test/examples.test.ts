/** `npm run demo` (examples/demo.ts running examples/quickstart.ts against the mock) keeps working. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runDemo } from '../examples/demo.ts';

describe('npm run demo', () => {
  it('runs hostname, a failing command, an upload and a wrong password against the HTTPS mock', async () => {
    const lines: string[] = [];
    const openShells = await runDemo((l) => lines.push(l));
    assert.match(lines[0]!, /^mock WinRM endpoint: https:\/\/127\.0\.0\.1:\d+\/wsman$/);
    assert.match(lines[1]!, /^certificate thumbprint \(SHA-1\): [0-9A-F]{40}$/);
    assert.match(lines[2]!, /hostname -> exit 0, stdout "WIN-DEMO01\\r\\n"/);
    assert.match(lines[3]!, /exit 1, stderr "The system cannot find the file specified/);
    assert.match(lines[4]!, /upload -> 30 bytes to C:\\Users\\demo\\winrm-connection-hello.txt/);
    assert.match(lines[5]!, /"deployed by winrm-connection\\r\\n"/);
    assert.match(lines[6]!, /AuthenticationError \[WINRM_AUTH\].*Basic="true"/);
    assert.equal(openShells, 0, 'the quick start closed every shell it opened');
  });
});
