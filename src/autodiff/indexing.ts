/**
 * Gradient rules of the ops that move data around: reductions, Concat/Split, Slice (as Pad),
 * Gather and GatherElements (as a ScatterND/ScatterElements with reduction=add, so repeated
 * indices accumulate).
 */
import type { GradientRule, RuleContext, Shape } from './api.js';
import { axisOf, expandReduced, forInputs, inversePerm, isStatic, scale, shapeTensor, staticCount, unbroadcast, zerosLike } from './helpers.js';

/** Axes of a Reduce* node (input from opset 13 for ReduceSum, 18 for the others; else attribute). */
function reduceAxes(ctx: RuleContext): number[] | 'noop' {
  const rank = ctx.shape(ctx.x(0)).length;
  const given = ctx.x(1) ? ctx.constInts(ctx.x(1)) : ctx.attr('axes', null);
  if (!given || given.length === 0) {
    if (ctx.attr('noop_with_empty_axes', 0)) return 'noop';
    return Array.from({ length: rank }, (_, i) => i);
  }
  return given.map((a) => axisOf(a, rank));
}

export const reduceSumRule: GradientRule = (ctx) => {
  const axes = reduceAxes(ctx);
  if (axes === 'noop') return forInputs(ctx, [ctx.g, null]);
  return forInputs(ctx, [expandReduced(ctx, ctx.g, axes, ctx.attr('keepdims', 1) === 1, ctx.x(0)), null]);
};

export const reduceMeanRule: GradientRule = (ctx) => {
  const axes = reduceAxes(ctx);
  if (axes === 'noop') return forInputs(ctx, [ctx.g, null]);
  const x = ctx.x(0);
  const expanded = expandReduced(ctx, ctx.g, axes, ctx.attr('keepdims', 1) === 1, x);
  const count = staticCount(ctx.shape(x), axes);
  if (count !== null) return forInputs(ctx, [scale(ctx, expanded, 1 / count), null]);
  // Symbolic reduced dims: divide by Size(x) / Size(y) computed at run time.
  const n = ctx.b.op('Div', [ctx.b.op('Size', [x]), ctx.b.op('Size', [ctx.y(0)])]);
  return forInputs(ctx, [ctx.b.op('Div', [expanded, ctx.b.op('Cast', [n], { to: 1 })]), null]);
};

/** Reshape-like ops (Reshape, Flatten, Squeeze, Unsqueeze): the gradient takes the input's shape back (none to the shape/axes input). */
export const reshapeBack: GradientRule = (ctx) => forInputs(ctx, [ctx.b.op('Reshape', [ctx.g, shapeTensor(ctx, ctx.x(0))]), null]);

export const transposeRule: GradientRule = (ctx) => {
  const rank = ctx.shape(ctx.x(0)).length;
  const perm = ctx.attr('perm', Array.from({ length: rank }, (_, i) => rank - 1 - i));
  return [ctx.b.op('Transpose', [ctx.g], { perm: inversePerm(perm) })];
};

export const concatRule: GradientRule = (ctx) => {
  const rank = ctx.shape(ctx.x(0)).length;
  const axis = axisOf(ctx.attr('axis', 0), rank);
  const sizes = ctx.node.input.map((name) => ctx.shape(name)[axis]);
  // Symbolic sizes (an empty past_key_values fed for training) are read at run time.
  const split = sizes.every((d): d is number => typeof d === 'number')
    ? ctx.b.constInt64(sizes, undefined, 'split')
    : ctx.b.op('Concat', ctx.node.input.map((name) => ctx.b.op('Gather', [ctx.b.op('Shape', [name]), ctx.b.constInt64([axis], undefined, 'axis')])), { axis: 0 });
  const pieces = ctx.b.node('Split', [ctx.g, split], { axis }, { outputs: sizes.length });
  return pieces.map((p, i) => (ctx.needs(i) ? p : null));
};

export const splitRule: GradientRule = (ctx) => {
  const rank = ctx.shape(ctx.x(0)).length;
  const axis = axisOf(ctx.attr('axis', 0), rank);
  const parts = ctx.node.output.map((y, i) => ctx.dy(i) ?? zerosLike(ctx, y));
  return forInputs(ctx, [ctx.b.op('Concat', parts, { axis }), null]);
};

/**
 * Slice: with constant unit-step bounds on static axes the gradient is g padded with zeros back to
 * the input's extent (one Pad); otherwise (bounds computed at run time, as exporters write
 * `x[..., : x.shape[-1] // 2]`, or steps other than 1) it is scattered back axis by axis.
 */
export const sliceRule: GradientRule = (ctx) => {
  const x = ctx.x(0);
  const xs = ctx.shape(x);
  const rank = xs.length;
  const starts = ctx.maybeConstInts(ctx.x(1));
  const ends = ctx.maybeConstInts(ctx.x(2));
  const count = starts?.length ?? ctx.shape(ctx.x(1))[0];
  if (typeof count !== 'number') ctx.fail('starts of unknown length');
  const axes = ctx.x(3) ? ctx.constInts(ctx.x(3)).map((a) => axisOf(a, rank)) : Array.from({ length: count as number }, (_, i) => i);
  const steps = ctx.x(4) ? ctx.maybeConstInts(ctx.x(4)) : axes.map(() => 1);
  const padded = starts && ends && steps?.every((s) => s === 1) && axes.every((a) => typeof xs[a] === 'number');
  if (!padded) return forInputs(ctx, [sliceScatter(ctx, axes), null, null, null, null]);
  const pads = new Array<number>(2 * rank).fill(0);
  axes.forEach((axis, i) => {
    const dim = xs[axis] as number;
    const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    const start = clamp(starts[i]!);
    const end = Math.max(clamp(ends[i]!), start);
    pads[axis] = start;
    pads[axis + rank] = dim - end;
  });
  const dx = pads.every((p) => p === 0) ? ctx.g : ctx.b.op('Pad', [ctx.g, ctx.b.constInt64(pads, undefined, 'pads')]);
  return forInputs(ctx, [dx, null, null, null, null]);
};

/**
 * The Slice gradient for run-time bounds or steps: per sliced axis, the input positions the slice
 * kept are Slice(Range(0, dim)) with the node's own bounds (so ONNX's clamping rules apply
 * unchanged), and g is scattered into zeros at those positions (distinct, so no reduction needed).
 */
function sliceScatter(ctx: RuleContext, axes: readonly number[]): string {
  const b = ctx.b;
  const x = ctx.x(0);
  const rank = ctx.shape(x).length;
  const xShape = b.op('Shape', [x]);
  const piece = (input: number, i: number): string => {
    const name = ctx.x(input);
    if (!name) return b.constInt64([1], undefined, 'step');
    return b.op('Slice', [name, b.constInt64([i], undefined, 'start'), b.constInt64([i + 1], undefined, 'end')]);
  };
  let g = ctx.g;
  axes.forEach((axis, i) => {
    const dim = b.op('Gather', [xShape, b.constInt64([axis], [], 'axis')], { axis: 0 });
    const positions = b.op('Range', [b.constInt64([0], [], 'zero'), dim, b.constInt64([1], [], 'one')]);
    const kept = b.op('Slice', [positions, piece(1, i), piece(2, i), b.constInt64([0], undefined, 'axes'), piece(4, i)]);
    // kept laid along `axis` and broadcast over g's other axes
    const alongAxis = Array.from({ length: rank }, (_, a) => (a === axis ? -1 : 1));
    const gShape = b.op('Shape', [g]);
    const index = b.op('Expand', [b.op('Reshape', [kept, b.constInt64(alongAxis, undefined, 'shape')]), gShape]);
    // g's shape with the input's extent on `axis`
    const target = b.op('ScatterElements', [gShape, b.constInt64([axis], undefined, 'axis'), b.op('Unsqueeze', [dim, b.constInt64([0], undefined, 'axes')])], { axis: 0 });
    g = b.op('ScatterElements', [b.op('ConstantOfShape', [target]), index, g], { axis });
  });
  return g;
}

/**
 * Gather along `axis`: scatter-add g into zeros shaped like the data. Axis 0 (embeddings) is one
 * ScatterND(reduction=add); other axes move the gathered axis to the front and back.
 */
export const gatherRule: GradientRule = (ctx) => {
  const [data, indices] = [ctx.x(0), ctx.x(1)];
  const ds = ctx.shape(data);
  const is = ctx.shape(indices);
  const axis = axisOf(ctx.attr('axis', 0), ds.length);
  const q = is.length;
  const b = ctx.b;
  // Bring data's axis to the front; g's index dims likewise.
  const dataPerm = [axis, ...ds.keys()].filter((a, i) => i === 0 || a !== axis);
  const gPerm = [...Array.from({ length: q }, (_, i) => axis + i), ...Array.from({ length: axis }, (_, i) => i), ...Array.from({ length: ds.length - 1 - axis }, (_, i) => axis + q + i)];
  const g = axis === 0 ? ctx.g : b.op('Transpose', [ctx.g], { perm: gPerm });
  const frontShape: Shape = dataPerm.map((a) => ds[a]!);
  const zeros = b.op('ConstantOfShape', [isStatic(frontShape) ? b.constInt64(frontShape, undefined, 'shape') : permutedShape(ctx, data, dataPerm)]);
  const index = b.op('Unsqueeze', [nonNegative(ctx, indices, ds[axis]!), b.constInt64([-1], undefined, 'axes')]);
  const scattered = b.op('ScatterND', [zeros, index, g], { reduction: 'add' });
  return [axis === 0 ? scattered : b.op('Transpose', [scattered], { perm: inversePerm(dataPerm) }), null];
};

/** Gather allows negative indices; ScatterND's add does not promise to, so wrap them. */
function nonNegative(ctx: RuleContext, indices: string, dim: number | string): string {
  const constant = (() => {
    try {
      return ctx.constInts(indices);
    } catch {
      return undefined;
    }
  })();
  if (constant && constant.every((v) => v >= 0)) return indices;
  if (typeof dim !== 'number') return indices;
  const b = ctx.b;
  const idx = b.op('Cast', [indices], { to: 7 });
  const n = b.constInt64([dim], [], 'dim');
  return b.op('Where', [b.op('Less', [idx, b.constInt64([0], [], 'zero')]), b.op('Add', [idx, n]), idx]);
}

function permutedShape(ctx: RuleContext, x: string, perm: readonly number[]): string {
  return ctx.b.op('Gather', [ctx.b.op('Shape', [x]), ctx.b.constInt64(perm, undefined, 'perm')], { axis: 0 });
}

/** Where(c, a, b): the gradient goes to a where c holds, to b elsewhere. */
export const whereRule: GradientRule = (ctx) => {
  const [c, a, bv] = [ctx.x(0), ctx.x(1), ctx.x(2)];
  const zero = ctx.b.constFloat(0, [], 'zero');
  const yShape = ctx.shape(ctx.y(0));
  return [
    null,
    ctx.needs(1) ? unbroadcast(ctx, ctx.b.op('Where', [c, ctx.g, zero]), yShape, a) : null,
    ctx.needs(2) ? unbroadcast(ctx, ctx.b.op('Where', [c, zero, ctx.g]), yShape, bv) : null,
  ];
};

/** GatherElements along `axis`: g scatter-added into zeros shaped like the data (indices may repeat). */
export const gatherElementsRule: GradientRule = (ctx) => {
  const rank = ctx.shape(ctx.x(0)).length;
  const axis = axisOf(ctx.attr('axis', 0), rank);
  return forInputs(ctx, [ctx.b.op('ScatterElements', [zerosLike(ctx, ctx.x(0)), ctx.x(1), ctx.g], { axis, reduction: 'add' }), null]);
};
