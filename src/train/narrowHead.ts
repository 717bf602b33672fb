/**
 * Token losses read the logits only at loss-bearing positions (a completion's tokens and its EOS:
 * ~11 of ~57 in the study's number rows), yet a decoder computes its output layer, the largest
 * single matrix product of a small model, at every position. When the logits come from a MatMul of
 * the hidden states [N, T, W] with a rank-2 matrix [W, V] (optionally plus a bias), the training
 * graph instead gathers the loss positions' hidden states first: [N*T, W] -> [P, W] -> logits
 * [1, P, V]. Each position's logits are the same row product either way, so the loss and its
 * gradients are those of the full graph up to summation order. Any other shape of head keeps the
 * full logits (the rewrite is an optimisation, never a requirement).
 */
import type { GraphBuilder } from '../onnx/builder.js';
import type { Shape, ShapeMap } from '../onnx/shapes.js';
import { DataType, dimsOf, initializersOf, nodesOf, tensorValueInfo, type GraphProto, type NodeProto, type ValueInfoProto } from '../onnx/proto.js';

export interface NarrowedHead {
  /** Logits at the loss positions only: [1, P, V]. */
  output: string;
  outputDims: Shape;
  /** Graph input: int64 [P], flat indices (row * T + t) of the loss positions. */
  positions: ValueInfoProto;
}

/**
 * Rewrites `graph` so the loss reads `output` at gathered positions; undefined (graph untouched)
 * when the head is not a MatMul of [N, T, W] by [W, V] (+ a [V] bias) whose result feeds nothing else.
 */
export function narrowTokenHead(graph: GraphProto, b: GraphBuilder, output: string, shapes: ShapeMap): NarrowedHead | undefined {
  const nodes = nodesOf(graph);
  // Shape inference lists computed values; an initializer's shape is its own.
  const initializers = new Map(initializersOf(graph).map((t) => [t.name, t]));
  const shapeOf = (name: string): Shape | undefined => {
    const t = initializers.get(name);
    return t ? dimsOf(t) : shapes.get(name);
  };
  const producer = (name: string): NodeProto | undefined => nodes.find((n) => n.output.includes(name));
  const consumers = (name: string): number => nodes.filter((n) => n.input.includes(name)).length;
  let head = producer(output);
  let bias: string | undefined;
  const dropped: NodeProto[] = [];
  if (head?.opType === 'Add' && head.input.length === 2) {
    // logits = MatMul(h, W) + bias, the bias a constant [V].
    const [x, y] = head.input as [string, string];
    const [product, constant] = initializers.has(y) ? [x, y] : initializers.has(x) ? [y, x] : [undefined, undefined];
    const inner = product ? producer(product) : undefined;
    if (!product || !constant || inner?.opType !== 'MatMul' || consumers(product) !== 1 || shapeOf(constant)?.length !== 1) return undefined;
    dropped.push(head);
    bias = constant;
    head = inner;
  }
  if (head?.opType !== 'MatMul' || head.input.length !== 2) return undefined;
  const [hidden, matrix] = head.input as [string, string];
  const hiddenDims = shapeOf(hidden);
  const matrixDims = shapeOf(matrix);
  const width = matrixDims?.[0];
  const vocab = matrixDims?.[1];
  if (hiddenDims?.length !== 3 || matrixDims?.length !== 2 || typeof width !== 'number' || typeof vocab !== 'number' || hiddenDims[2] !== width) return undefined;
  // The full logits must feed nothing but the loss (a graph output the training graph drops).
  if (consumers(output) !== 0 || (bias && consumers(head.output[0]!) !== 1)) return undefined;
  dropped.push(head);

  const positions = b.fresh('loss_positions');
  const rows = b.op('Reshape', [hidden, b.constInt64([-1, width], undefined, 'hidden_rows')]);
  const picked = b.op('Gather', [rows, positions], { axis: 0 });
  let logits = b.op('MatMul', [picked, matrix]);
  if (bias) logits = b.op('Add', [logits, bias]);
  const narrowed = b.op('Unsqueeze', [logits, b.constInt64([0], undefined, 'batch_axis')], {}, 'loss_logits');
  graph.node = nodes.filter((n) => !dropped.includes(n));
  return { output: narrowed, outputDims: [1, 'loss_positions', vocab], positions: tensorValueInfo(positions, ['loss_positions'], DataType.INT64) };
}

/**
 * A padded token batch's loss positions and their targets, for a narrowed head: the flat indices
 * where the mask is non-zero, and the targets, mask and probabilities at those positions only
 * (k slots per position). An all-masked batch keeps position 0 with mask 0 (loss 0, no gradient),
 * so no tensor is empty.
 */
export function gatherLossPositions(
  mask: Float32Array,
  targets: BigInt64Array,
  targetProbs: Float32Array | undefined,
): { positions: BigInt64Array; mask: Float32Array; targets: BigInt64Array; targetProbs?: Float32Array } {
  const k = targets.length / mask.length;
  const kept: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) kept.push(i);
  if (kept.length === 0) kept.push(0);
  const positions = BigInt64Array.from(kept, (i) => BigInt(i));
  const narrowMask = Float32Array.from(kept, (i) => mask[i]!);
  const narrowTargets = new BigInt64Array(kept.length * k);
  const narrowProbs = targetProbs ? new Float32Array(kept.length * k) : undefined;
  kept.forEach((i, p) => {
    narrowTargets.set(targets.subarray(i * k, i * k + k), p * k);
    narrowProbs?.set(targetProbs!.subarray(i * k, i * k + k), p * k);
  });
  return { positions, mask: narrowMask, targets: narrowTargets, ...(narrowProbs ? { targetProbs: narrowProbs } : {}) };
}
