/** `audit-dataset inspect` end to end (needs `npm run build`; `npm test` runs it first). */
import { rename, writeFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../src/onnx/builder.js';
import { writeModel } from '../src/onnx/io.js';
import { makeModel, onnx, tensorValueInfo } from '../src/onnx/proto.js';
import { mlpModel } from './helpers/models.js';
import { writeModelFolder } from '../src/models/folder.js';
import { buildGpt } from '../src/models/gpt.js';
import { readWeights } from '../src/train/weights.js';
import { FOLDER_SPEC, GPT } from './audit/textPair.js';
import { mergedDecoder } from './models/mergedDecoder.js';

import { runCli } from './helpers/cli.js';
import { useTempDir } from './helpers/files.js';

const cli = async (...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> => {
  const r = runCli(args);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

const tmp = useTempDir('inspect-');
beforeAll(async () => {
  await writeModel(mlpModel({ sizes: [784, 256, 256, 13], seed: 1 }), tmp.file('teacher.onnx'));
  await writeModel(mlpModel({ sizes: [784, 256, 256, 13], seed: 2 }), tmp.file('base.onnx'));
  await writeModel(mlpModel({ sizes: [784, 128, 256, 13], seed: 2 }), tmp.file('small.onnx'));
  // A model with an op that has no gradient rule on the path from its parameter to its output.
  const graph = onnx.GraphProto.create({ name: 'odd' });
  graph.input.push(tensorValueInfo('x', ['N', 3]));
  const b = new GraphBuilder(graph);
  b.constFloat(new Array(9).fill(0.1), [3, 3], 'w');
  b.node('HardSigmoid', [b.op('MatMul', ['x', 'w'])], {}, { outputs: ['y'], name: 'hs_1' });
  graph.output.push(tensorValueInfo('y', ['N', 3]));
  await writeModel(makeModel(graph), tmp.file('odd.onnx'));
  await writeFile(tmp.file('junk.onnx'), 'not a model');
});

describe('audit-dataset inspect', () => {
  it('prints shapes, parameter count, op histogram, trainable', async () => {
    const r = await cli('inspect', '--model', tmp.file('teacher.onnx'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('input  float [N,784]');
    expect(r.stdout).toContain('logits  float [N,13]');
    expect(r.stdout).toContain('parameters: 270,093 in 6 tensors');
    expect(r.stdout).toContain('ops: Gemm 3, Relu 2');
    expect(r.stdout).toContain('trainable: yes');
  });

  it('--compare --json: same and different architectures', async () => {
    const same = JSON.parse((await cli('inspect', '--model', tmp.file('teacher.onnx'), '--compare', tmp.file('base.onnx'), '--json')).stdout);
    expect(same).toMatchObject({ params: 270093, trainable: true, unsupported: [], sameArchitecture: true });
    const r = await cli('inspect', '--model', tmp.file('teacher.onnx'), '--compare', tmp.file('small.onnx'), '--json');
    expect(r.code).toBe(0);
    const diff = JSON.parse(r.stdout);
    expect(diff.sameArchitecture).toBe(false);
    expect(diff.firstDifference).toBe('fc1.weight: [256,784] vs [128,784]');
  });

  it('takes a model folder (transformers.js layout) for --model and --compare', async () => {
    // Two merged decoders of other weights and layouts: the same architecture as training reads it.
    for (const [name, seed, layout] of [['merged-a', 3, 'shared'], ['merged-b', 4, 'in-branches']] as const) {
      await writeModelFolder(tmp.file(name), { model: mergedDecoder(GPT, readWeights(buildGpt({ ...GPT, seed })), layout), ...FOLDER_SPEC });
      await rename(tmp.file(`${name}/onnx/model.onnx`), tmp.file(`${name}/onnx/decoder_model_merged.onnx`));
    }
    const r = await cli('inspect', '--model', tmp.file('merged-a'), '--compare', tmp.file('merged-b'), '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ mergedDecoder: true, trainable: true, sameArchitecture: true });
    await writeModelFolder(tmp.file('plain'), { model: buildGpt({ ...GPT, seed: 3 }), ...FOLDER_SPEC });
    const plain = JSON.parse((await cli('inspect', '--model', tmp.file('plain'), '--json')).stdout);
    expect(plain.trainable).toBe(true);
    expect(plain.mergedDecoder).toBeUndefined();
    const missing = await cli('inspect', '--model', tmp.dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/model folder has no onnx\/model\.onnx \(nor onnx\/decoder_model_merged\.onnx\)/);
  });

  it('lists unsupported ops on the gradient path', async () => {
    const r = await cli('inspect', '--model', tmp.file('odd.onnx'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('trainable: no (no gradient rule on the gradient path: HardSigmoid at hs_1)');
  });

  it('exits 2 with a one-line message naming a bad file', async () => {
    const r = await cli('inspect', '--model', tmp.file('junk.onnx'));
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${tmp.file('junk.onnx')}: not an ONNX model`);
  });
});
