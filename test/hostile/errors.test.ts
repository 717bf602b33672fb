/**
 * Issue 12, class 8 "every error names its culprit": filesystem errors (a file where the output
 * folder goes, a folder where a file goes, no permission) and onnxruntime refusing a model (an op
 * domain it does not know, a shape that does not fit) are one line naming the file (and the node),
 * exit 2, never "internal error".
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { buildMlp } from '../../src/models/mlp.js';
import { encodeModel } from '../../src/onnx/io.js';
import type { TensorProto } from '../../src/onnx/proto.js';
import { tinyCase, type TinyCase } from '../audit/tiny.js';

const BIN = path.resolve('bin/audit-dataset.js');
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true' } });
const cases: TinyCase[] = [];
afterAll(() => cases.forEach((c) => rmSync(c.dir, { recursive: true, force: true })));

async function auditCase(edit?: (c: TinyCase) => Promise<void>, extra: Record<string, unknown> = {}): Promise<{ c: TinyCase; config: string }> {
  const c = await tinyCase({ rows: 100 });
  cases.push(c);
  await edit?.(c);
  const config = path.join(c.dir, 'audit.yaml');
  await writeFile(config, stringify({ ...c.config, ...extra }));
  return { c, config };
}

function expectOneLine(r: ReturnType<typeof cli>, pattern: RegExp): void {
  expect(r.status, r.stderr).toBe(2);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(lines[0]).not.toMatch(/internal error/);
}

describe('filesystem errors name the path', () => {
  it('audit --out that is a file', async () => {
    const { c, config } = await auditCase();
    const file = path.join(c.dir, 'out-file');
    await writeFile(file, 'x');
    expectOneLine(cli(['audit', '--config', config, '--out', file, '--quiet']), /out-file: cannot use it as the output folder: .*\((EEXIST|ENOTDIR)\)/);
  });
  it('a folder where the data, a model or the config file should be', async () => {
    const { c, config } = await auditCase();
    const folder = path.join(c.dir, 'a-folder.jsonl');
    mkdirSync(folder);
    expectOneLine(cli(['audit', '--config', config, '--data', folder, '--quiet']), /a-folder\.jsonl: (not a file|.*EISDIR)/);
    const modelDir = path.join(c.dir, 'model-dir.onnx');
    mkdirSync(modelDir);
    // A folder given as a model is read as a model folder (transformers.js layout): named, one line.
    expectOneLine(cli(['audit', '--config', config, '--teacher', modelDir, '--quiet']), /model-dir\.onnx: model folder has no onnx\/model\.onnx/);
    expectOneLine(cli(['audit', '--config', c.dir, '--quiet']), new RegExp(`${path.basename(c.dir)}: cannot read config file`));
    expectOneLine(cli(['filter', '--data', folder, '--out', path.join(c.dir, 'f'), '--rules', 'numbers']), /a-folder\.jsonl: not a file/);
  });
  // Running as root, chmod cannot deny anything; sysfs refuses new files even to root.
  it.skipIf(!existsSync('/sys/kernel'))('no permission to create the output folder (sysfs stands in: root ignores chmod)', async () => {
    const { config } = await auditCase();
    expectOneLine(cli(['audit', '--config', config, '--out', '/sys/kernel/audit-dataset-hostile/out', '--quiet']), /\/sys\/kernel\/audit-dataset-hostile\/out: cannot use it as the output folder: .*\((EPERM|EACCES|EROFS|ENOENT)\)/);
    const data = path.join(cases[cases.length - 1]!.dir, 'data.jsonl');
    expectOneLine(cli(['filter', '--data', data, '--out', '/sys/kernel/audit-dataset-hostile', '--rules', 'numbers']), /audit-dataset-hostile: cannot use it as the output folder: .*\((EPERM|EACCES|EROFS|ENOENT)\)/);
  });
});

describe('onnxruntime load errors name the file and the node', () => {
  it('an op in a domain onnxruntime does not know', async () => {
    const { config } = await auditCase(async (c) => {
      const m = buildMlp({ sizes: [4, 8, 5], seed: 1 });
      m.graph!.node![1]!.domain = 'com.evil';
      await writeFile(c.base, encodeModel(m));
      await writeFile(c.teacher, encodeModel(m));
    });
    expectOneLine(cli(['audit', '--config', config, '--quiet']), /base\.onnx: node \/act1\/Relu: onnxruntime cannot load the model: .*com\.evil/);
  });
  it('a weight whose shape does not fit its node (shape inference error)', async () => {
    const { config } = await auditCase(async (c) => {
      const m = buildMlp({ sizes: [4, 8, 5], seed: 1 });
      (m.graph!.initializer!.find((t) => t.name === 'fc1.weight') as TensorProto).dims = [4, 8];
      await writeFile(c.base, encodeModel(m));
      await writeFile(c.teacher, encodeModel(m));
    });
    expectOneLine(cli(['audit', '--config', config, '--quiet']), /base\.onnx: node \/fc1\/Gemm: onnxruntime cannot load the model: .*ShapeInferenceError/);
  });
});
