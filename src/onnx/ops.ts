/**
 * Small graph-writing helpers shared by the gradient rules and the loss and optimizer fragments:
 * opset-aware reductions (axes moved from attribute to input at opset 13 for ReduceSum, 18 for
 * the others) and last-axis slices.
 */
import type { GraphBuilder } from './builder.js';

export type ReduceOp = 'ReduceSum' | 'ReduceMean' | 'ReduceSumSquare' | 'ReduceMax';

/** A reduction over `axes` (all axes when undefined), written for the graph's opset. */
export function reduce(b: GraphBuilder, opset: number, op: ReduceOp, x: string, axes: readonly number[] | undefined, keepdims: boolean): string {
  const axesAsInput = op === 'ReduceSum' ? opset >= 13 : opset >= 18;
  const keep = keepdims ? 1 : 0;
  if (axes === undefined) return b.op(op, [x], { keepdims: keep });
  if (axesAsInput) return b.op(op, [x, b.constInt64(axes, undefined, 'axes')], { keepdims: keep });
  return b.op(op, [x], { axes, keepdims: keep });
}

/** x[..., start:end] on the last axis. */
export function sliceLastAxis(b: GraphBuilder, x: string, start: number, end: number): string {
  return b.op('Slice', [x, b.constInt64([start], undefined, 'starts'), b.constInt64([end], undefined, 'ends'), b.constInt64([-1], undefined, 'axes')]);
}
