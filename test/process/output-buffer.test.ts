/** OutputBuffer and the lazily decoded ExecuteResult text (src/process/io.ts). */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { collectOutput, lazyText, OutputBuffer, SMALL_OUTPUT_BYTES } from '../../src/process/io.ts';

describe('output collection', () => {
  it('stdoutText and stderrText are decoded on first access, once, and stay enumerable', () => {
    let decodes = 0;
    const r = lazyText(
      { exitCode: 0 },
      {
        stdoutText: () => {
          decodes++;
          return 'out';
        },
      },
    );
    assert.equal(decodes, 0);
    assert.equal(r.stdoutText, 'out');
    assert.equal(r.stdoutText, 'out');
    assert.equal(decodes, 1);
    assert.deepEqual(Object.keys(r), ['exitCode', 'stdoutText']);
    assert.equal(JSON.stringify(r), '{"exitCode":0,"stdoutText":"out"}');
  });

  it('OutputBuffer keeps bytes exactly across the switch to one growing store, and collectOutput cuts at max', async () => {
    const buf = new OutputBuffer(8 * SMALL_OUTPUT_BYTES);
    const expected: Buffer[] = [];
    for (let i = 0; i < 40; i++) {
      const c = Buffer.alloc(100_000 + i, i);
      expected.push(c);
      buf.append(c);
    }
    assert.ok(Buffer.concat(expected).equals(buf.take()));
    const chunks = Array.from({ length: 30 }, (_, i) => Buffer.alloc(65_536, i));
    const max = 1_500_000;
    const got = await collectOutput(Readable.from(chunks), max);
    assert.equal(got.truncated, true);
    assert.ok(got.data.equals(Buffer.concat(chunks).subarray(0, max)));
  });
});
