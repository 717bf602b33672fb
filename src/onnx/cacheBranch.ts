/**
 * Optimum's merged decoder (`decoder_model_merged.onnx`): one graph holding the decoder without a
 * past and the decoder with one as the two branches of an `If` on the bool input
 * `use_cache_branch`. Generation runs it as it is (src/models/textRunner.ts feeds the flag).
 * Training and scoring whole sequences only ever take the no-past branch, and the engine has no
 * gradient rule for `If`, so `inlineNoCacheBranch` replaces the `If` by its else_branch: the
 * branch's nodes and initializers join the main graph, its outputs keep the `If`'s names, and the
 * flag, the cache inputs and the initializers nothing reads any more leave the graph. The result is a plain decoder
 * (the parameters keep their names whether the exporter shared them in the main graph or kept
 * them in the branch).
 */
import { UnsupportedModelError } from '../errors.js';
import { graphOf, onnx, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from './proto.js';
import { isPastInput } from './shapes.js';

export const CACHE_BRANCH_INPUT = 'use_cache_branch';

/** Whether `model` is a merged decoder: an `If` on the `use_cache_branch` input. */
export function hasCacheBranch(model: ModelProto): boolean {
  const graph = model.graph;
  return !!graph && (graph.node as NodeProto[]).some((n) => n.opType === 'If' && n.input[0] === CACHE_BRANCH_INPUT);
}

/**
 * Inlines every `If` on `use_cache_branch` with its no-past (else) branch, in place. Returns
 * whether anything changed. Refuses (one line naming the node) a branch that is missing or whose
 * outputs do not match the `If`'s, and names defined both in the branch and outside it.
 */
export function inlineNoCacheBranch(model: ModelProto, file = 'model'): boolean {
  const graph = graphOf(model, file);
  const nodes = graph.node as NodeProto[];
  if (!nodes.some((n) => n.opType === 'If' && n.input[0] === CACHE_BRANCH_INPUT)) return false;
  const out: NodeProto[] = [];
  for (const node of nodes) {
    if (node.opType !== 'If' || node.input[0] !== CACHE_BRANCH_INPUT) {
      out.push(node);
      continue;
    }
    const where = `${file}: node ${node.name || '(unnamed If)'}`;
    const branch = node.attribute.find((a) => a.name === 'else_branch')?.g as GraphProto | null | undefined;
    if (!branch) throw new UnsupportedModelError(`${where}: an If on ${CACHE_BRANCH_INPUT} without an else_branch graph`, { file, node: node.name ?? '' });
    const branchOutputs = (branch.output ?? []).map((o) => o.name ?? '');
    if (branchOutputs.length !== node.output.length) {
      throw new UnsupportedModelError(`${where}: its no-past branch returns ${branchOutputs.length} values for the If's ${node.output.length} outputs`, { file, node: node.name ?? '' });
    }
    // ONNX forbids a subgraph to redefine an outer name; a file that does would be read wrongly.
    const outer = definedNames(graph, node);
    for (const name of [...(branch.initializer as TensorProto[]).map((t) => t.name), ...(branch.node as NodeProto[]).flatMap((n) => n.output)]) {
      if (name && outer.has(name)) throw new UnsupportedModelError(`${where}: its no-past branch defines '${name}', a name the main graph defines too`, { file, node: node.name ?? '' });
    }
    out.push(...(branch.node as NodeProto[]));
    branchOutputs.forEach((value, i) => {
      const target = node.output[i]!;
      if (target && value !== target) out.push(onnx.NodeProto.create({ opType: 'Identity', input: [value], output: [target], name: `${node.name || 'If'}/else_output_${i}` }));
    });
    graph.initializer.push(...(branch.initializer as TensorProto[]));
    graph.valueInfo.push(...(branch.valueInfo ?? []));
  }
  graph.node = out;
  // The flag, cache inputs and initializers only the with-past branch read are gone with it (an
  // unread float initializer would otherwise count as a parameter that never trains).
  const read = readNames(graph);
  graph.input = graph.input.filter((i) => read.has(i.name ?? '') || (i.name !== CACHE_BRANCH_INPUT && !isPastInput(i.name ?? '')));
  graph.initializer = (graph.initializer as TensorProto[]).filter((t) => read.has(t.name));
  return true;
}

/** Names the main graph defines (inputs, initializers, node outputs), except `skip`'s outputs. */
function definedNames(graph: GraphProto, skip: NodeProto): Set<string> {
  const names = new Set<string>();
  for (const i of graph.input) if (i.name) names.add(i.name);
  for (const t of graph.initializer as TensorProto[]) if (t.name) names.add(t.name);
  for (const n of graph.node as NodeProto[]) if (n !== skip) for (const o of n.output) if (o) names.add(o);
  return names;
}

/** Every name a node reads, in the graph and in any subgraph below it. */
function readNames(graph: GraphProto, into = new Set<string>()): Set<string> {
  for (const n of graph.node as NodeProto[]) {
    for (const i of n.input) if (i) into.add(i);
    for (const a of n.attribute) {
      if (a.g) readNames(a.g as GraphProto, into);
      for (const g of a.graphs ?? []) readNames(g as GraphProto, into);
    }
  }
  for (const o of graph.output) if (o.name) into.add(o.name);
  return into;
}
