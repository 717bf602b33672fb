/**
 * The moves gradient rules share, written once: un-broadcast, shape tensors, scaling, reductions
 * with axes as inputs (opset 13+), transposes, zeros. Each emits as few nodes as it can.
 */
import { reduce } from '../onnx/ops.js';
import type { RuleContext, Shape } from './api.js';

export const isStatic = (shape: Shape): shape is readonly number[] => shape.every((d) => typeof d === 'number');

/**
 * A rule's answer for an op with optional trailing inputs: its slots for the inputs the node has
 * (absent trailing inputs get none). The walker checks one slot per input.
 */
export const forInputs = (ctx: RuleContext, grads: readonly (string | null)[]): (string | null)[] => grads.slice(0, ctx.node.input.length);

/** Normalizes a possibly negative axis against a rank. */
export const axisOf = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

/** An int64 shape tensor for `name`: a constant when the shape is static, else Shape(name). */
export function shapeTensor(ctx: RuleContext, name: string): string {
  const shape = ctx.shape(name);
  return isStatic(shape) ? ctx.b.constInt64(shape, undefined, 'shape') : ctx.b.op('Shape', [name]);
}

/**
 * Undoes numpy broadcasting: sums g (of shape gShape) over the axes along which `target` was
 * broadcast (leading axes it lacks, and its size-1 axes), leaving target's shape.
 */
export function unbroadcast(ctx: RuleContext, g: string, gShape: Shape, target: string): string {
  const t = ctx.shape(target);
  const lead = gShape.length - t.length;
  const leading = Array.from({ length: lead }, (_, i) => i);
  const ones = t.flatMap((d, i) => (d === 1 && gShape[i + lead] !== 1 ? [i + lead] : []));
  if (leading.length === 0 && ones.length === 0) return g;
  if (ones.length === 0) return reduceSum(ctx, g, leading, false);
  const kept = reduceSum(ctx, g, [...leading, ...ones], true);
  if (lead === 0) return kept;
  return isStatic(t)
    ? ctx.b.op('Reshape', [kept, ctx.b.constInt64(t, undefined, 'shape')])
    : ctx.b.op('Squeeze', [kept, ctx.b.constInt64(leading, undefined, 'axes')]);
}

/** ReduceSum with axes as an input (opset 13+). */
export function reduceSum(ctx: RuleContext, x: string, axes: readonly number[], keepdims: boolean): string {
  return reduce(ctx.b, ctx.opset, 'ReduceSum', x, axes, keepdims);
}

/** g * k, with no node when k is 1. */
export function scale(ctx: RuleContext, g: string, k: number): string {
  if (k === 1) return g;
  if (k === -1) return ctx.b.op('Neg', [g]);
  return ctx.b.op('Mul', [g, ctx.b.constFloat(k, [], 'k')]);
}

export const mul = (ctx: RuleContext, a: string, b: string): string => ctx.b.op('Mul', [a, b]);
export const sub = (ctx: RuleContext, a: string, b: string): string => ctx.b.op('Sub', [a, b]);
export const div = (ctx: RuleContext, a: string, b: string): string => ctx.b.op('Div', [a, b]);
export const neg = (ctx: RuleContext, a: string): string => ctx.b.op('Neg', [a]);

/** Swaps the last two axes of a value of the given rank. */
export function transposeLast2(ctx: RuleContext, x: string, rank: number): string {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 1] = rank - 2;
  perm[rank - 2] = rank - 1;
  return ctx.b.op('Transpose', [x], { perm });
}

/** The inverse of a permutation. */
export function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/** Zeros shaped like `like` (for outputs of multi-output ops that received no gradient). */
export function zerosLike(ctx: RuleContext, like: string): string {
  return ctx.b.op('ConstantOfShape', [shapeTensor(ctx, like)]);
}

export function reduceMean(ctx: RuleContext, x: string, axes: readonly number[], keepdims: boolean): string {
  return reduce(ctx.b, ctx.opset, 'ReduceMean', x, axes, keepdims);
}

/** Expands a gradient of a reduction (over `axes` of `x`) back to x's shape. */
export function expandReduced(ctx: RuleContext, g: string, axes: readonly number[], keepdims: boolean, x: string): string {
  const sorted = [...axes].sort((a, b) => a - b);
  // Expand aligns trailing dims, so reduced leading axes (e.g. a full reduction) need no Unsqueeze.
  const leadingOnly = sorted.every((a, i) => a === i);
  const kept = keepdims || leadingOnly ? g : ctx.b.op('Unsqueeze', [g, ctx.b.constInt64(sorted, undefined, 'axes')]);
  return ctx.b.op('Expand', [kept, shapeTensor(ctx, x)]);
}

/** Product of the dims of `shape` at `axes` when static, else null. */
export function staticCount(shape: Shape, axes: readonly number[]): number | null {
  let n = 1;
  for (const a of axes) {
    const d = shape[a];
    if (typeof d !== 'number') return null;
    n *= d;
  }
  return n;
}
