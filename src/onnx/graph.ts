/**
 * Graph helpers: producers/consumers, topological order, attribute readers, constants, and which
 * float initializers are trainable parameters (those not consumed only by shape/index inputs).
 */
import { AuditInputError } from '../errors.js';
import { AttributeType, DataType, initializersOf, nodesOf, tensorToInts, toNumber, type GraphProto, type NodeProto, type TensorProto } from './proto.js';

/** Ops whose outputs never carry a gradient (shape arithmetic, comparisons, indices, randomness). */
export const NO_GRADIENT_OPS: ReadonlySet<string> = new Set([
  'Shape', 'Size', 'Range', 'ConstantOfShape', 'Constant', 'EyeLike', 'OneHot',
  'Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor',
  'ArgMax', 'ArgMin', 'NonZero', 'IsNaN', 'IsInf', 'Sign', 'Floor', 'Ceil', 'Round',
  'RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Bernoulli', 'Multinomial',
]);

/** Input positions that hold shapes, axes or indices (never differentiated), by op type. */
const SHAPE_INPUTS: Readonly<Record<string, readonly number[]>> = {
  Reshape: [1], Expand: [1], Tile: [1], Slice: [1, 2, 3, 4], Squeeze: [1], Unsqueeze: [1],
  Gather: [1], GatherElements: [1], GatherND: [1], ScatterElements: [1], ScatterND: [1],
  Resize: [1, 2, 3], Upsample: [1], Split: [1], Pad: [1, 2, 3], Where: [0], Dropout: [1, 2], Clip: [1, 2],
  ReduceSum: [1], ReduceMean: [1], ReduceMax: [1], ReduceMin: [1], ReduceProd: [1], ReduceL2: [1],
  ReduceLogSumExp: [1], ReduceSumSquare: [1], CumSum: [1], TopK: [1], Trilu: [1], MaxPool: [], ConstantOfShape: [0],
};

const FLOAT_TYPES: ReadonlySet<number> = new Set([DataType.FLOAT, DataType.DOUBLE, DataType.FLOAT16, DataType.BFLOAT16]);

export function isFloatType(dataType: number): boolean {
  return FLOAT_TYPES.has(dataType);
}

/** Whether input `index` of `node` can carry a gradient (false for shape/axes/index inputs). */
export function isDifferentiableInput(node: NodeProto, index: number): boolean {
  return !(SHAPE_INPUTS[node.opType] ?? []).includes(index);
}

/** Whether the node's outputs can carry a gradient at all. */
export function producesGradient(node: NodeProto): boolean {
  if (NO_GRADIENT_OPS.has(node.opType)) return false;
  if (node.opType === 'Cast') return isFloatType(attr(node, 'to', 0));
  return true;
}

/** value name -> node producing it. */
export function producers(graph: GraphProto): Map<string, NodeProto> {
  const map = new Map<string, NodeProto>();
  for (const node of nodesOf(graph)) for (const out of node.output) if (out) map.set(out, node);
  return map;
}

/** value name -> every (node, input position) reading it, in graph order. */
export function consumers(graph: GraphProto): Map<string, { node: NodeProto; index: number }[]> {
  const map = new Map<string, { node: NodeProto; index: number }[]>();
  for (const node of nodesOf(graph)) {
    node.input.forEach((input, index) => {
      if (!input) return;
      const list = map.get(input) ?? [];
      list.push({ node, index });
      map.set(input, list);
    });
  }
  return map;
}

/** Nodes in an order where every producer precedes its consumers (stable for sorted graphs). */
export function topologicalOrder(graph: GraphProto): NodeProto[] {
  const produced = producers(graph);
  const state = new Map<NodeProto, 'visiting' | 'done'>();
  const order: NodeProto[] = [];
  const visit = (root: NodeProto): void => {
    // Iterative DFS: real graphs are thousands of nodes deep.
    const stack: { node: NodeProto; next: number }[] = [{ node: root, next: 0 }];
    state.set(root, 'visiting');
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const inputs = top.node.input;
      if (top.next < inputs.length) {
        const producer = produced.get(inputs[top.next++]!);
        if (!producer) continue;
        const s = state.get(producer);
        if (s === 'visiting') throw new AuditInputError(`graph has a cycle through node ${producer.name || producer.opType}`, { node: producer.name });
        if (s === undefined) {
          state.set(producer, 'visiting');
          stack.push({ node: producer, next: 0 });
        }
      } else {
        state.set(top.node, 'done');
        order.push(top.node);
        stack.pop();
      }
    }
  };
  for (const node of nodesOf(graph)) if (!state.has(node)) visit(node);
  return order;
}

/** A readable node label for messages: its name, or op type and index. */
export function nodeLabel(node: NodeProto, index?: number): string {
  return node.name || `${node.opType}${index === undefined ? '' : `#${index}`}`;
}

/** Reads an attribute, returning `fallback` when absent. Long ints become numbers. */
export function attr(node: NodeProto, name: string, fallback: number): number;
export function attr(node: NodeProto, name: string, fallback: number[]): number[];
export function attr(node: NodeProto, name: string, fallback: string): string;
export function attr(node: NodeProto, name: string, fallback: number[] | null): number[] | null;
export function attr(node: NodeProto, name: string, fallback: number | number[] | string | null): number | number[] | string | null {
  const a = node.attribute.find((x) => x.name === name);
  if (!a) return fallback;
  switch (a.type) {
    case AttributeType.INT: return toNumber(a.i as never);
    case AttributeType.FLOAT: return a.f ?? 0;
    case AttributeType.INTS: return (a.ints ?? []).map((v) => toNumber(v as never));
    case AttributeType.FLOATS: return [...(a.floats ?? [])];
    case AttributeType.STRING: return new TextDecoder().decode(a.s ?? new Uint8Array());
    default: return fallback;
  }
}

/** The tensor behind `name` when it is an initializer or a Constant node's output. */
export function constantTensor(graph: GraphProto, name: string): TensorProto | undefined {
  const init = initializersOf(graph).find((t) => t.name === name);
  if (init) return init;
  const node = nodesOf(graph).find((n) => n.opType === 'Constant' && n.output[0] === name);
  if (!node) return undefined;
  const a = node.attribute.find((x) => x.name === 'value');
  if (a?.t) return a.t as TensorProto;
  const ints = node.attribute.find((x) => x.name === 'value_ints' || x.name === 'value_int');
  if (ints) {
    const values = ints.name === 'value_int' ? [toNumber(ints.i as never)] : (ints.ints ?? []).map((v) => toNumber(v as never));
    return { name, dims: ints.name === 'value_int' ? [] : [values.length], dataType: DataType.INT64, int64Data: values } as unknown as TensorProto;
  }
  return undefined;
}

/** Integer values of a constant input (axes, shapes), or undefined when computed at run time. */
export function constantInts(graph: GraphProto, name: string): number[] | undefined {
  const t = constantTensor(graph, name);
  return t ? tensorToInts(t) : undefined;
}

/** All float initializers, in graph order. */
export function floatInitializers(graph: GraphProto): TensorProto[] {
  return initializersOf(graph).filter((t) => isFloatType(t.dataType));
}

/**
 * Trainable parameters: float initializers used by at least one differentiable input position
 * (a float Resize scale or a tensor only read by Shape is not a parameter).
 */
export function trainableParameters(graph: GraphProto): TensorProto[] {
  const used = new Set<string>();
  for (const node of nodesOf(graph)) {
    if (!producesGradient(node)) continue;
    node.input.forEach((name, i) => {
      if (name && isDifferentiableInput(node, i)) used.add(name);
    });
  }
  return floatInitializers(graph).filter((t) => used.has(t.name));
}
