/**
 * Gradient rules of the neural-network layers: LayerNormalization, Conv (input gradient as
 * ConvTranspose, weight gradient as a Conv over batch-transposed tensors), MaxPool (scatter through
 * the pooling indices), AveragePool (ConvTranspose with a constant kernel), GlobalAveragePool.
 */
import type { GradientRule, RuleContext } from './api.js';
import { axisOf, div, forInputs, mul, reduceMean, reduceSum, shapeTensor, sub, unbroadcast } from './helpers.js';

/** LayerNormalization over axes [axis, rank): recomputes mean and 1/std, then the usual formula. */
export const layerNormRule: GradientRule = (ctx) => {
  const [x, scaleName, bias] = [ctx.x(0), ctx.x(1), ctx.x(2)];
  const xs = ctx.shape(x);
  const rank = xs.length;
  const axis = axisOf(ctx.attr('axis', -1), rank);
  const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
  const b = ctx.b;
  const g = ctx.g;
  const mean = reduceMean(ctx, x, axes, true);
  const xc = sub(ctx, x, mean);
  const variance = reduceMean(ctx, mul(ctx, xc, xc), axes, true);
  const eps = b.constFloat(ctx.attr('epsilon', 1e-5), [], 'eps');
  const invStd = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [variance, eps])])]);
  const xhat = mul(ctx, xc, invStd);
  const dScale = ctx.needs(1) ? unbroadcast(ctx, mul(ctx, g, xhat), xs, scaleName) : null;
  const dBias = bias && ctx.needs(2) ? unbroadcast(ctx, g, xs, bias) : null;
  let dx: string | null = null;
  if (ctx.needs(0)) {
    const dxhat = mul(ctx, g, scaleName);
    const m1 = reduceMean(ctx, dxhat, axes, true);
    const m2 = reduceMean(ctx, mul(ctx, dxhat, xhat), axes, true);
    dx = mul(ctx, invStd, sub(ctx, sub(ctx, dxhat, m1), mul(ctx, xhat, m2)));
  }
  return forInputs(ctx, [dx, dScale, dBias]);
};

interface ConvGeometry {
  spatial: number;
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** begin pads then end pads, per spatial axis */
  pads: number[];
}

/** Kernel, strides, dilations and explicit pads of a Conv/pool node (auto_pad resolved from static shapes). */
function geometry(ctx: RuleContext, kernel: number[]): ConvGeometry {
  const xs = ctx.shape(ctx.x(0));
  const ys = ctx.shape(ctx.y(0));
  const spatial = kernel.length;
  const ones = new Array<number>(spatial).fill(1);
  const strides = ctx.attr('strides', ones);
  const dilations = ctx.attr('dilations', ones);
  const autoPad = ctx.attr('auto_pad', 'NOTSET');
  let pads = ctx.attr('pads', new Array<number>(2 * spatial).fill(0));
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = new Array<number>(2 * spatial).fill(0);
    for (let i = 0; i < spatial; i++) {
      const inDim = xs[i + 2];
      const outDim = ys[i + 2];
      if (typeof inDim !== 'number' || typeof outDim !== 'number') ctx.fail('auto_pad with symbolic spatial dims');
      const total = Math.max(((outDim as number) - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - (inDim as number), 0);
      const small = Math.floor(total / 2);
      pads[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      pads[i + spatial] = total - pads[i]!;
    }
  } else if (autoPad === 'VALID') {
    pads = new Array<number>(2 * spatial).fill(0);
  }
  return { spatial, kernel, strides, dilations, pads };
}

/** ConvTranspose output_padding so its output matches the forward input's spatial size exactly. */
function outputPadding(ctx: RuleContext, geo: ConvGeometry): number[] {
  const xs = ctx.shape(ctx.x(0));
  const ys = ctx.shape(ctx.y(0));
  return geo.kernel.map((k, i) => {
    const inDim = xs[i + 2];
    const outDim = ys[i + 2];
    if (typeof inDim !== 'number' || typeof outDim !== 'number') ctx.fail('symbolic spatial dims');
    const produced = geo.strides[i]! * ((outDim as number) - 1) + (k - 1) * geo.dilations[i]! + 1 - geo.pads[i]! - geo.pads[i + geo.spatial]!;
    return (inDim as number) - produced;
  });
}

export const convRule: GradientRule = (ctx) => {
  const [x, w, bias] = [ctx.x(0), ctx.x(1), ctx.x(2)];
  const ws = ctx.shape(w);
  const kernel = ws.slice(2) as number[];
  const geo = geometry(ctx, ctx.attr('kernel_shape', kernel));
  const group = ctx.attr('group', 1);
  const b = ctx.b;
  const g = ctx.g;
  const spatialAxes = Array.from({ length: geo.spatial }, (_, i) => i + 2);
  const dBias = bias && ctx.needs(2) ? reduceSum(ctx, g, [0, ...spatialAxes], false) : null;
  const outPad = ctx.needs(0) ? outputPadding(ctx, geo) : [];
  const dx = ctx.needs(0)
    ? b.op('ConvTranspose', [g, w], {
        strides: geo.strides, pads: geo.pads, dilations: geo.dilations, group,
        output_padding: outPad.some((p) => p !== 0) ? outPad : undefined,
      })
    : null;
  let dw: string | null = null;
  if (ctx.needs(1)) {
    if (group !== 1) ctx.fail(`weight gradient with group=${group}`);
    // dW[m,c,k] = sum_n,o g[n,m,o] x[n,c,o*s + k*d - p]: a Conv of x^T (C,N,...) by g^T (M,N,...)
    // with the roles of stride and dilation swapped.
    const swap = [1, 0, ...spatialAxes];
    const conv = b.op('Conv', [b.op('Transpose', [x], { perm: swap }), b.op('Transpose', [g], { perm: swap })], {
      strides: geo.dilations, dilations: geo.strides, pads: geo.pads,
    });
    // [C, M, k'...]: k' exceeds k when the stride does not divide the padded input evenly.
    const xs = ctx.shape(x);
    const ys = ctx.shape(ctx.y(0));
    const exact = kernel.every((k, i) => {
      const [inDim, outDim] = [xs[i + 2], ys[i + 2]];
      if (typeof inDim !== 'number' || typeof outDim !== 'number') return false;
      const span = inDim + geo.pads[i]! + geo.pads[i + geo.spatial]! - ((outDim - 1) * geo.strides[i]! + 1);
      return Math.floor(span / geo.dilations[i]!) + 1 === k;
    });
    dw = b.op('Transpose', [exact ? conv : trimTo(ctx, conv, kernel, spatialAxes)], { perm: swap });
  }
  return forInputs(ctx, [dx, dw, dBias]);
};

/** Crops spatial axes to `sizes` (no node when already that size). */
function trimTo(ctx: RuleContext, value: string, sizes: number[], axes: number[]): string {
  const b = ctx.b;
  return b.op('Slice', [value, b.constInt64(sizes.map(() => 0), undefined, 'starts'), b.constInt64(sizes, undefined, 'ends'), b.constInt64(axes, undefined, 'axes')]);
}

/** MaxPool: send g to the argmax positions (the node's Indices output, added when absent). */
export const maxPoolRule: GradientRule = (ctx) => {
  const node = ctx.node;
  const x = ctx.x(0);
  if (ctx.attr('storage_order', 0) !== 0) ctx.fail('storage_order=1');
  let indices = node.output[1];
  if (!indices) {
    indices = ctx.b.fresh('maxpool_indices');
    node.output[1] = indices;
  }
  const b = ctx.b;
  const flat = b.constInt64([-1], undefined, 'flat');
  const numel = b.op('Size', [x]);
  const zeros = b.op('ConstantOfShape', [b.op('Reshape', [numel, b.constInt64([1], undefined, 'shape')])]);
  const scattered = b.op('ScatterElements', [zeros, b.op('Reshape', [indices, flat]), b.op('Reshape', [ctx.g, flat])], { axis: 0, reduction: 'add' });
  return [b.op('Reshape', [scattered, shapeTensor(ctx, x)])];
};

/** AveragePool: ConvTranspose of g with a per-channel constant kernel 1/|window|. */
export const averagePoolRule: GradientRule = (ctx) => {
  const x = ctx.x(0);
  const xs = ctx.shape(x);
  const kernel = ctx.attr('kernel_shape', [] as number[]);
  const geo = geometry(ctx, kernel);
  const channels = xs[1];
  if (typeof channels !== 'number') ctx.fail('symbolic channel count');
  if (ctx.attr('ceil_mode', 0) !== 0) ctx.fail('ceil_mode=1');
  if (geo.pads.some((p) => p !== 0) && ctx.attr('count_include_pad', 0) === 0) ctx.fail('padding without count_include_pad');
  if (geo.dilations.some((d) => d !== 1)) ctx.fail('dilations');
  const window = kernel.reduce((a, k) => a * k, 1);
  const c = channels as number;
  const weight = ctx.b.constFloat(new Array<number>(c * window).fill(1 / window), [c, 1, ...kernel], 'avgpool_kernel');
  const outPad = outputPadding(ctx, geo);
  return [ctx.b.op('ConvTranspose', [ctx.g, weight], {
    strides: geo.strides, pads: geo.pads, group: c, output_padding: outPad.some((p) => p !== 0) ? outPad : undefined,
  })];
};

export const globalAveragePoolRule: GradientRule = (ctx) => {
  const x = ctx.x(0);
  const xs = ctx.shape(x);
  const spatial = xs.slice(2);
  if (!spatial.every((d): d is number => typeof d === 'number')) ctx.fail('symbolic spatial dims');
  const area = (spatial as number[]).reduce((a, d) => a * d, 1);
  const scaled = div(ctx, ctx.g, ctx.b.constFloat(area, [], 'area'));
  return [ctx.b.op('Expand', [scaled, shapeTensor(ctx, x)])];
};

/** Erf: d/dx erf(x) = 2/sqrt(pi) exp(-x^2). */
export const erfRule: GradientRule = (ctx) => {
  const x = ctx.x(0);
  const b = ctx.b;
  const gauss = b.op('Exp', [b.op('Neg', [mul(ctx, x, x)])]);
  return [mul(ctx, ctx.g, mul(ctx, gauss, b.constFloat(2 / Math.sqrt(Math.PI), [], 'two_over_sqrt_pi')))];
};

/** Pow(a, b): da = g b a^(b-1); db = g y ln(a). */
export const powRule: GradientRule = (ctx) => {
  const [a, e] = [ctx.x(0), ctx.x(1)];
  const y = ctx.y(0);
  const ys = ctx.shape(y);
  const b = ctx.b;
  let da: string | null = null;
  if (ctx.needs(0)) {
    const constant = constantScalar(ctx, e);
    const local =
      constant === 2 ? mul(ctx, a, b.constFloat(2, [], 'two'))
      : constant === 1 ? null
      : mul(ctx, e, b.op('Pow', [a, b.op('Sub', [e, b.constFloat(1, [], 'one')])]));
    da = unbroadcast(ctx, local ? mul(ctx, ctx.g, local) : ctx.g, ys, a);
  }
  const db = ctx.needs(1) ? unbroadcast(ctx, mul(ctx, ctx.g, mul(ctx, y, b.op('Log', [a]))), ys, e) : null;
  return [da, db];
};

/** The value of a constant float scalar input, when it is one. */
function constantScalar(ctx: RuleContext, name: string): number | undefined {
  const init = ctx.graph.initializer.find((t) => t.name === name);
  const node = init ? undefined : ctx.graph.node.find((n) => n.opType === 'Constant' && n.output?.[0] === name);
  const t = init ?? node?.attribute?.find((a) => a.name === 'value')?.t;
  if (!t || t.dataType !== 1) return undefined;
  const values = t.rawData && t.rawData.length === 4 ? new Float32Array(new Uint8Array(t.rawData).buffer) : t.floatData;
  return values && values.length === 1 ? values[0] : undefined;
}

export const sqrtRule: GradientRule = (ctx) => [mul(ctx, ctx.g, div(ctx, ctx.b.constFloat(0.5, [], 'half'), ctx.y(0)))];

/**
 * Gelu (opset 20): exact, d/dx = Phi(x) + x phi(x); tanh form y = x/2 (1 + tanh u) with
 * u = sqrt(2/pi) (x + 0.044715 x^3), d/dx = (1 + t)/2 + x/2 (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2).
 */
export const geluRule: GradientRule = (ctx) => {
  const x = ctx.x(0);
  const b = ctx.b;
  const k = (v: number, hint: string): string => b.constFloat(v, [], hint);
  const x2 = mul(ctx, x, x);
  let local: string;
  if (ctx.attr('approximate', 'none') === 'tanh') {
    const c = Math.sqrt(2 / Math.PI);
    const t = b.op('Tanh', [mul(ctx, mul(ctx, x, k(c, 'sqrt_2_over_pi')), b.op('Add', [k(1, 'one'), mul(ctx, x2, k(0.044715, 'gelu_a'))]))]);
    const du = mul(ctx, k(c, 'sqrt_2_over_pi'), b.op('Add', [k(1, 'one'), mul(ctx, x2, k(3 * 0.044715, 'gelu_3a'))]));
    const half = k(0.5, 'half');
    local = b.op('Add', [mul(ctx, half, b.op('Add', [k(1, 'one'), t])), mul(ctx, mul(ctx, half, x), mul(ctx, sub(ctx, k(1, 'one'), mul(ctx, t, t)), du))]);
  } else {
    const cdf = mul(ctx, k(0.5, 'half'), b.op('Add', [k(1, 'one'), b.op('Erf', [mul(ctx, x, k(Math.SQRT1_2, 'one_over_sqrt2'))])]));
    const pdf = mul(ctx, b.op('Exp', [mul(ctx, x2, k(-0.5, 'minus_half'))]), k(1 / Math.sqrt(2 * Math.PI), 'one_over_sqrt_2pi'));
    local = b.op('Add', [cdf, mul(ctx, x, pdf)]);
  }
  return [mul(ctx, ctx.g, local)];
};
