/**
 * The engine against PyTorch on decoders as torch.onnx.export writes them (GPT-2 and Llama style,
 * opset 14 and 17, a float16 residual path). fixtures/reference/ holds each exported graph and
 * PyTorch's logits, masked token cross-entropy and parameter gradients for one right-padded batch
 * (made by scripts/reference/export_decoders.py; no Python needed here). The gradients come from
 * the engine's own path: the tokenCrossEntropy loss fragment, inferShapes and buildGradients;
 * and again with the output layer computed at the loss positions only (src/train/narrowHead.ts).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildGradients } from '../../src/autodiff/gradients.js';
import { trainingOpset } from '../../src/autodiff/opset.js';
import { retieWeights } from '../../src/autodiff/tied.js';
import { buildTrainingModel } from '../../src/train/trainingGraph.js';
import { trainableParams } from '../../src/train/weights.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { readModel } from '../../src/onnx/io.js';
import { defaultOpset, graphOf, onnx, valueInfoDims } from '../../src/onnx/proto.js';
import { inferShapes } from '../../src/onnx/shapes.js';
import { appendLoss } from '../../src/train/losses.js';
import { gatherLossPositions, narrowTokenHead } from '../../src/train/narrowHead.js';

const DIR = join(import.meta.dirname, '..', '..', 'fixtures', 'reference');
/** ||g_ours - g_torch|| / ||g_torch|| per parameter, and |loss - loss_torch| / |loss_torch|. */
const MAX_RELATIVE_ERROR = 1e-4;

interface Reference {
  model: string;
  opset: number;
  inputs: Record<string, number[][]>;
  targets: number[][];
  targetMask: number[][];
  loss: number;
  logits: { shape: number[]; offset: number };
  params: { name: string; shape: number[]; offset: number; initializers: { name: string; transposed: boolean }[] }[];
}

const int64 = (rows: number[][]): ort.Tensor => new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);
const float32 = (rows: number[][]): ort.Tensor => new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, rows[0]!.length]);

/** [r, c] -> [c, r]. */
function transpose(values: Float32Array, [r, c]: number[]): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < r!; i++) for (let j = 0; j < c!; j++) out[j * r! + i] = values[i * c! + j]!;
  return out;
}

function relativeError(ours: Float32Array, theirs: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < theirs.length; i++) {
    diff += (ours[i]! - theirs[i]!) ** 2;
    norm += theirs[i]! ** 2;
  }
  return Math.sqrt(diff) / Math.sqrt(norm);
}

interface Comparison {
  lossError: number;
  /** Undefined with a narrowed head (the full logits are not computed). */
  logitsError?: number;
  /** parameter name -> relative gradient error */
  gradErrors: Map<string, number>;
  /** Folded copies of tied weights that retieWeights removed. */
  retied: string[];
}

async function compareWithTorch(name: string, narrow = false): Promise<Comparison> {
  const ref = JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as Reference;
  const bin = readFileSync(join(DIR, `${name}.bin`));
  const floats = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  const model = await readModel(join(DIR, ref.model));
  expect(defaultOpset(model)).toBe(ref.opset);
  const retied = retieWeights(model);
  const present = new Set(graphOf(model).initializer.map((t) => t.name));
  // Every PyTorch parameter is a trainable parameter of the graph, and nothing else is (no buffer).
  const located = ref.params.map((p) => ({ ...p, initializers: p.initializers.filter((i) => present.has(i.name)) }));
  expect(trainableParams(model).map((t) => t.name).sort()).toEqual(located.flatMap((p) => p.initializers.map((i) => i.name)).sort());
  const opset = trainingOpset(model);
  const graph = graphOf(model);
  const b = new GraphBuilder(graph, 'train/');
  const logits = graph.output[0]!.name!;
  let outputDims = [...(valueInfoDims(graph.output[0]!) ?? [])];
  let lossOutput = logits;
  let positions: string | undefined;
  if (narrow) {
    const narrowed = narrowTokenHead(graph, b, logits, await inferShapes(model));
    expect(narrowed).toBeDefined();
    lossOutput = narrowed!.output;
    outputDims = [...narrowed!.outputDims];
    positions = narrowed!.positions.name!;
    graph.input.push(narrowed!.positions);
    graph.output = graph.output.filter((o) => o.name !== logits);
  }
  const loss = appendLoss({ builder: b, opset, output: lossOutput, outputDims }, { kind: 'tokenCrossEntropy' });
  graph.input.push(...loss.inputs);
  const shapes = await inferShapes(model);
  const wrt = located.flatMap((p) => p.initializers.map((i) => i.name));
  const grads = buildGradients({ graph, loss: loss.loss, wrt, shapes, opset });
  graph.output.push(onnx.ValueInfoProto.create({ name: loss.loss }));
  for (const w of wrt) graph.output.push(onnx.ValueInfoProto.create({ name: grads.get(w)! }));

  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
  const [targets, mask] = loss.inputs.map((i) => i.name!);
  const feeds: Record<string, ort.Tensor> = { [targets!]: int64(ref.targets), [mask!]: float32(ref.targetMask) };
  if (positions) {
    const g = gatherLossPositions(Float32Array.from(ref.targetMask.flat()), BigInt64Array.from(ref.targets.flat().map(BigInt)), undefined);
    feeds[positions] = new ort.Tensor('int64', g.positions, [g.positions.length]);
    feeds[targets!] = new ort.Tensor('int64', g.targets, [1, g.positions.length]);
    feeds[mask!] = new ort.Tensor('float32', g.mask, [1, g.positions.length]);
  }
  for (const [input, rows] of Object.entries(ref.inputs)) feeds[input] = int64(rows);
  const out = await session.run(feeds);
  await session.release();

  const ourLoss = (out[loss.loss]!.data as Float32Array)[0]!;
  const numel = ref.logits.shape.reduce((a, d) => a * d, 1);
  const logitsError = narrow ? undefined : relativeError(out[logits]!.data as Float32Array, floats.subarray(ref.logits.offset, ref.logits.offset + numel));
  const gradErrors = new Map<string, number>();
  for (const p of located) {
    const size = p.shape.reduce((a, d) => a * d, 1);
    const ours = new Float32Array(size);
    // A parameter stored twice (were a tied head's folded copy not re-tied) gets the sum.
    for (const init of p.initializers) {
      const g = out[grads.get(init.name)!]!.data as Float32Array;
      const aligned = init.transposed ? transpose(g, [p.shape[1]!, p.shape[0]!]) : g;
      for (let i = 0; i < size; i++) ours[i]! += aligned[i]!;
    }
    gradErrors.set(p.name, relativeError(ours, floats.subarray(p.offset, p.offset + size)));
  }
  return { lossError: Math.abs(ourLoss - ref.loss) / Math.abs(ref.loss), logitsError, gradErrors, retied: retied.map((r) => r.copy) };
}

const models = readdirSync(DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).sort();

describe('gradients of PyTorch-exported decoders match PyTorch', () => {
  it('the reference set covers GPT-2 and Llama styles at opsets 14 and 17', () => {
    expect(models.some((m) => m.startsWith('gpt2') && m.endsWith('op14'))).toBe(true);
    expect(models.some((m) => m.startsWith('gpt2') && m.endsWith('op17'))).toBe(true);
    expect(models.some((m) => m.startsWith('llama') && m.endsWith('op14'))).toBe(true);
    expect(models.some((m) => m.startsWith('llama') && m.endsWith('op17'))).toBe(true);
  });
  it('the whole training graph (loss, backward, AdamW) of an opset-14 export is raised to opset 16 and loads', async () => {
    const model = await readModel(join(DIR, 'llama_rsqrt_boolmask_gqa_op14.onnx'));
    retieWeights(model);
    const { model: training, io } = await buildTrainingModel(model, { loss: { kind: 'tokenCrossEntropy' }, optimizer: { kind: 'adamw', lr: 1e-3 } });
    expect(defaultOpset(training)).toBe(16);
    expect(io.data).toEqual(['input_ids', 'attention_mask', 'position_ids']);
    const session = await ort.InferenceSession.create(onnx.ModelProto.encode(training).finish());
    expect(session.outputNames).toContain(io.loss);
    await session.release();
  });
  for (const name of models) {
    it(name, async () => {
      const r = await compareWithTorch(name);
      const worst = [...r.gradErrors].sort((a, b) => b[1] - a[1]);
      process.stderr.write(`${name}: loss ${r.lossError.toExponential(2)}, logits ${r.logitsError!.toExponential(2)}, worst gradient ${worst[0]![0]} ${worst[0]![1].toExponential(2)}\n`);
      expect(r.lossError).toBeLessThanOrEqual(MAX_RELATIVE_ERROR);
      expect(r.logitsError).toBeLessThanOrEqual(MAX_RELATIVE_ERROR);
      expect(worst.filter(([, e]) => !(e <= MAX_RELATIVE_ERROR))).toEqual([]);
      // The tied heads come out of the exporter as a transposed folded copy, re-tied to one parameter.
      expect(r.retied.length).toBe(name.includes('_tied_') ? 1 : 0);
    });
    it(`${name}, output layer at the loss positions only`, async () => {
      const r = await compareWithTorch(name, true);
      expect(r.lossError).toBeLessThanOrEqual(MAX_RELATIVE_ERROR);
      expect([...r.gradErrors].filter(([, e]) => !(e <= MAX_RELATIVE_ERROR))).toEqual([]);
    });
  }
});
