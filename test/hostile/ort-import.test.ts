/**
 * Issue 12, class 3: onnxruntime must load only after telemetry is switched off. Every module that
 * uses it imports src/onnx/ort.ts (which sets ORT_DISABLE_TELEMETRY first), never the package itself.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');
const files = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));

describe('onnxruntime is imported through src/onnx/ort.ts only', () => {
  it('no other source file imports onnxruntime-node directly', () => {
    const direct = files(SRC)
      .filter((f) => path.relative(SRC, f) !== path.join('onnx', 'ort.ts'))
      .filter((f) => /from\s+['"]onnxruntime-node['"]|import\(\s*['"]onnxruntime-node['"]\s*\)/.test(readFileSync(f, 'utf8')))
      .map((f) => path.relative(SRC, f));
    expect(direct).toEqual([]);
  });
});
