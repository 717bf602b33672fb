/**
 * Imports run one way, downward. This test reads the import statements of every file under src/
 * and fails on any import the layer table below does not allow, naming the file and the import.
 *
 * The layer table (the one place it is written):
 *
 *   cli -> audit -> probes | models -> train -> autodiff -> onnx       (the stack)
 *
 *   Each stack layer may import every layer below it; probes and models share a level and do not
 *   import each other. Beside the stack sit four folders that know nothing of training:
 *
 *   config   may import report, stats, data   (the config schema reuses the policy and format shapes)
 *   report   may import stats, data           (report.json carries the statistics' result objects)
 *   filters  may import data                  (filters read rows)
 *   stats, data, service                      import no other folder (service: the HTTP client of an OpenAI-compatible fine-tuning API and its types)
 *
 *   Only the orchestration layers (cli, audit, and the library entry src/index.ts) may import the
 *   folders beside the stack. The bottom files (errors.ts, events.ts, rows.ts, jsonSchema.ts, random.ts) import nothing of
 *   ours and may be imported by everyone.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const STACK: readonly (readonly string[])[] = [['cli'], ['audit'], ['probes', 'models'], ['train'], ['autodiff'], ['onnx']];
const BESIDE: Readonly<Record<string, readonly string[]>> = {
  config: ['report', 'stats', 'data'],
  report: ['stats', 'data'],
  filters: ['data'],
  stats: [],
  data: [],
  service: [],
};
const ORCHESTRATION = ['cli', 'audit', 'index.ts'];
const BOTTOM = ['errors.ts', 'events.ts', 'rows.ts', 'jsonSchema.ts', 'random.ts'];

/** The table above as "unit -> units it may import" (a unit is a folder or a top-level file of src/). */
function allowedImports(): Map<string, Set<string>> {
  const allowed = new Map<string, Set<string>>();
  const besideAll = Object.keys(BESIDE);
  STACK.forEach((level, i) => {
    const below = STACK.slice(i + 1).flat();
    for (const unit of level) allowed.set(unit, new Set([...below, ...BOTTOM, ...(ORCHESTRATION.includes(unit) ? besideAll : [])]));
  });
  for (const [unit, imports] of Object.entries(BESIDE)) allowed.set(unit, new Set([...imports, ...BOTTOM]));
  allowed.set('index.ts', new Set([...STACK.flat(), ...besideAll, ...BOTTOM]));
  for (const unit of BOTTOM) allowed.set(unit, new Set());
  return allowed;
}

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const TEST = fileURLToPath(new URL('./', import.meta.url));
const SCRIPTS = fileURLToPath(new URL('../scripts/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : name.endsWith('.ts') ? [full] : [];
  });
}

/**
 * Tests test the library: an import of scripts/ from a test file (helpers and fixtures included)
 * means a script holds logic the tests depend on, which belongs in src/ (or in test/helpers when
 * it only serves tests and scripts). Scripts may import test helpers and fixtures, not the reverse.
 */
function testImportsOfScripts(): string[] {
  return sourceFiles(TEST).flatMap((file) =>
    importSpecifiers(readFileSync(file, 'utf8'))
      .filter((specifier) => specifier.startsWith('.') && path.resolve(path.dirname(file), specifier).startsWith(SCRIPTS))
      .map((specifier) => `${path.relative(path.dirname(TEST), file)}: import '${specifier}'`),
  );
}

/** Every module specifier of a file: static imports and re-exports (type-only too), side-effect and dynamic imports. */
function importSpecifiers(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s+(?:type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of text.matchAll(re)) found.push(m[1]!);
  return found;
}

/** The unit (folder, or top-level file) of a path inside src/. */
function unitOf(file: string): string {
  return path.relative(SRC, file).split(path.sep)[0]!;
}

interface Violation {
  file: string;
  specifier: string;
  why: string;
}

function violations(): Violation[] {
  const allowed = allowedImports();
  const out: Violation[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = unitOf(file);
    const rel = path.relative(path.dirname(SRC), file);
    const may = allowed.get(from);
    if (!may) {
      out.push({ file: rel, specifier: '', why: `src/${from} is not in the layer table (test/layering.test.ts): place it there` });
      continue;
    }
    for (const specifier of importSpecifiers(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) continue; // packages and node: builtins
      const target = path.resolve(path.dirname(file), specifier);
      if (!target.startsWith(SRC)) {
        out.push({ file: rel, specifier, why: 'imports from outside src/' });
        continue;
      }
      const to = unitOf(target).replace(/\.js$/, '.ts');
      if (to === from || may.has(to)) continue;
      out.push({ file: rel, specifier, why: `${from} may not import ${to}` });
    }
  }
  return out;
}

describe('layering', () => {
  it('every import in src/ runs downward through the layer table', () => {
    const found = violations();
    const lines = found.map((v) => `${v.file}: import '${v.specifier}' (${v.why})`);
    expect(lines, `upward or sideways imports:\n${lines.join('\n')}`).toEqual([]);
  });

  it('no test file imports from scripts/', () => {
    const found = testImportsOfScripts();
    expect(found, `tests importing scripts/ (move the logic to src/ or test/helpers):\n${found.join('\n')}`).toEqual([]);
  });

  it('the import reader sees every form of import', () => {
    const text = [
      "import { a } from '../a/x.js';",
      "import type { B } from '../b/y.js';",
      "export { c } from '../c/z.js';",
      "export type { D } from '../d/w.js';",
      "import {\n  e,\n  f,\n} from '../e/v.js';",
      "import '../g/side.js';",
      "const h = await import('../h/lazy.js');",
      "export * from '../i/all.js';",
    ].join('\n');
    expect(importSpecifiers(text)).toEqual(
      expect.arrayContaining(['../a/x.js', '../b/y.js', '../c/z.js', '../d/w.js', '../e/v.js', '../g/side.js', '../h/lazy.js', '../i/all.js']),
    );
  });

  it('the table rejects the upward imports it exists to stop', () => {
    const allowed = allowedImports();
    const forbidden: [string, string][] = [
      ['onnx', 'autodiff'], ['train', 'models'], ['stats', 'report'], ['probes', 'models'], ['models', 'probes'],
      ['data', 'filters'], ['train', 'data'], ['report', 'audit'], ['errors.ts', 'data'],
    ];
    for (const [from, to] of forbidden) expect(allowed.get(from)!.has(to), `${from} -> ${to}`).toBe(false);
    for (const [from, to] of [['cli', 'onnx'], ['audit', 'report'], ['models', 'train'], ['report', 'stats']] as const) {
      expect(allowed.get(from)!.has(to), `${from} -> ${to}`).toBe(true);
    }
  });
});
