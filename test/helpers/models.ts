/**
 * Model-building helpers for tests (shared across the project): small seeded ONNX models in the
 * shape PyTorch's exporter writes them (opset 17, torch parameter names, symbolic batch dim).
 */
import { GraphBuilder } from '../../src/onnx/builder.js';
import { Random } from '../../src/train/random.js';
import { float32Tensor, makeModel, onnx, tensorValueInfo, type ModelProto } from '../../src/onnx/proto.js';

/** A seeded uniform [0, 1) source (the project's one PRNG, src/train/random.ts). */
export function seededRandom(seed: number): () => number {
  const random = new Random(seed);
  return () => random.next();
}

/** n values uniform in [-scale, scale). */
export function uniform(rand: () => number, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
}

export interface MlpOptions {
  sizes: readonly number[];
  /** 'gemm': Gemm(transB=1) with fcK.weight [out,in]; 'matmul': MatMul + Add with fcK.weight [in,out]. */
  style?: 'gemm' | 'matmul';
  seed?: number;
  activation?: 'Relu' | 'Tanh' | 'Sigmoid';
}

/** An MLP: input `input` [N, sizes[0]] -> output `logits` [N, last]; torch Linear init. */
export function mlpModel(opts: MlpOptions): ModelProto {
  const { sizes, style = 'gemm', seed = 1, activation = 'Relu' } = opts;
  const rand = seededRandom(seed);
  const graph = onnx.GraphProto.create({ name: 'mlp' });
  const b = new GraphBuilder(graph);
  graph.input.push(tensorValueInfo('input', ['N', sizes[0]!]));
  let x = 'input';
  const layers = sizes.length - 1;
  for (let l = 0; l < layers; l++) {
    const fanIn = sizes[l]!;
    const fanOut = sizes[l + 1]!;
    const bound = 1 / Math.sqrt(fanIn);
    const name = `fc${l + 1}`;
    const last = l === layers - 1;
    const wDims = style === 'gemm' ? [fanOut, fanIn] : [fanIn, fanOut];
    b.initializer(float32Tensor(`${name}.weight`, wDims, uniform(rand, fanIn * fanOut, bound)));
    b.initializer(float32Tensor(`${name}.bias`, [fanOut], uniform(rand, fanOut, bound)));
    const out = last ? 'logits' : `/${name}/${style === 'gemm' ? 'Gemm' : 'Add'}_output_0`;
    if (style === 'gemm') {
      b.node('Gemm', [x, `${name}.weight`, `${name}.bias`], { alpha: f1, beta: f1, transB: 1 }, { outputs: [out], name: `/${name}/Gemm` });
    } else {
      const mm = `/${name}/MatMul_output_0`;
      b.node('MatMul', [x, `${name}.weight`], {}, { outputs: [mm], name: `/${name}/MatMul` });
      b.node('Add', [mm, `${name}.bias`], {}, { outputs: [out], name: `/${name}/Add` });
    }
    x = out;
    if (!last) {
      const act = `/act${l + 1}/${activation}_output_0`;
      b.node(activation, [x], {}, { outputs: [act], name: `/act${l + 1}/${activation}` });
      x = act;
    }
  }
  graph.output.push(tensorValueInfo('logits', ['N', sizes[sizes.length - 1]!]));
  return makeModel(graph, 17);
}

import { f } from '../../src/onnx/builder.js';
const f1 = f(1);
