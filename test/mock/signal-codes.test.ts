/** Signal codes the mock accepts, spelled as [MS-WSMV] 2.2.4.38 and wsman.h write them; other codes fault. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { builtinsHost, type MockServer, scriptedHost } from '../../src/mock/index.ts';
import { buildSignal, SIGNALS } from '../../src/wsman/index.ts';
import { RawClient, startBasicMock } from './helpers.ts';

const SHELL_SIGNAL = 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/';

describe('mock Signal codes', () => {
  let mock: MockServer;
  let client: RawClient;
  before(async () => {
    mock = await startBasicMock({
      commandHost: scriptedHost(
        [
          {
            match: 'wait-for-signal',
            reply: async (c) => {
              await new Promise((r) => c.signal.addEventListener('abort', r, { once: true }));
              return 0;
            },
          },
        ],
        { fallback: builtinsHost() },
      ),
    });
    client = new RawClient(mock.url);
  });
  after(async () => {
    client.close();
    await mock.close();
  });

  /** A Signal request for a running command with `code` in rsp:Code instead of the builder's terminate. */
  async function signalWith(code: string) {
    const shellId = await client.createShell();
    const commandId = await client.command(shellId, 'wait-for-signal');
    const xml = buildSignal(client.ctx(), { shellId, commandId, signal: 'terminate' });
    assert.ok(xml.includes(`>${SIGNALS.terminate}<`), 'the builder writes the lower-case terminate code');
    const res = await client.post(xml.replace(`>${SIGNALS.terminate}<`, `>${code}<`));
    const signals = mock.shells().find((s) => s.shellId === shellId)?.commands[0]?.signals;
    await client.deleteShell(shellId);
    return { res, signals };
  }

  it('accepts Terminate with a capital T, as [MS-WSMV] 2.2.4.38 writes it', async () => {
    const { res, signals } = await signalWith(`${SHELL_SIGNAL}Terminate`);
    assert.equal(res.status, 200, res.body.slice(0, 300));
    assert.match(res.body, /<rsp:SignalResponse\/>/);
    assert.deepEqual(signals, ['terminate']);
  });

  it('accepts the lower-case terminate, ctrl_c and ctrl_break (wsman.h spellings)', async () => {
    for (const [name, code] of Object.entries(SIGNALS)) {
      const { res, signals } = await signalWith(code);
      assert.equal(res.status, 200, `${code}: ${res.body.slice(0, 300)}`);
      assert.deepEqual(signals, [name]);
    }
  });

  it('refuses unknown codes and unspecified case variants with w:InvalidParameter', async () => {
    for (const code of [
      `${SHELL_SIGNAL}TERMINATE`,
      `${SHELL_SIGNAL}Ctrl_C`,
      `${SHELL_SIGNAL}CTRL_BREAK`,
      `${SHELL_SIGNAL}kill`,
      'terminate',
    ]) {
      const { res, signals } = await signalWith(code);
      assert.equal(res.status, 500, code);
      assert.match(res.body, /w:InvalidParameter/, code);
      assert.deepEqual(signals, [], code);
    }
  });
});
