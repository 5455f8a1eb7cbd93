/**
 * require() of the ESM build (Node >= 20.19) fails with ERR_REQUIRE_ASYNC_MODULE if any module in the graph
 * uses top-level await. This scans every module in src/ so the rule holds before the build is ever loaded.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const src = fileURLToPath(new URL('../../src/', import.meta.url));

/** Line numbers of `await` / `for await` not inside any function body. */
function topLevelAwaits(name: string, text: string): number[] {
  const file = ts.createSourceFile(name, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const found: number[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionLike(n) || ts.isClassStaticBlockDeclaration(n)) return;
    const isAwait = ts.isAwaitExpression(n) || (ts.isForOfStatement(n) && n.awaitModifier !== undefined);
    if (
      isAwait ||
      (ts.isVariableStatement(n) &&
        (n.declarationList.flags & ts.NodeFlags.AwaitUsing) === ts.NodeFlags.AwaitUsing)
    ) {
      found.push(file.getLineAndCharacterOfPosition(n.getStart()).line + 1);
    }
    ts.forEachChild(n, visit);
  };
  visit(file);
  return found;
}

describe('no top-level await in src/ (require() of the ESM build)', () => {
  it('the scan finds top-level await (negative control)', () => {
    assert.deepEqual(topLevelAwaits('x.ts', 'const a = 1;\nawait Promise.resolve(a);\n'), [2]);
    assert.deepEqual(topLevelAwaits('x.ts', 'for await (const x of []) {}\n'), [1]);
    assert.deepEqual(topLevelAwaits('x.ts', 'if (true) { await using r = res(); }\n'), [1]);
    assert.deepEqual(
      topLevelAwaits('x.ts', 'async function f() { await g(); }\nconst h = async () => await g();\n'),
      [],
    );
  });

  it('no module in src/ has one', () => {
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    assert.ok(files.length > 10, String(files.length));
    const offenders = files.flatMap((f) =>
      topLevelAwaits(f, readFileSync(join(src, f), 'utf8')).map(
        (line) => `${relative(src, join(src, f))}:${line}`,
      ),
    );
    assert.deepEqual(offenders, []);
  });
});
