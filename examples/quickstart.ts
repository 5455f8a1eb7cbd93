/**
 * Quick start: connect, run `hostname` and a failing command, print what came back.
 * Usage: WINRM_ENDPOINT=https://host:5986/wsman WINRM_USER=u WINRM_PASSWORD=p [WINRM_FINGERPRINT=sha1] \
 *        node --import tsx examples/quickstart.ts
 */
import { type ConnectionOptions, connect, parseAccount, WinRmError } from '../src/index.ts';

export async function quickstart(
  options: ConnectionOptions & { username: string },
  print: (line: string) => void = console.log,
): Promise<void> {
  await using conn = await connect(options);

  const host = await conn.execute('hostname');
  print(`hostname -> exit ${host.exitCode}, stdout ${JSON.stringify(host.stdoutText)}`);

  const failing = await conn.execute('type C:\\missing.txt');
  print(`type C:\\missing.txt -> exit ${failing.exitCode}, stderr ${JSON.stringify(failing.stderrText)}`);

  // A file into the account's profile directory, verified by SHA-256 on both sides, then read back.
  const remote = `C:\\Users\\${parseAccount(options.username).user}\\winrm-connection-hello.txt`;
  const up = await conn.upload(Buffer.from('deployed by winrm-connection\r\n'), remote);
  print(`upload -> ${up.bytes} bytes to ${up.remotePath}, sha256 ${up.sha256.slice(0, 16)}...`);
  const back = await conn.execute(['type', remote]);
  print(`type ${remote} -> ${JSON.stringify(back.stdoutText)}`);

  // When something is wrong, the error says what to fix: here, a wrong password.
  await using bad = await connect({ ...options, password: `${options.password}-wrong` });
  try {
    await bad.execute('hostname');
  } catch (err) {
    if (!(err instanceof WinRmError)) throw err;
    print(`wrong password -> ${err.name} [${err.code}]: ${err.message}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const endpoint = process.env.WINRM_ENDPOINT;
  if (!endpoint) {
    console.error('Set WINRM_ENDPOINT, WINRM_USER and WINRM_PASSWORD (or run `npm run demo` for the mock).');
    process.exit(2);
  }
  await quickstart({
    endpoint,
    username: process.env.WINRM_USER ?? '',
    password: process.env.WINRM_PASSWORD ?? '',
    tls: process.env.WINRM_FINGERPRINT ? { fingerprint: process.env.WINRM_FINGERPRINT } : undefined,
    allowUnencrypted: endpoint.startsWith('http:'),
  });
}
