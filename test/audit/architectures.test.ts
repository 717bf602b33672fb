/**
 * The audit is architecture-agnostic: the same tiny audit runs on a MatMul+Add exporter-style
 * MLP with Tanh and on a small CNN (Conv, MaxPool, Flatten, Gemm) whose input is [N, 1, 6, 6]
 * and whose rows are flat vectors of 36 values.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { audit } from '../../src/audit/audit.js';
import { validateConfig } from '../../src/config/index.js';
import { buildMlp } from '../../src/models/mlp.js';
import { f, GraphBuilder } from '../../src/onnx/builder.js';
import { encodeModel } from '../../src/onnx/io.js';
import { float32Tensor, makeModel, onnx, tensorValueInfo, type ModelProto } from '../../src/onnx/proto.js';
import { initLike } from '../../src/train/init.js';
import { Random } from '../../src/random.js';
import { withWeights } from '../../src/train/weights.js';
import { useTempDirEach } from '../helpers/files.js';

function cnn(seed: number): ModelProto {
  const graph = onnx.GraphProto.create({ name: 'cnn' });
  const b = new GraphBuilder(graph);
  graph.input.push(tensorValueInfo('image', ['N', 1, 6, 6]));
  b.initializer(float32Tensor('conv.weight', [4, 1, 3, 3], new Float32Array(36)));
  b.initializer(float32Tensor('conv.bias', [4], new Float32Array(4)));
  b.initializer(float32Tensor('fc.weight', [5, 16], new Float32Array(80)));
  b.initializer(float32Tensor('fc.bias', [5], new Float32Array(5)));
  const conv = b.op('Conv', ['image', 'conv.weight', 'conv.bias'], { kernel_shape: [3, 3], pads: [0, 0, 0, 0] }); // [N,4,4,4]
  const pooled = b.op('MaxPool', [b.op('Relu', [conv])], { kernel_shape: [2, 2], strides: [2, 2] }); // [N,4,2,2]
  const flat = b.op('Flatten', [pooled], { axis: 1 });
  b.node('Gemm', [flat, 'fc.weight', 'fc.bias'], { alpha: f(1), beta: f(1), transB: 1 }, { outputs: ['logits'] });
  graph.output.push(tensorValueInfo('logits', ['N', 5]));
  const model = makeModel(graph, 17);
  return withWeights(model, initLike(model, seed));
}

const tmp = useTempDirEach('audit-arch-');

/** This test's case (each test builds one), written into its temp folder. */
async function caseFor(teacher: ModelProto, base: ModelProto, inputWidth: number): Promise<Record<string, unknown>> {
  const dir = tmp.dir;
  await writeFile(path.join(dir, 'teacher.onnx'), encodeModel(teacher));
  await writeFile(path.join(dir, 'base.onnx'), encodeModel(base));
  const random = new Random(3);
  const vector = () => Array.from({ length: inputWidth }, () => Number(random.uniform(-1, 1).toFixed(3)));
  const rows = Array.from({ length: 256 }, () => {
    const p = random.next();
    return JSON.stringify({ x: vector(), t: [p, 1 - p] });
  });
  await writeFile(path.join(dir, 'data.jsonl'), `${rows.join('\n')}\n`);
  const probe = Array.from({ length: 40 }, (_, i) => JSON.stringify({ x: vector(), y: i % 3 }));
  await writeFile(path.join(dir, 'probe.jsonl'), `${probe.join('\n')}\n`);
  return {
    teacher: path.join(dir, 'teacher.onnx'),
    base: path.join(dir, 'base.onnx'),
    data: path.join(dir, 'data.jsonl'),
    task: { kind: 'logits', input: 'x', target: 't', outputs: [3, 5] },
    probes: [{ name: 'classes', kind: 'accuracy', data: path.join(dir, 'probe.jsonl'), input: 'x', label: 'y', outputs: [0, 3] }],
    train: { seeds: 2, epochs: 1, batchSize: 32 },
  };
}

describe('audits on other architectures', () => {
  it('runs on a MatMul+Add exporter-style MLP with Tanh', async () => {
    const model = (seed: number) => buildMlp({ sizes: [4, 8, 8, 5], style: 'matmul', activation: 'Tanh', seed });
    const { report } = await audit(validateConfig(await caseFor(model(2), model(1), 4), 'test'));
    expect(report.models.architecture).toMatch(/MatMul x3, Add x3, Tanh x2/);
    expect(report.probes[0]!.student.runs).toHaveLength(2);
    // Every run is a real number, and training really ran (the runs are scores of trained students).
    for (const v of [...report.probes[0]!.student.runs, ...report.probes[0]!.control.runs]) expect(Number.isFinite(v)).toBe(true);
    expect(report.run.steps).toBeGreaterThan(0);
  });

  it('runs on a CNN with an image-shaped input fed from flat rows', async () => {
    const { report } = await audit(validateConfig(await caseFor(cnn(2), cnn(1), 36), 'test'));
    expect(report.models.architecture).toMatch(/Conv x1, Relu x1, MaxPool x1, Flatten x1, Gemm x1/);
    expect(report.models.parameters).toBe(36 + 4 + 80 + 5);
    expect(Number.isFinite(report.screen!.candidateCosine)).toBe(true);
  });
});

describe('models with several outputs', () => {
  const twoOutputs = (seed: number) => {
    const model = buildMlp({ sizes: [4, 8, 5], seed });
    // Exporters often expose hidden states too; put one first so "the first output" is wrong.
    model.graph!.output!.unshift(tensorValueInfo('/act1/Relu_output_0', ['batch', 8]));
    return model;
  };

  it('trains and probes the output named by task.output', async () => {
    const config = await caseFor(twoOutputs(2), twoOutputs(1), 4);
    const { report } = await audit(validateConfig({ ...config, task: { ...(config.task as object), output: 'logits' } }, 'test'));
    expect(report.probes[0]!.student.runs).toHaveLength(2);
  });

  it('warns which output it uses when there are several and none is named', async () => {
    const config = await caseFor(twoOutputs(2), twoOutputs(1), 4);
    const warnings: string[] = [];
    await audit(validateConfig(config, 'test'), { onEvent: (e) => e.kind === 'warning' && warnings.push(e.message) });
    expect(warnings).toEqual([`the models have 2 outputs (/act1/Relu_output_0, logits); using '/act1/Relu_output_0' (set task.output to choose)`]);
  });

  it('names the outputs there are when task.output names none of them', async () => {
    const config = await caseFor(twoOutputs(2), twoOutputs(1), 4);
    const err = await audit(validateConfig({ ...config, task: { ...(config.task as object), output: 'probs' } }, 'test')).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/the model has no output 'probs' \(outputs: \/act1\/Relu_output_0, logits\)/);
  });
});
