/**
 * The reverse-mode walker. It knows no op: it finds the nodes between the `wrt` values and the
 * loss, walks them in reverse topological order, asks the rules table for each node's input
 * gradients, and sums gradients where a value fans out.
 */
import { AuditInputError, UnsupportedModelError } from '../errors.js';
import { GraphBuilder } from '../onnx/builder.js';
import { attr, constantInts, isDifferentiableInput, nodeLabel, producesGradient, topologicalOrder } from '../onnx/graph.js';
import type { GraphProto, NodeProto } from '../onnx/proto.js';
import type { GradientMap, GradientRequest, RuleContext, Shape, ShapeMap } from './api.js';
import { isStatic } from './helpers.js';
import { MIN_BACKWARD_OPSET, MIN_MODEL_OPSET } from './opset.js';
import { RULES } from './rules.js';

/** Values that lie on a differentiable path from some wrt value to the loss, and the nodes between. */
export interface GradientPath {
  /** Values that both depend (differentiably) on a wrt value and influence the loss. */
  active: Set<string>;
  /** Nodes with an active differentiable input and an active output, in topological order. */
  nodes: NodeProto[];
}

export function gradientPath(order: readonly NodeProto[], losses: readonly string[], wrt: readonly string[]): GradientPath {
  const forward = new Set(wrt);
  for (const node of order) {
    if (!producesGradient(node)) continue;
    if (node.input.some((v, i) => v && forward.has(v) && isDifferentiableInput(node, i))) for (const o of node.output) if (o) forward.add(o);
  }
  const backward = new Set(losses);
  for (let k = order.length - 1; k >= 0; k--) {
    const node = order[k]!;
    if (!producesGradient(node) || !node.output.some((o) => backward.has(o))) continue;
    node.input.forEach((v, i) => {
      if (v && isDifferentiableInput(node, i)) backward.add(v);
    });
  }
  const active = new Set([...forward].filter((v) => backward.has(v)));
  const nodes = order.filter(
    (node) =>
      producesGradient(node) &&
      node.output.some((o) => active.has(o)) &&
      node.input.some((v, i) => v && active.has(v) && isDifferentiableInput(node, i)),
  );
  return { active, nodes };
}

export function buildGradients(req: GradientRequest): GradientMap {
  const { graph, loss, wrt, shapes } = req;
  const b = req.builder ?? new GraphBuilder(graph, 'grad/');
  const opset = req.opset ?? 17;
  if (opset < MIN_BACKWARD_OPSET) {
    throw new UnsupportedModelError(`the backward graph needs opset ${MIN_BACKWARD_OPSET} or later, the graph runs at opset ${opset}: raise it with trainingOpset (models from opset ${MIN_MODEL_OPSET})`);
  }
  const order = topologicalOrder(graph);
  const { active, nodes } = gradientPath(order, [loss], wrt);

  // Gradient contributions per value, summed once when the value's gradient is first read.
  const contributions = new Map<string, string[]>();
  const totals = new Map<string, string | null>();
  const total = (value: string): string | null => {
    if (totals.has(value)) return totals.get(value)!;
    const parts = contributions.get(value) ?? [];
    const hint = `d/${value}`;
    const sum = parts.length === 0 ? null : parts.length === 1 ? parts[0]! : b.op(parts.length === 2 ? 'Add' : 'Sum', parts, {}, hint);
    totals.set(value, sum);
    return sum;
  };
  const contribute = (value: string, grad: string): void => {
    if (totals.has(value)) throw new Error(`autodiff: gradient of ${value} read before all contributions arrived`);
    const list = contributions.get(value) ?? [];
    list.push(grad);
    contributions.set(value, list);
  };

  const lossShape = shapes.get(loss) ?? [];
  if (!isStatic(lossShape) || lossShape.some((d) => d !== 1)) {
    throw new AuditInputError(`loss ${loss} must be a scalar, has shape [${lossShape.join(',')}]`);
  }
  contribute(loss, b.constFloat(1, lossShape, 'd/loss'));

  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k]!;
    const grads = node.output.map((o) => (o && active.has(o) ? total(o) : null));
    if (grads.every((g) => g === null)) continue;
    const rule = RULES[node.opType];
    if (!rule) throw unsupported(node, 'no gradient rule');
    const ctx = ruleContext(node, grads, graph, b, shapes, opset, (i) => {
      const v = node.input[i];
      return !!v && active.has(v) && isDifferentiableInput(node, i);
    });
    const inputGrads = rule(ctx);
    // A rule answers every input slot, so a gradient can never land on the wrong input.
    if (inputGrads.length !== node.input.length) {
      throw new Error(`autodiff bug: the ${node.opType} rule returned ${inputGrads.length} gradients for ${node.input.length} inputs at node ${nodeLabel(node)}`);
    }
    node.input.forEach((v, i) => {
      const g = inputGrads[i];
      if (g && ctx.needs(i)) contribute(v, g);
    });
  }

  const result: GradientMap = new Map();
  for (const w of wrt) {
    const g = total(w);
    // A parameter the loss does not depend on gets an explicit zero gradient.
    result.set(w, g ?? zeros(b, shapes, w));
  }
  return result;
}

export function unsupported(node: NodeProto, reason: string): UnsupportedModelError {
  return new UnsupportedModelError(`unsupported op ${node.opType} at node ${nodeLabel(node)}: ${reason}`, { node: node.name });
}

function zeros(b: GraphBuilder, shapes: ShapeMap, name: string): string {
  const shape = shapes.get(name);
  if (!shape || !isStatic(shape)) throw new AuditInputError(`no static shape for ${name}: cannot make its zero gradient`);
  return b.op('ConstantOfShape', [b.constInt64(shape, undefined, 'shape')], {}, `d/${name}`);
}

function ruleContext(
  node: NodeProto,
  grads: (string | null)[],
  graph: GraphProto,
  b: GraphBuilder,
  shapes: ShapeMap,
  opset: number,
  needs: (i: number) => boolean,
): RuleContext {
  const fail = (reason: string): never => {
    throw unsupported(node, reason);
  };
  return {
    node,
    graph,
    b,
    opset,
    needs,
    fail,
    x: (i) => node.input[i] ?? '',
    y: (i) => node.output[i] ?? '',
    get g(): string {
      return grads[0] ?? fail('no gradient reaches its first output');
    },
    dy: (i) => grads[i] ?? null,
    attr: ((name: string, fallback: never) => attr(node, name, fallback)) as RuleContext['attr'],
    shape: (name): Shape => {
      const s = shapes.get(name);
      if (!s) throw new AuditInputError(`no static shape for value ${name} at node ${nodeLabel(node)}: infer shapes on the graph that includes the loss`, { node: node.name });
      return s;
    },
    constInts: (name) => constantInts(graph, name) ?? fail(`input ${name} must be a constant`),
    maybeConstInts: (name) => constantInts(graph, name) ?? null,
  };
}
