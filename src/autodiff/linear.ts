/**
 * Gradient rules of the linear ops: Gemm (two Gemms with transA/transB, no Transpose nodes) and
 * MatMul (2-D via Gemm; N-D @ 2-D folding the batch into rows; batched with broadcast; 1-D operands).
 */
import type { GradientRule, RuleContext } from './api.js';
import { f } from '../onnx/builder.js';
import { forInputs, scale, shapeTensor, transposeLast2, unbroadcast } from './helpers.js';

/** Gemm: Y = alpha * op(A) op(B) + beta * C; backward is two Gemms with transA/transB. */
export const gemm: GradientRule = (ctx) => {
  const [A, B, C] = [ctx.x(0), ctx.x(1), ctx.x(2)];
  const alpha = ctx.attr('alpha', 1);
  const beta = ctx.attr('beta', 1);
  const tA = ctx.attr('transA', 0);
  const tB = ctx.attr('transB', 0);
  const g = ctx.g;
  const gemmOf = (a: string, b: string, transA: number, transB: number): string =>
    ctx.b.op('Gemm', [a, b], { alpha: alpha === 1 ? undefined : f(alpha), transA: transA || undefined, transB: transB || undefined });
  // dA = alpha * g op(B)^T (transposed back when transA); dB likewise, each one Gemm.
  const dA = !ctx.needs(0) ? null : tA ? gemmOf(B, g, tB, 1) : gemmOf(g, B, 0, tB ? 0 : 1);
  const dB = !ctx.needs(1) ? null : tB ? gemmOf(g, A, 1, tA) : gemmOf(A, g, tA ? 0 : 1, 0);
  const dC = C && ctx.needs(2) ? scale(ctx, unbroadcast(ctx, g, ctx.shape(ctx.y(0)), C), beta) : null;
  return forInputs(ctx, [dA, dB, dC]);
};

/** MatMul (numpy semantics): 2-D uses Gemm; N-D @ 2-D folds the batch into rows; else batched. */
export const matmul: GradientRule = (ctx) => {
  const [A, B] = [ctx.x(0), ctx.x(1)];
  const g = ctx.g;
  const ra = ctx.shape(A).length;
  const rb = ctx.shape(B).length;
  if (ra === 1 || rb === 1) return matmulVector(ctx);
  if (ra === 2 && rb === 2) {
    return [
      ctx.needs(0) ? ctx.b.op('Gemm', [g, B], { transB: 1 }) : null,
      ctx.needs(1) ? ctx.b.op('Gemm', [A, g], { transA: 1 }) : null,
    ];
  }
  const yShape = ctx.shape(ctx.y(0));
  if (rb === 2) {
    // [..., n, k] @ [k, m]: dB = A2^T g2 over all rows; dA = g B^T.
    const k = ctx.shape(B)[0] as number;
    const m = ctx.shape(B)[1] as number;
    const dA = ctx.needs(0) ? ctx.b.op('MatMul', [g, ctx.b.op('Transpose', [B], { perm: [1, 0] })]) : null;
    const dB = ctx.needs(1)
      ? ctx.b.op('Gemm', [
          ctx.b.op('Reshape', [A, ctx.b.constInt64([-1, k], undefined, 'shape')]),
          ctx.b.op('Reshape', [g, ctx.b.constInt64([-1, m], undefined, 'shape')]),
        ], { transA: 1 })
      : null;
    return [dA, dB];
  }
  const dA = ctx.needs(0) ? unbroadcastBatch(ctx, ctx.b.op('MatMul', [g, transposeLast2(ctx, B, rb)]), yShape, ctx.shape(A), A) : null;
  const dB = ctx.needs(1) ? unbroadcastBatch(ctx, ctx.b.op('MatMul', [transposeLast2(ctx, A, ra), g]), yShape, ctx.shape(B), B) : null;
  return [dA, dB];
};

/** Un-broadcasts a batched-matmul gradient whose last two dims already match the operand's. */
function unbroadcastBatch(ctx: RuleContext, grad: string, yShape: readonly (number | string)[], xShape: readonly (number | string)[], x: string): string {
  const gShape = [...yShape.slice(0, -2), ...xShape.slice(-2)];
  return unbroadcast(ctx, grad, gShape, x);
}

/** MatMul with a 1-D operand: promote it to a matrix, differentiate, drop the added axis. */
function matmulVector(ctx: RuleContext): (string | null)[] {
  const [A, B] = [ctx.x(0), ctx.x(1)];
  const sa = ctx.shape(A);
  const sb = ctx.shape(B);
  const b = ctx.b;
  const a2 = sa.length === 1 ? b.op('Unsqueeze', [A, b.constInt64([0], undefined, 'axes')]) : A;
  const b2 = sb.length === 1 ? b.op('Unsqueeze', [B, b.constInt64([1], undefined, 'axes')]) : B;
  let g = ctx.g;
  let yShape = [...ctx.shape(ctx.y(0))];
  if (sa.length === 1) {
    g = b.op('Unsqueeze', [g, b.constInt64([sb.length === 1 ? 0 : yShape.length - 1], undefined, 'axes')]);
    yShape.splice(sb.length === 1 ? 0 : yShape.length - 1, 0, 1);
  }
  if (sb.length === 1) {
    g = b.op('Unsqueeze', [g, b.constInt64([yShape.length], undefined, 'axes')]);
    yShape = [...yShape, 1];
  }
  const ea = sa.length === 1 ? [1, sa[0]!] : [...sa];
  const eb = sb.length === 1 ? [sb[0]!, 1] : [...sb];
  const batched = (grad: string, eShape: (number | string)[], x: string): string => {
    const gShape = [...yShape.slice(0, -2), ...eShape.slice(-2)];
    const lead = gShape.length - eShape.length;
    const axes = gShape.flatMap((d, i) => (i < lead || (eShape[i - lead] === 1 && d !== 1) ? [i] : []));
    const summed = axes.length ? b.op('ReduceSum', [grad, b.constInt64(axes, undefined, 'axes')], { keepdims: 1 }) : grad;
    return b.op('Reshape', [summed, shapeTensor(ctx, x)]);
  };
  return [
    ctx.needs(0) ? batched(b.op('MatMul', [g, transposeLast2(ctx, b2, eb.length)]), ea, A) : null,
    ctx.needs(1) ? batched(b.op('MatMul', [transposeLast2(ctx, a2, ea.length), g]), eb, B) : null,
  ];
}

