/**
 * Loss fragments appended to a forward graph. Each takes the model's output value, declares the
 * graph inputs it needs (targets, mask) and produces a scalar: the mean over the batch.
 * Everything goes through LogSoftmax, never log(softmax), for numerical stability.
 * Hard labels use OneHot (no gradient flows into labels) so the only differentiated ops are
 * Slice, LogSoftmax, Mul, Sub, Neg, ReduceSum, ReduceMean and Div; token losses pick the target
 * log-probs with GatherElements instead of a dense one-hot over the vocabulary.
 */
import { DataType, tensorValueInfo, type ValueInfoProto } from '../onnx/proto.js';
import type { GraphBuilder } from '../onnx/builder.js';
import { reduce, sliceLastAxis } from '../onnx/ops.js';
import { AuditInputError, UnsupportedModelError } from '../errors.js';

/** [start, end) on the model output's last axis. */
export type SliceRange = readonly [number, number];
export type TargetForm = 'probabilities' | 'logits';

export type LossSpec =
  /** Cross-entropy against soft targets [N, end-start]: -sum t * log softmax(z), mean over rows. */
  | { kind: 'softCrossEntropy'; slice?: SliceRange; targets: TargetForm; output?: string }
  /** KL(target || softmax(z)) = CE - H(target): same gradient as softCrossEntropy, zero at a perfect match. */
  | { kind: 'klDivergence'; slice?: SliceRange; targets: TargetForm; output?: string }
  /** Cross-entropy against int64 class labels [N] (class index within the slice). */
  | { kind: 'crossEntropy'; slice?: SliceRange; output?: string }
  /** Text: logits [N,T,V], int64 targets [N,T], float mask [N,T]; sum(mask * nll) / sum(mask). */
  | { kind: 'tokenCrossEntropy'; output?: string }
  /**
   * Text, soft targets: logits [N,T,V]; int64 target ids [N,T,k], float mask [N,T], float target
   * probabilities [N,T,k] (a sparse distribution per position, summing to 1 where the mask is 1;
   * unused slots carry probability 0). sum(mask * KL(target || softmax(z))) / sum(mask).
   */
  | { kind: 'tokenKlDivergence'; k: number; output?: string }
  /** Mean over rows and slice elements of (z - t)^2, like torch.nn.MSELoss(). */
  | { kind: 'squaredError'; slice?: SliceRange; output?: string };

export interface LossFragment {
  /** Scalar loss value. */
  loss: string;
  /** Graph inputs the loss added (targets first, then the mask if any). */
  inputs: ValueInfoProto[];
}

export interface LossContext {
  builder: GraphBuilder;
  opset: number;
  /** The model output the loss reads. */
  output: string;
  /** Static dims of that output (symbolic batch dim as a string). */
  outputDims: readonly (number | string)[];
}

const BATCH = 'batch';

export function appendLoss(ctx: LossContext, spec: LossSpec): LossFragment {
  const { builder: b, opset } = ctx;
  if (spec.kind === 'tokenCrossEntropy') return tokenCrossEntropy(ctx);
  if (spec.kind === 'tokenKlDivergence') return tokenKlDivergence(ctx, spec.k);

  const width = lastDim(ctx);
  const [start, end] = spec.slice ?? [0, width];
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end <= width && start < end)) {
    throw new AuditInputError(`loss slice [${start}, ${end}) is outside the output's ${width} values`);
  }
  const k = end - start;
  const z = start === 0 && end === width ? ctx.output : sliceLastAxis(b, ctx.output, start, end);
  const batchMean = (perRow: string): string => reduce(b, opset, 'ReduceMean', perRow, undefined, false);

  if (spec.kind === 'squaredError') {
    const target = b.fresh('target');
    const diff = b.op('Sub', [z, target]);
    const loss = reduce(b, opset, 'ReduceMean', b.op('Mul', [diff, diff]), undefined, false);
    return { loss: b.op('Identity', [loss], {}, 'loss'), inputs: [tensorValueInfo(target, [BATCH, k])] };
  }

  const logp = b.op('LogSoftmax', [z], { axis: -1 });
  if (spec.kind === 'crossEntropy') {
    const labels = b.fresh('labels');
    const oneHot = b.op('OneHot', [labels, b.constInt64([k], [], 'depth'), b.constFloat([0, 1], [2], 'onehot_values')], { axis: -1 });
    const nll = b.op('Neg', [reduce(b, opset, 'ReduceSum', b.op('Mul', [oneHot, logp]), [-1], false)]);
    return { loss: b.op('Identity', [batchMean(nll)], {}, 'loss'), inputs: [tensorValueInfo(labels, [BATCH], DataType.INT64)] };
  }

  // Soft targets, given as probabilities or as logits to softmax in-graph.
  const target = b.fresh('target');
  const targetInfo = tensorValueInfo(target, [BATCH, k]);
  let probs: string;
  let logProbs: string | undefined;
  if (spec.targets === 'logits') {
    logProbs = b.op('LogSoftmax', [target], { axis: -1 });
    probs = b.op('Exp', [logProbs]);
  } else {
    probs = target;
  }
  let perElement: string;
  if (spec.kind === 'softCrossEntropy') {
    perElement = b.op('Mul', [probs, logp]);
  } else {
    // KL: t * (log t - log p); log t clamped so t = 0 contributes 0 * finite = 0.
    logProbs ??= b.op('Log', [b.op('Max', [probs, b.constFloat(1e-30, [], 'tiny')])]);
    perElement = b.op('Mul', [probs, b.op('Sub', [logp, logProbs])]);
  }
  const perRow = b.op('Neg', [reduce(b, opset, 'ReduceSum', perElement, [-1], false)]);
  return { loss: b.op('Identity', [batchMean(perRow)], {}, 'loss'), inputs: [targetInfo] };
}

function tokenCrossEntropy(ctx: LossContext): LossFragment {
  const { builder: b, opset } = ctx;
  if (ctx.outputDims.length !== 3) throw new UnsupportedModelError(`tokenCrossEntropy needs logits [N,T,V], got rank ${ctx.outputDims.length}`);
  lastDim(ctx);
  const targets = b.fresh('target_tokens');
  const mask = b.fresh('target_mask');
  const [rows, seq] = tokenDims(ctx);
  const logp = b.op('LogSoftmax', [ctx.output], { axis: -1 });
  // The target's log-prob picked out (GatherElements), not a one-hot [N,T,V] multiplied in: the
  // dense one-hot, its product and their gradients were ~15% of a tiny GPT's training step.
  // Targets are the next input ids, which the embedding's Gather already bounds to the vocabulary.
  const picked = b.op('GatherElements', [logp, b.op('Unsqueeze', [targets, b.constInt64([-1], undefined, 'last_axis')])], { axis: -1 });
  const nll = b.op('Neg', [reduce(b, opset, 'ReduceSum', picked, [-1], false)]);
  const maskedSum = reduce(b, opset, 'ReduceSum', b.op('Mul', [nll, mask]), undefined, false);
  // Max(., 1): an all-masked batch gives loss 0 rather than 0/0.
  const count = b.op('Max', [reduce(b, opset, 'ReduceSum', mask, undefined, false), b.constFloat(1, [], 'one')]);
  return {
    loss: b.op('Div', [maskedSum, count], {}, 'loss'),
    inputs: [tensorValueInfo(targets, [rows, seq], DataType.INT64), tensorValueInfo(mask, [rows, seq])],
  };
}

/**
 * Sparse targets: the host sends N*T*k ids and probabilities, not N*T*V, and the graph picks the k
 * log-probs out (GatherElements; its gradient scatters back). A hard target is k = 1 (or one slot
 * with probability 1): the same loss as tokenCrossEntropy.
 */
function tokenKlDivergence(ctx: LossContext, k: number): LossFragment {
  const { builder: b, opset } = ctx;
  if (ctx.outputDims.length !== 3) throw new UnsupportedModelError(`tokenKlDivergence needs logits [N,T,V], got rank ${ctx.outputDims.length}`);
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`tokenKlDivergence: k must be a positive integer, got ${k}`);
  lastDim(ctx);
  const ids = b.fresh('target_ids');
  const mask = b.fresh('target_mask');
  const probs = b.fresh('target_probs');
  const [rows, seq] = tokenDims(ctx);
  const logp = b.op('LogSoftmax', [ctx.output], { axis: -1 });
  // The k target tokens' log-probs picked out (padding slots: id 0 with probability 0 add nothing).
  const cross = b.op('Neg', [reduce(b, opset, 'ReduceSum', b.op('Mul', [probs, b.op('GatherElements', [logp, ids], { axis: -1 })]), [-1], false)]);
  // KL = cross-entropy - H(target): zero at a perfect match; t log t with t = 0 counts 0.
  const logT = b.op('Log', [b.op('Max', [probs, b.constFloat(1e-30, [], 'tiny')])]);
  const negEntropy = reduce(b, opset, 'ReduceSum', b.op('Mul', [probs, logT]), [-1], false);
  const kl = b.op('Add', [cross, negEntropy]);
  const maskedSum = reduce(b, opset, 'ReduceSum', b.op('Mul', [kl, mask]), undefined, false);
  const count = b.op('Max', [reduce(b, opset, 'ReduceSum', mask, undefined, false), b.constFloat(1, [], 'one')]);
  return {
    loss: b.op('Div', [maskedSum, count], {}, 'loss'),
    inputs: [tensorValueInfo(ids, [rows, seq, k], DataType.INT64), tensorValueInfo(mask, [rows, seq]), tensorValueInfo(probs, [rows, seq, k])],
  };
}

/** Rows and positions of a token loss's targets: the logits' own when static (a narrowed head's one row, ./narrowHead.ts). */
function tokenDims(ctx: LossContext): [number | string, number | string] {
  const [rows, seq] = ctx.outputDims;
  return [typeof rows === 'number' ? rows : BATCH, typeof seq === 'number' ? seq : 'sequence'];
}

function lastDim(ctx: LossContext): number {
  const d = ctx.outputDims[ctx.outputDims.length - 1];
  if (typeof d !== 'number') throw new UnsupportedModelError(`the output ${ctx.output} has no static last dimension`);
  return d;
}
