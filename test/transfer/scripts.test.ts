/**
 * Every .ps1 asset is parsed by a real PowerShell grammar (airbus-cert's tree-sitter-powershell, compiled to
 * WebAssembly as VS Code ships it in @vscode/tree-sitter-wasm) through web-tree-sitter: no syntax errors.
 * WebAssembly, not the native tree-sitter binding, so `npm ci` compiles nothing (no C++ compiler needed).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Language, type Node, Parser } from 'web-tree-sitter';
import { SCRIPT_ASSETS } from '../../src/transfer/scripts.generated.ts';
import { INCLUDE_COMMON, scriptText, transferCommandLine } from '../../src/transfer/scripts.ts';

const dir = fileURLToPath(new URL('../../src/transfer/', import.meta.url));
const buildScript = fileURLToPath(new URL('../../scripts/build.mjs', import.meta.url));
const assets = readdirSync(dir).filter((f) => f.endsWith('.ps1'));
const grammar = createRequire(import.meta.url).resolve(
  '@vscode/tree-sitter-wasm/wasm/tree-sitter-powershell.wasm',
);

let parser: Parser | undefined;

function syntaxErrors(source: string): string[] {
  assert.ok(parser, 'parser initialised');
  const tree = parser.parse(source);
  assert.ok(tree, 'parse returned a tree');
  const errors: string[] = [];
  // Descend only into subtrees that hold an error (hasError covers ERROR and MISSING nodes below a node).
  const walk = (n: Node) => {
    if (n.type === 'ERROR' || n.isMissing) {
      errors.push(
        `${n.startPosition.row + 1}:${n.startPosition.column + 1} ${n.type} ${n.text.slice(0, 60)}`,
      );
    }
    for (const c of n.children) if (c?.hasError || c?.isMissing) walk(c);
  };
  if (tree.rootNode.hasError) walk(tree.rootNode);
  if (errors.length === 0 && tree.rootNode.hasError) errors.push('root reports an error');
  tree.delete();
  return errors;
}

describe('transfer scripts (.ps1 assets)', () => {
  before(async () => {
    // The grammar is a 1 MB module of parse tables: V8's optimising tier (TurboFan) spends about a minute of CPU
    // on it in background threads and the process cannot exit until that is done, while the baseline tier
    // (Liftoff) compiles it in milliseconds and parses these scripts just as well. Set before any compile.
    setFlagsFromString('--liftoff-only');
    await Parser.init();
    parser = new Parser();
    parser.setLanguage(await Language.load(readFileSync(grammar)));
  });

  it('are all there', () => {
    assert.deepEqual(assets.sort(), [
      'bootstrap.ps1',
      'cleanup.ps1',
      'common.ps1',
      'download.ps1',
      'list.ps1',
      'upload.ps1',
    ]);
  });

  for (const name of assets) {
    it(`${name} parses without syntax errors`, () => {
      assert.deepEqual(syntaxErrors(readFileSync(`${dir}${name}`, 'utf8')), []);
    });
  }

  for (const name of ['upload', 'download', 'list', 'cleanup'] as const) {
    it(`${name}.ps1 as sent (common.ps1 included) parses and has no include line left`, () => {
      const text = scriptText(name);
      assert.ok(!text.includes(INCLUDE_COMMON), 'include line replaced');
      assert.match(text, /function Write-Line/);
      assert.deepEqual(syntaxErrors(text), []);
    });
  }

  it('the parser does find errors (negative control)', () => {
    assert.notDeepEqual(syntaxErrors('function f( { $x = (1 + }'), []);
    assert.notDeepEqual(syntaxErrors('if ($a -eq 1 { "x" }'), []);
  });

  it('a real asset with one closing brace removed is reported (negative control)', () => {
    const text = readFileSync(`${dir}upload.ps1`, 'utf8');
    const last = text.lastIndexOf('}');
    assert.ok(last > 0, 'upload.ps1 has a closing brace');
    assert.notDeepEqual(syntaxErrors(text.slice(0, last) + text.slice(last + 1)), []);
  });

  it('the bootstrap command line stays far below cmd.exe limit of 8,191 characters', () => {
    assert.ok(transferCommandLine().length < 2000, String(transferCommandLine().length));
  });

  it('scripts use only what Windows PowerShell 2.0 has (no ConvertFrom-Json, CopyTo, ::new, -Raw)', () => {
    for (const name of assets) {
      const text = readFileSync(`${dir}${name}`, 'utf8')
        .split('\n')
        .filter((l) => !l.trimStart().startsWith('#'))
        .join('\n');
      assert.doesNotMatch(text, /ConvertFrom-Json|ConvertTo-Json|\.CopyTo\(|::new\(|-Raw\b|\?\?/, name);
    }
  });

  it('scripts.generated.ts holds exactly the .ps1 files (what the client sends comes from it)', () => {
    const names = assets.map((f) => f.slice(0, -'.ps1'.length)).sort();
    assert.deepEqual(Object.keys(SCRIPT_ASSETS).sort(), names);
    for (const name of names) {
      assert.equal(
        SCRIPT_ASSETS[name],
        readFileSync(`${dir}${name}.ps1`, 'utf8'),
        `${name}.ps1 embedded as is`,
      );
    }
    const common = readFileSync(`${dir}common.ps1`, 'utf8');
    const upload = readFileSync(`${dir}upload.ps1`, 'utf8').replace(`${INCLUDE_COMMON}\n`, common);
    assert.equal(scriptText('upload'), upload);
  });

  it('build.mjs --check-scripts passes here and fails once a .ps1 changes (negative control)', () => {
    const here = spawnSync(process.execPath, [buildScript, '--check-scripts'], { encoding: 'utf8' });
    assert.equal(here.status, 0, here.stderr);
    const copy = mkdtempSync(join(tmpdir(), 'wrcp-gen-'));
    try {
      mkdirSync(join(copy, 'scripts'));
      cpSync(buildScript, join(copy, 'scripts', 'build.mjs'));
      cpSync(dir, join(copy, 'src', 'transfer'), { recursive: true });
      writeFileSync(
        join(copy, 'src', 'transfer', 'list.ps1'),
        `${readFileSync(`${dir}list.ps1`, 'utf8')}# changed\n`,
      );
      const stale = spawnSync(process.execPath, [join(copy, 'scripts', 'build.mjs'), '--check-scripts'], {
        encoding: 'utf8',
      });
      assert.equal(stale.status, 1);
      assert.match(stale.stderr, /does not match the \.ps1 files: run node scripts\/build\.mjs --scripts/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
