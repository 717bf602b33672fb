/**
 * A PyTorch-export-shaped MLP as an ONNX inference model: input `input` [batch, in], Gemm layers
 * with torch Linear layout (`fcK.weight` [out, in], transB=1, `fcK.bias` [out]), Relu between,
 * output `logits`. Weights are PyTorch's default Linear init from a seed (see init.ts).
 * Used by the benchmark, the fixtures and the tests.
 */
import { onnx, float32Tensor, tensorValueInfo, type ModelProto } from '../onnx/proto.js';
import { GraphBuilder } from '../onnx/builder.js';
import { initLike } from '../train/init.js';

export interface MlpOptions {
  /** Layer widths, input first: [784, 256, 256, 13]. */
  sizes: readonly number[];
  seed?: number;
  opset?: number;
}

export function buildMlp(options: MlpOptions): ModelProto {
  const { sizes } = options;
  if (sizes.length < 2) throw new RangeError('an MLP needs at least an input and an output size');
  const graph = onnx.GraphProto.create({ name: 'mlp' });
  const b = new GraphBuilder(graph);
  graph.input.push(tensorValueInfo('input', ['batch', sizes[0]!]));
  let x = 'input';
  for (let layer = 1; layer < sizes.length; layer++) {
    const [fanIn, fanOut] = [sizes[layer - 1]!, sizes[layer]!];
    const w = b.initializer(float32Tensor(`fc${layer}.weight`, [fanOut, fanIn], new Float32Array(fanIn * fanOut)));
    const bias = b.initializer(float32Tensor(`fc${layer}.bias`, [fanOut], new Float32Array(fanOut)));
    const last = layer === sizes.length - 1;
    const y = b.node('Gemm', [x, w, bias], { transB: 1 }, { outputs: [last ? 'logits' : `fc${layer}_out`] })[0]!;
    x = last ? y : b.node('Relu', [y], {}, { outputs: [`relu${layer}_out`] })[0]!;
  }
  graph.output.push(tensorValueInfo('logits', ['batch', sizes[sizes.length - 1]!]));
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'audit-dataset',
    opsetImport: [{ domain: '', version: options.opset ?? 17 }],
    graph,
  });
  const weights = initLike(model, options.seed ?? 0);
  for (const t of graph.initializer) {
    const w = weights.get(t.name!)!;
    t.rawData = new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
  }
  return model;
}
