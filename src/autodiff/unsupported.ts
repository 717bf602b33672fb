/**
 * Pre-flight check: the ops on a gradient path (trainable parameters -> graph outputs) that have no
 * gradient rule. Ops off that path (e.g. post-processing of an output-free branch) do not count.
 */
import { nodeLabel, topologicalOrder, trainableParameters } from '../onnx/graph.js';
import { graphOf, nodesOf, type ModelProto } from '../onnx/proto.js';
import { gradientPath } from './gradients.js';
import { RULES } from './rules.js';

export interface UnsupportedOp {
  opType: string;
  /** Node name (or op type and index when unnamed). */
  node: string;
}

export function unsupportedOps(model: ModelProto, opts: { outputs?: readonly string[]; wrt?: readonly string[] } = {}): UnsupportedOp[] {
  if (!model.graph) return [];
  const graph = graphOf(model);
  const order = topologicalOrder(graph);
  const outputs = opts.outputs ?? graph.output.map((o) => o.name!);
  const wrt = opts.wrt ?? trainableParameters(graph).map((t) => t.name);
  const { nodes } = gradientPath(order, outputs, wrt);
  return nodes.filter((n) => !RULES[n.opType]).map((n) => ({ opType: n.opType, node: nodeLabel(n, nodesOf(graph).indexOf(n)) }));
}
