/**
 * An MLP as PyTorch's ONNX exporter writes it: input `input` [batch, in], output `logits`,
 * parameters `fcK.weight` / `fcK.bias`, nodes named `/fcK/Gemm`, `/actK/Relu`. Two exporter
 * styles: 'gemm' (torch Linear layout, weight [out, in], Gemm transB=1) and 'matmul' (weight
 * [in, out], MatMul + Add). Weights are PyTorch's default Linear init from a seed (init.ts).
 * Used by the fixtures, the benchmark and the tests.
 */
import { float32Tensor, makeModel, onnx, tensorValueInfo, type ModelProto } from '../onnx/proto.js';
import { f, GraphBuilder } from '../onnx/builder.js';
import { initLike } from '../train/init.js';

export interface MlpOptions {
  /** Layer widths, input first: [784, 256, 256, 13]. */
  sizes: readonly number[];
  seed?: number;
  style?: 'gemm' | 'matmul';
  activation?: 'Relu' | 'Tanh' | 'Sigmoid';
  /** Name of the symbolic batch dim (default 'batch'). */
  batchDim?: string;
  opset?: number;
}

export function buildMlp(options: MlpOptions): ModelProto {
  const { sizes, style = 'gemm', activation = 'Relu', batchDim = 'batch' } = options;
  if (sizes.length < 2) throw new RangeError('an MLP needs at least an input and an output size');
  const graph = onnx.GraphProto.create({ name: 'mlp' });
  const b = new GraphBuilder(graph);
  graph.input.push(tensorValueInfo('input', [batchDim, sizes[0]!]));
  let x = 'input';
  for (let layer = 1; layer < sizes.length; layer++) {
    const [fanIn, fanOut] = [sizes[layer - 1]!, sizes[layer]!];
    const name = `fc${layer}`;
    const last = layer === sizes.length - 1;
    const weight = b.initializer(float32Tensor(`${name}.weight`, style === 'gemm' ? [fanOut, fanIn] : [fanIn, fanOut], new Float32Array(fanIn * fanOut)));
    const bias = b.initializer(float32Tensor(`${name}.bias`, [fanOut], new Float32Array(fanOut)));
    const out = last ? 'logits' : `/${name}/${style === 'gemm' ? 'Gemm' : 'Add'}_output_0`;
    if (style === 'gemm') {
      b.node('Gemm', [x, weight, bias], { alpha: f(1), beta: f(1), transB: 1 }, { outputs: [out], name: `/${name}/Gemm` });
    } else {
      const product = `/${name}/MatMul_output_0`;
      b.node('MatMul', [x, weight], {}, { outputs: [product], name: `/${name}/MatMul` });
      b.node('Add', [product, bias], {}, { outputs: [out], name: `/${name}/Add` });
    }
    x = out;
    if (!last) x = b.node(activation, [x], {}, { outputs: [`/act${layer}/${activation}_output_0`], name: `/act${layer}/${activation}` })[0]!;
  }
  graph.output.push(tensorValueInfo('logits', [batchDim, sizes[sizes.length - 1]!]));
  const model = makeModel(graph, options.opset ?? 17);
  const weights = initLike(model, options.seed ?? 0);
  for (const t of graph.initializer) {
    const w = weights.get(t.name!)!;
    t.rawData = new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
  }
  return model;
}
