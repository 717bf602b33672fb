/**
 * THE table of gradient rules, keyed by ONNX op type (like PyTorch's derivatives.yaml). A rule
 * gets the forward node and its output gradient (ctx.g) and returns each input's gradient value
 * (null = none). Rules emit only standard ONNX ops (opset 16+, see ./opset.ts) and skip inputs that need no gradient.
 */
import type { GradientRule, RuleContext } from './api.js';
import { axisOf, div, forInputs, mul, neg, reduceSum, sub, unbroadcast } from './helpers.js';
import { gemm, matmul } from './linear.js';
import { concatRule, gatherElementsRule, gatherRule, reduceMeanRule, reduceSumRule, reshapeBack, sliceRule, splitRule, transposeRule, whereRule } from './indexing.js';
import { averagePoolRule, convRule, erfRule, geluRule, globalAveragePoolRule, layerNormRule, maxPoolRule, powRule, sqrtRule } from './nn.js';

/** Gradient of an elementwise binary op's input i, un-broadcast from the output's shape. */
const toInput = (ctx: RuleContext, i: number, g: string): string => unbroadcast(ctx, g, ctx.shape(ctx.y(0)), ctx.x(i));

/** Softmax over one axis: dx = y * (g - sum(g * y)). */
const softmax: GradientRule = (ctx) => {
  const y = ctx.y(0);
  const axis = softmaxAxis(ctx);
  const gy = mul(ctx, ctx.g, y);
  const s = reduceSum(ctx, gy, [axis], true);
  return [sub(ctx, gy, mul(ctx, y, s))];
};

/** LogSoftmax over one axis: dx = g - exp(y) * sum(g). */
const logSoftmax: GradientRule = (ctx) => {
  const axis = softmaxAxis(ctx);
  const s = reduceSum(ctx, ctx.g, [axis], true);
  return [sub(ctx, ctx.g, mul(ctx, ctx.b.op('Exp', [ctx.y(0)]), s))];
};

/** One-axis softmax (opset 13+; older models are refused before any rule runs, see ./opset.ts). */
const softmaxAxis = (ctx: RuleContext): number => axisOf(ctx.attr('axis', -1), ctx.shape(ctx.x(0)).length);

const one = (ctx: RuleContext): string => ctx.b.constFloat(1, [], 'one');
const zero = (ctx: RuleContext): string => ctx.b.constFloat(0, [], 'zero');

export const RULES: Readonly<Record<string, GradientRule>> = {
  Gemm: gemm,
  MatMul: matmul,
  Add: (ctx) => [ctx.needs(0) ? toInput(ctx, 0, ctx.g) : null, ctx.needs(1) ? toInput(ctx, 1, ctx.g) : null],
  Sub: (ctx) => [ctx.needs(0) ? toInput(ctx, 0, ctx.g) : null, ctx.needs(1) ? neg(ctx, toInput(ctx, 1, ctx.g)) : null],
  Mul: (ctx) => [
    ctx.needs(0) ? toInput(ctx, 0, mul(ctx, ctx.g, ctx.x(1))) : null,
    ctx.needs(1) ? toInput(ctx, 1, mul(ctx, ctx.g, ctx.x(0))) : null,
  ],
  Div: (ctx) => {
    const gOverB = div(ctx, ctx.g, ctx.x(1));
    // d(a/b)/db = -g * y / b
    return [ctx.needs(0) ? toInput(ctx, 0, gOverB) : null, ctx.needs(1) ? neg(ctx, toInput(ctx, 1, mul(ctx, gOverB, ctx.y(0)))) : null];
  },
  Neg: (ctx) => [neg(ctx, ctx.g)],
  Identity: (ctx) => [ctx.g],
  // Inference-mode Dropout is the identity (training-mode dropout is not part of a forward graph we train).
  Dropout: (ctx) => forInputs(ctx, [ctx.g, null, null]),
  Relu: (ctx) => [ctx.b.op('Where', [ctx.b.op('Greater', [ctx.x(0), zero(ctx)]), ctx.g, zero(ctx)])],
  LeakyRelu: (ctx) => {
    const alpha = ctx.b.constFloat(ctx.attr('alpha', 0.01), [], 'alpha');
    return [ctx.b.op('Where', [ctx.b.op('Greater', [ctx.x(0), zero(ctx)]), ctx.g, mul(ctx, ctx.g, alpha)])];
  },
  Sigmoid: (ctx) => {
    const y = ctx.y(0);
    return [mul(ctx, ctx.g, mul(ctx, y, sub(ctx, one(ctx), y)))];
  },
  Tanh: (ctx) => {
    const y = ctx.y(0);
    return [mul(ctx, ctx.g, sub(ctx, one(ctx), mul(ctx, y, y)))];
  },
  Exp: (ctx) => [mul(ctx, ctx.g, ctx.y(0))],
  Log: (ctx) => [div(ctx, ctx.g, ctx.x(0))],
  Softmax: softmax,
  LogSoftmax: logSoftmax,
  Reciprocal: (ctx) => [neg(ctx, mul(ctx, ctx.g, mul(ctx, ctx.y(0), ctx.y(0))))],
  Abs: (ctx) => [mul(ctx, ctx.g, ctx.b.op('Sign', [ctx.x(0)]))],
  Erf: erfRule,
  Gelu: geluRule,
  Pow: powRule,
  Sqrt: sqrtRule,
  // float -> float casts only (casts to integers carry no gradient and never reach a rule); the
  // gradient goes back in the input's type (float16 -> float32 -> float16 paths).
  Cast: (ctx) => [ctx.b.op('CastLike', [ctx.g, ctx.x(0)])],
  Sin: (ctx) => [mul(ctx, ctx.g, ctx.b.op('Cos', [ctx.x(0)]))],
  Cos: (ctx) => [neg(ctx, mul(ctx, ctx.g, ctx.b.op('Sin', [ctx.x(0)])))],
  // softplus(x) = log(1 + e^x); d/dx = sigmoid(x)
  Softplus: (ctx) => [mul(ctx, ctx.g, ctx.b.op('Sigmoid', [ctx.x(0)]))],
  // Trilu keeps a triangle: linear, so the gradient keeps the same triangle.
  Trilu: (ctx) => forInputs(ctx, [ctx.b.op('Trilu', ctx.x(1) ? [ctx.g, ctx.x(1)] : [ctx.g], { upper: ctx.attr('upper', 1) }), null]),
  Expand: (ctx) => [toInput(ctx, 0, ctx.g), null],
  Where: whereRule,
  Flatten: reshapeBack,
  Reshape: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  Transpose: transposeRule,
  Concat: concatRule,
  Split: splitRule,
  Slice: sliceRule,
  Gather: gatherRule,
  GatherElements: gatherElementsRule,
  ReduceSum: reduceSumRule,
  ReduceMean: reduceMeanRule,
  LayerNormalization: layerNormRule,
  Conv: convRule,
  MaxPool: maxPoolRule,
  AveragePool: averagePoolRule,
  GlobalAveragePool: globalAveragePoolRule,
};
