#!/usr/bin/env node
// Import rules for src/ (docs/architecture.md, STYLE.md): no import cycles, and nothing outside src/mock/
// imports src/mock/. Run by .ci/run as `npm run check:imports`.
//
// Cycles are found by madge over the TypeScript sources. `import type` edges count: they vanish at run time,
// so they cannot break module evaluation order, but a type that two modules need from each other is a type in
// the wrong module, and the layering (cli -> connect -> strategy -> ... -> auth + http) is about the sources.
import madge from 'madge';

// Cycles known when this check was introduced, each written as madge prints it. Fix the code, then delete
// the line; a listed cycle that no longer exists fails the check too, so the list only shrinks.
const KNOWN_CYCLES = new Set([]);

// Imports of src/mock/ from outside it, known when this check was introduced ('importer -> imported').
const KNOWN_MOCK_IMPORTS = new Set([
  // The CLI's `mock` subcommand loads the mock with a dynamic import (only when that command runs); the library
  // entry points never reach it. Fix: give the mock its own bin in src/mock/ or move the subcommand there.
  'cli/main.ts -> mock/cli.ts',
]);

const graph = await madge('src', {
  fileExtensions: ['ts'],
  tsConfig: 'tsconfig.json',
  detectiveOptions: { ts: { skipTypeImports: false } },
});
const problems = [];

const cycles = graph.circular().map((c) => c.join(' > '));
for (const c of cycles) if (!KNOWN_CYCLES.has(c)) problems.push(`import cycle: ${c}`);
for (const k of KNOWN_CYCLES) {
  if (!cycles.includes(k)) problems.push(`listed cycle is gone, delete it from KNOWN_CYCLES: ${k}`);
}

const mockImports = [];
for (const [file, deps] of Object.entries(graph.obj())) {
  if (file.startsWith('mock/')) continue;
  for (const d of deps) if (d.startsWith('mock/')) mockImports.push(`${file} -> ${d}`);
}
for (const m of mockImports)
  if (!KNOWN_MOCK_IMPORTS.has(m)) problems.push(`${m}: only src/mock/ may import src/mock/`);
for (const k of KNOWN_MOCK_IMPORTS) {
  if (!mockImports.includes(k))
    problems.push(`listed mock import is gone, delete it from KNOWN_MOCK_IMPORTS: ${k}`);
}

const files = Object.keys(graph.obj()).length;
if (files < 10) problems.push(`only ${files} modules found under src/: is the madge configuration right?`);
if (problems.length > 0) {
  for (const p of problems) console.error(`check:imports: ${p}`);
  process.exit(1);
}
console.log(
  `check:imports: ${files} modules, no new import cycle (${KNOWN_CYCLES.size} known), no new import of mock/ (${KNOWN_MOCK_IMPORTS.size} known)`,
);
