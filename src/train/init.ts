/**
 * Seeded re-initialisation with PyTorch's defaults for Linear and Conv layers:
 * weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with a = sqrt(5)).
 * fan_in comes from how the weight is used: Gemm transB=1 -> dims[1], transB=0 -> dims[0],
 * MatMul right operand [.., in, out] -> dims[-2], Conv [out, in/groups, k...] -> prod(dims[1:]).
 * A bias takes its layer's fan_in (Gemm C, Conv B, or an Add right after a weight MatMul).
 * Other parameters (norm scales, embeddings) keep the model's values. Same seed, same bits.
 */
import { consumers, producers } from '../onnx/graph.js';
import { dimsOf, graphOf, tensorToFloat32, type ModelProto, type NodeProto } from '../onnx/proto.js';
import { Random } from '../random.js';
import { trainableParams, type Weights } from './weights.js';

export function initLike(model: ModelProto, seed: number): Weights {
  const graph = graphOf(model);
  const initDims = new Map(graph.initializer.map((t) => [t.name, dimsOf(t)]));
  const producer = producers(graph);
  const readers = consumers(graph);
  const weightFanIn = (node: NodeProto, weight: string): number | undefined => {
    const dims = initDims.get(weight);
    if (!dims) return undefined;
    if (node.opType === 'Gemm') return intAttr(node, 'transB') ? dims[1] : dims[0];
    if (node.opType === 'MatMul') return dims.length >= 2 ? dims[dims.length - 2] : undefined;
    if (node.opType === 'Conv') return dims.slice(1).reduce((a, d) => a * d, 1);
    return undefined;
  };
  const fanInOf = (name: string): number | undefined => {
    for (const { node, index } of readers.get(name) ?? []) {
      if ((node.opType === 'Gemm' || node.opType === 'Conv') && index === 1) return weightFanIn(node, name);
      if (node.opType === 'MatMul' && index === 1) return weightFanIn(node, name);
      if ((node.opType === 'Gemm' || node.opType === 'Conv') && index === 2) return weightFanIn(node, node.input[1]!);
      if (node.opType === 'Add') {
        const other = producer.get(node.input[1 - index] ?? '');
        if (other?.opType === 'MatMul') return weightFanIn(other, other.input[1]!);
      }
    }
    return undefined;
  };

  const random = new Random(seed);
  const out: Weights = new Map();
  for (const t of trainableParams(model)) {
    const fanIn = fanInOf(t.name);
    if (fanIn === undefined || fanIn <= 0) {
      out.set(t.name, tensorToFloat32(t));
      continue;
    }
    const bound = 1 / Math.sqrt(fanIn);
    const values = new Float32Array(dimsOf(t).reduce((a, d) => a * d, 1));
    for (let i = 0; i < values.length; i++) values[i] = random.uniform(-bound, bound);
    out.set(t.name, values);
  }
  return out;
}

function intAttr(node: NodeProto, name: string): number {
  const a = node.attribute.find((x) => x.name === name);
  if (!a || a.i === null || a.i === undefined) return 0;
  return typeof a.i === 'number' ? a.i : a.i.toNumber();
}
