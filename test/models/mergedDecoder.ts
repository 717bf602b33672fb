/**
 * Optimum's merged decoder layout built from our GPT: an `If` on `use_cache_branch` whose then
 * branch is the decoder with a past and whose else branch is the decoder without one (returning
 * its own keys and values as present.*), branch outputs named as the If's. `shared` keeps the
 * parameters in the main graph (Optimum's layout since it deduplicates them); `in-branches` keeps a
 * copy in each branch (the older layout).
 */
import { buildGpt, type GptOptions } from '../../src/models/gpt.js';
import { graphOf, makeModel, onnx, tensorValueInfo, DataType, type GraphProto, type ModelProto, type TensorProto } from '../../src/onnx/proto.js';
import { withWeights, type Weights } from '../../src/train/weights.js';

export function mergedDecoder(gpt: GptOptions, weights: Weights, layout: 'shared' | 'in-branches'): ModelProto {
  const withPast = withWeights(buildGpt({ ...gpt, kvCache: true }), weights);
  const noPast = withWeights(buildGpt({ ...gpt, kvCache: false, presentOutputs: true }), weights);
  const [wp, np] = [graphOf(withPast), graphOf(noPast)];
  const shared = new Map<string, TensorProto>();
  if (layout === 'shared') {
    for (const t of [...wp.initializer, ...np.initializer] as TensorProto[]) {
      const seen = shared.get(t.name);
      if (seen && Buffer.compare(Buffer.from(seen.rawData), Buffer.from(t.rawData)) !== 0) throw new Error(`initializer ${t.name} differs between the branches`);
      shared.set(t.name, t);
    }
  }
  // Optimum's shared layout also holds what only one branch reads (here: the with-past branch's past axis).
  const branch = (g: GraphProto, name: string) =>
    onnx.GraphProto.create({ name, node: g.node, output: g.output, initializer: layout === 'shared' ? [] : g.initializer });
  const ifNode = onnx.NodeProto.create({
    opType: 'If',
    name: 'optimum::if',
    input: ['use_cache_branch'],
    output: wp.output.map((o) => o.name!),
    attribute: [
      onnx.AttributeProto.create({ name: 'then_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch(wp, 'with_past') }),
      onnx.AttributeProto.create({ name: 'else_branch', type: onnx.AttributeProto.AttributeType.GRAPH, g: branch(np, 'no_past') }),
    ],
  });
  const graph = onnx.GraphProto.create({
    name: 'merged',
    node: [ifNode],
    input: [...wp.input, tensorValueInfo('use_cache_branch', [1], DataType.BOOL)],
    output: wp.output,
    initializer: [...shared.values()],
  });
  return makeModel(graph, 17);
}
