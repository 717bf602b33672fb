/**
 * Architecture fingerprint: what must match for a student to start from the base's weights and
 * be compared with the teacher (inputs/outputs, op sequence with attributes, parameter names and
 * shapes), and a comparison that names the first difference precisely.
 */
import { createHash } from 'node:crypto';
import { AttributeType, dimsOf, graphOf, valueInfoDims, type ModelProto } from './proto.js';
import { attr, nodeLabel, topologicalOrder, trainableParameters } from './graph.js';

export interface OpEntry {
  /** Node name, or op type and index when unnamed. */
  name: string;
  opType: string;
  /** Scalar and list attributes (tensor/graph attributes are data, not architecture). */
  attrs: Record<string, number | number[] | string>;
}

export interface Fingerprint {
  inputs: { name: string; shape: (number | string)[] | null }[];
  outputs: { name: string; shape: (number | string)[] | null }[];
  ops: OpEntry[];
  /** Trainable parameters, in graph order. */
  params: { name: string; shape: number[] }[];
  paramCount: number;
  /** sha256 of the above, for reports. */
  hash: string;
}

export function fingerprint(model: ModelProto): Fingerprint {
  const graph = graphOf(model);
  const initNames = new Set(graph.initializer.map((t) => t.name));
  const inputs = graph.input.filter((i) => !initNames.has(i.name!)).map((i) => ({ name: i.name!, shape: valueInfoDims(i) }));
  const outputs = graph.output.map((o) => ({ name: o.name!, shape: valueInfoDims(o) }));
  const order = topologicalOrder(graph);
  const ops = order.map((node, i) => {
    const attrs: OpEntry['attrs'] = {};
    for (const a of [...node.attribute].sort((x, y) => (x.name! < y.name! ? -1 : 1))) {
      if (a.type === AttributeType.TENSOR || a.type === AttributeType.GRAPH || a.type === AttributeType.GRAPHS || a.type === AttributeType.TENSORS) continue;
      attrs[a.name!] = attr(node, a.name!, '' as string) as never;
    }
    return { name: nodeLabel(node, i), opType: node.opType, attrs };
  });
  const params = trainableParameters(graph).map((t) => ({ name: t.name, shape: dimsOf(t) }));
  const paramCount = params.reduce((n, p) => n + p.shape.reduce((a, d) => a * d, 1), 0);
  const hash = createHash('sha256').update(JSON.stringify({ inputs, outputs, ops: ops.map((o) => [o.opType, o.attrs]), params })).digest('hex');
  return { inputs, outputs, ops, params, paramCount, hash };
}

export interface ArchitectureComparison {
  same: boolean;
  /** e.g. `fc2.weight: [128,128] vs [256,128]`, `node 3 (Relu_2): op Relu vs Tanh`. */
  firstDifference?: string;
}

const show = (shape: readonly (number | string)[] | null): string => (shape ? `[${shape.join(',')}]` : 'unknown');
const showValue = (v: unknown): string => (Array.isArray(v) ? `[${v.join(',')}]` : v === undefined ? 'absent' : String(v));

/**
 * Compares two architectures; `labels` name the models in messages (default: first, other).
 * Node names may differ (exporters number them); op types, attributes and parameter shapes may not.
 */
export function compareArchitectures(a: ModelProto | Fingerprint, b: ModelProto | Fingerprint, labels: [string, string] = ['first', 'OTHER']): ArchitectureComparison {
  const fa = 'hash' in a ? a : fingerprint(a);
  const fb = 'hash' in b ? b : fingerprint(b);
  const diff = firstDifference(fa, fb, labels);
  return diff === undefined ? { same: true } : { same: false, firstDifference: diff };
}

function firstDifference(a: Fingerprint, b: Fingerprint, [la, lb]: [string, string]): string | undefined {
  for (const [kind, xs, ys] of [['input', a.inputs, b.inputs], ['output', a.outputs, b.outputs]] as const) {
    for (let i = 0; i < Math.max(xs.length, ys.length); i++) {
      const x = xs[i];
      const y = ys[i];
      if (!x) return `${kind} ${y!.name} missing in ${la}`;
      if (!y) return `${kind} ${x.name} missing in ${lb}`;
      if (x.name !== y.name) return `${kind} ${i}: ${x.name} vs ${y.name}`;
      if (show(x.shape) !== show(y.shape)) return `${kind} ${x.name}: ${show(x.shape)} vs ${show(y.shape)}`;
    }
  }
  const byName = new Map(b.params.map((p) => [p.name, p]));
  for (const p of a.params) {
    const q = byName.get(p.name);
    if (!q) return `parameter ${p.name} missing in ${lb}`;
    if (show(p.shape) !== show(q.shape)) return `${p.name}: ${show(p.shape)} vs ${show(q.shape)}`;
  }
  const inA = new Set(a.params.map((p) => p.name));
  const extra = b.params.find((p) => !inA.has(p.name));
  if (extra) return `parameter ${extra.name} missing in ${la}`;
  for (let i = 0; i < Math.max(a.ops.length, b.ops.length); i++) {
    const x = a.ops[i];
    const y = b.ops[i];
    if (!x) return `node ${i} (${y!.name}): ${y!.opType} missing in ${la} (${a.ops.length} vs ${b.ops.length} nodes)`;
    if (!y) return `node ${i} (${x.name}): ${x.opType} missing in ${lb} (${a.ops.length} vs ${b.ops.length} nodes)`;
    if (x.opType !== y.opType) return `node ${i} (${x.name}): op ${x.opType} vs ${y.opType}`;
    for (const key of new Set([...Object.keys(x.attrs), ...Object.keys(y.attrs)])) {
      const vx = showValue(x.attrs[key]);
      const vy = showValue(y.attrs[key]);
      if (vx !== vy) return `node ${i} (${x.name}): ${x.opType} attribute ${key} ${vx} vs ${vy}`;
    }
  }
  return undefined;
}
