/**
 * LoRA adapters (Hu et al. 2021) on chosen MatMul weights: y = x W + (alpha / r) (x A) B with
 * A [in, r], B [r, out]. Only A and B train, so a large base fits in memory; a student is saved
 * merged (W + (alpha / r) A B), as the plain base graph with new initializers.
 * Init as PEFT does: A ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming-uniform, a = sqrt(5)), B = 0, so the
 * adapted model starts exactly at the base.
 */
import { dimsOf, float32Tensor, graphOf, tensorToFloat32, type ModelProto, type NodeProto, type TensorProto } from '../onnx/proto.js';
import { GraphBuilder } from '../onnx/builder.js';
import { Random } from './random.js';
import { cloneModel, type Weights } from './weights.js';

export interface LoraSpec {
  rank: number;
  alpha: number;
  /** Regular expressions over weight names; empty: every 2-D initializer used as a MatMul's right operand. */
  targets: readonly string[];
}

export interface LoraAdapter {
  /** The adapted weight W [in, out]. */
  weight: string;
  a: string;
  b: string;
  /** [in, out] of W. */
  dims: readonly [number, number];
  rank: number;
}

export interface LoraModel {
  model: ModelProto;
  adapters: LoraAdapter[];
  scale: number;
}

/** The model with an adapter beside every targeted MatMul weight (A and B as zero initializers; see loraInit). */
export function addLora(inference: ModelProto, spec: LoraSpec): LoraModel {
  if (!(Number.isInteger(spec.rank) && spec.rank >= 1)) throw new RangeError(`LoRA rank must be a positive integer, got ${spec.rank}`);
  const model = cloneModel(inference);
  const graph = graphOf(model);
  const patterns = spec.targets.map((t) => new RegExp(t));
  const inits = new Map((graph.initializer as TensorProto[]).map((t) => [t.name, t]));
  const b = new GraphBuilder(graph, 'lora/');
  const scaleName = b.constFloat(spec.alpha / spec.rank, [], 'scale');
  const adapters: LoraAdapter[] = [];
  const nodes: NodeProto[] = [];
  const original = graph.node as NodeProto[];
  graph.node = [];
  for (const node of original) {
    nodes.push(node);
    const w = node.opType === 'MatMul' ? inits.get(node.input[1] ?? '') : undefined;
    const dims = w ? dimsOf(w) : [];
    const chosen = w !== undefined && dims.length === 2 && (patterns.length === 0 || patterns.some((p) => p.test(w.name)));
    if (!chosen) continue;
    // One adapter per weight, shared by every MatMul reading it, so merging W + scale*AB is exact.
    let adapter = adapters.find((x) => x.weight === w.name);
    if (!adapter) {
      const [fanIn, fanOut] = dims as [number, number];
      const a = b.initializer(float32Tensor(b.fresh(`${w.name}.lora_A`), [fanIn, spec.rank], new Float32Array(fanIn * spec.rank)));
      const bw = b.initializer(float32Tensor(b.fresh(`${w.name}.lora_B`), [spec.rank, fanOut], new Float32Array(spec.rank * fanOut)));
      adapters.push((adapter = { weight: w.name, a, b: bw, dims: [fanIn, fanOut], rank: spec.rank }));
    }
    // y = MatMul(x, W) becomes y = MatMul(x, W) + scale * MatMul(MatMul(x, A), B), under y's name.
    const y = node.output[0]!;
    const baseOut = b.fresh(`${y}_base`);
    node.output[0] = baseOut;
    const xa = b.op('MatMul', [node.input[0]!, adapter.a]);
    const xab = b.op('MatMul', [xa, adapter.b]);
    b.node('Add', [baseOut, b.op('Mul', [xab, scaleName])], {}, { outputs: [y] });
    nodes.push(...(graph.node as NodeProto[]));
    graph.node = [];
  }
  graph.node = nodes;
  if (adapters.length === 0) throw new RangeError(`no MatMul weight matches the LoRA targets ${JSON.stringify(spec.targets)}`);
  return { model, adapters, scale: spec.alpha / spec.rank };
}

/** Initial adapter values from a seed: A kaiming-uniform, B zero. */
export function loraInit(lora: LoraModel, seed: number): Weights {
  const random = new Random(seed);
  const out: Weights = new Map();
  for (const { a, b, dims } of lora.adapters) {
    const [fanIn, fanOut] = dims;
    const rank = lora.adapters.find((x) => x.a === a)!.rank;
    const bound = 1 / Math.sqrt(fanIn);
    const values = new Float32Array(fanIn * rank);
    for (let i = 0; i < values.length; i++) values[i] = random.uniform(-bound, bound);
    out.set(a, values);
    out.set(b, new Float32Array(rank * fanOut));
  }
  return out;
}

/** W + scale * A B for every adapted weight; `base` supplies W (and every other weight, unchanged). */
export function mergeLora(lora: LoraModel, base: ReadonlyMap<string, Float32Array>, adapterWeights: ReadonlyMap<string, Float32Array>): Weights {
  const merged: Weights = new Map(base);
  for (const { weight, a, b, dims } of lora.adapters) {
    const [fanIn, fanOut] = dims;
    const A = adapterWeights.get(a)!;
    const B = adapterWeights.get(b)!;
    const rank = A.length / fanIn;
    const W = Float32Array.from(merged.get(weight) ?? initializerValues(lora.model, weight));
    for (let i = 0; i < fanIn; i++) {
      for (let k = 0; k < rank; k++) {
        const aik = A[i * rank + k]! * lora.scale;
        if (aik === 0) continue;
        for (let j = 0; j < fanOut; j++) W[i * fanOut + j]! += aik * B[k * fanOut + j]!;
      }
    }
    merged.set(weight, W);
  }
  return merged;
}

function initializerValues(model: ModelProto, name: string): Float32Array {
  const t = (graphOf(model).initializer as TensorProto[]).find((x) => x.name === name);
  if (!t) throw new RangeError(`weight ${name} is not an initializer`);
  return tensorToFloat32(t);
}

/** The adapter parameter names (the only ones a LoRA student trains). */
export const adapterParams = (lora: LoraModel): string[] => lora.adapters.flatMap((x) => [x.a, x.b]);

