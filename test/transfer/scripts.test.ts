/** Every .ps1 asset is parsed by a real PowerShell grammar (tree-sitter-powershell): no syntax errors. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Parser from 'tree-sitter';
import PowerShell from 'tree-sitter-powershell';
import { INCLUDE_COMMON, scriptText, transferCommandLine } from '../../src/transfer/scripts.ts';

const dir = fileURLToPath(new URL('../../src/transfer/', import.meta.url));
const assets = readdirSync(dir).filter((f) => f.endsWith('.ps1'));

interface SyntaxNode {
  type: string;
  isMissing: boolean;
  startPosition: { row: number; column: number };
  text: string;
  children: SyntaxNode[];
}

function syntaxErrors(source: string): string[] {
  const parser = new Parser();
  parser.setLanguage(PowerShell as Parameters<Parser['setLanguage']>[0]);
  const errors: string[] = [];
  const walk = (n: SyntaxNode) => {
    if (n.type === 'ERROR' || n.isMissing) {
      errors.push(
        `${n.startPosition.row + 1}:${n.startPosition.column + 1} ${n.type} ${n.text.slice(0, 60)}`,
      );
    }
    for (const c of n.children) walk(c);
  };
  walk(parser.parse(source).rootNode as unknown as SyntaxNode);
  return errors;
}

describe('transfer scripts (.ps1 assets)', () => {
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
});
