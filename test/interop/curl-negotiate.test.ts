/**
 * `curl --negotiate -u :` (a real SPNEGO client: curl over MIT's GSSAPI, with a ticket from `kinit` in a
 * throw-away realm) sends an Identify to the mock's Kerberos acceptor. curl cannot seal WinRM messages, so the
 * mock runs with AllowUnencrypted=true, as a Windows host would have to. Without a ticket curl gets the 401.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { decodeNegTokenResp, NegState, OID } from '../../src/auth/spnego.ts';
import { type MockServer, startMockServer } from '../../src/mock/index.ts';
import { type Kdc, kdcSkip, startKdc } from '../helpers/kdc.ts';

const run = promisify(execFile);
const IDENTIFY =
  '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ' +
  'xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd">' +
  '<s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>';

function curlSkip(): string | false {
  const k = kdcSkip();
  if (k) return k;
  const probe = spawnSync('curl', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0 && /GSS-API|SPNEGO/.test(probe.stdout)) return false;
  const reason = 'curl with GSS-API/SPNEGO is not installed (apt-get install -y curl)';
  if (process.env.CI === 'true') throw new Error(`CI=true and ${reason}`);
  process.stderr.write(`\n*** SKIPPING curl --negotiate tests: ${reason} ***\n\n`);
  return `SKIPPED: ${reason}`;
}

describe('curl --negotiate against the mock Kerberos acceptor', { skip: curlSkip() }, () => {
  let kdc: Kdc;
  let mock: MockServer;
  let url: string;
  before(async () => {
    kdc = await startKdc();
    mock = await startMockServer({
      users: [{ name: 'alice@winrm.test', password: 'unused' }],
      auth: { negotiate: true, kerberos: { keytab: kdc.keytabPath } },
      allowUnencrypted: true,
    });
    // The SPN is HTTP/<host in the URL>: the realm has HTTP/localhost.
    url = mock.url.replace('127.0.0.1', 'localhost');
  });
  after(async () => {
    await mock?.close();
    await kdc?.stop();
  });

  async function curl(ccache: string) {
    const headers = join(kdc.dir, 'headers.txt');
    const r = await run(
      'curl',
      [
        '-s',
        '--negotiate',
        '-u',
        ':',
        '-D',
        headers,
        '-o',
        '-',
        '-w',
        '\n%{http_code}',
        '-H',
        'Content-Type: application/soap+xml;charset=UTF-8',
        '--data-binary',
        IDENTIFY,
        url,
      ],
      { env: { ...process.env, ...kdc.env, KRB5CCNAME: `FILE:${ccache}` }, timeout: 30_000 },
    ).catch((e: { stdout?: string; stderr?: string; code?: number }) => ({
      stdout: e.stdout ?? '',
      stderr: `${e.stderr ?? ''} (exit ${e.code})`,
    }));
    const lines = r.stdout.trimEnd().split('\n');
    const status = Number(lines.pop());
    return { status, body: lines.join('\n'), headers: readFileSync(headers, 'latin1'), stderr: r.stderr };
  }

  it('authenticates with a ticket from kinit and gets the IdentifyResponse', async () => {
    await kdc.kinit();
    const r = await curl(kdc.ccachePath);
    assert.equal(r.status, 200, r.stderr);
    assert.match(r.body, /<wsmid:IdentifyResponse/);
    // The 200 carries the final SPNEGO token: accept-completed, Kerberos, with the AP-REP.
    const final = /^WWW-Authenticate: Negotiate (\S+)\r?$/im.exec(r.headers);
    assert.ok(final, r.headers);
    const resp = decodeNegTokenResp(Buffer.from(final[1]!, 'base64'));
    assert.equal(resp.negState, NegState.acceptCompleted);
    assert.equal(resp.supportedMech, OID.kerberos);
    assert.ok(resp.responseToken && resp.responseToken.length > 0);
    const entry = mock.requestLog.at(-1)!;
    assert.equal(entry.authScheme, 'Negotiate');
    assert.equal(entry.user, 'alice');
  });

  it('gets 401 with the challenge list when it has no ticket', async () => {
    const r = await curl(join(kdc.dir, 'no-such-ccache'));
    assert.equal(r.status, 401);
    assert.match(r.headers, /^WWW-Authenticate: Negotiate\r?$/im);
    assert.match(r.headers, /^WWW-Authenticate: Kerberos\r?$/im);
  });
});
