/**
 * In-graph optimizers. For each parameter the graph receives (param, grad, state...) and emits the
 * new param and new state, so one session.run trains a step. Hyperparameters that change over time
 * are scalar graph inputs computed host-side each step (see `optimizerFeeds`):
 *
 *   Adam/AdamW keep their moments pre-divided by (1-b1) and (1-b2): M = m/(1-b1), V = v/(1-b2), so
 *     M' = b1 M + g,  V' = b2 V + g*g   (5 ops instead of 7: the update is memory-bound, ~half a step)
 *   and bias correction plus those factors fold host-side into two scalars (exactly PyTorch's formula):
 *     p' = p - lr/(1-b1^t) * m' / (sqrt(v')/sqrt(1-b2^t) + eps)
 *        = p - stepSize * M' / (sqrt(V') + epsHat),
 *     stepSize = lr (1-b1) sqrt(1-b2^t) / ((1-b1^t) sqrt(1-b2)),  epsHat = eps sqrt(1-b2^t) / sqrt(1-b2).
 *   AdamW decays first: p <- p * (1 - lr * wd) (decoupled, the scheduled lr without bias correction).
 *   Adam's weightDecay is classic L2: g <- g + wd * p. SGD: buf' = momentum * buf + g; p' = p - lr * buf'.
 */
import { tensorValueInfo, type ValueInfoProto } from '../onnx/proto.js';
import type { GraphBuilder } from '../onnx/builder.js';
import { reduce } from '../onnx/ops.js';
import { learningRateAt, type ScheduleSpec } from './schedule.js';

export type OptimizerSpec =
  | { kind: 'adam'; lr: number; betas?: readonly [number, number]; eps?: number; weightDecay?: number; schedule?: ScheduleSpec }
  | { kind: 'adamw'; lr: number; betas?: readonly [number, number]; eps?: number; weightDecay?: number; schedule?: ScheduleSpec }
  | { kind: 'sgd'; lr: number; momentum?: number; weightDecay?: number; schedule?: ScheduleSpec };

export interface ParamToUpdate {
  name: string;
  grad: string;
  dims: readonly number[];
}

export interface ParamUpdate {
  param: string;
  /** New value of the parameter. */
  output: string;
  /** Optimizer state: graph input -> graph output, same dims as the param. */
  state: { input: string; output: string }[];
}

export interface OptimizerFragment {
  updates: ParamUpdate[];
  /** Scalar float graph inputs, by role. */
  scalars: Record<string, string>;
  inputs: ValueInfoProto[];
  /** Global gradient norm before clipping (only when clipping). */
  gradNorm?: string;
}

export const ADAM_DEFAULTS = { betas: [0.9, 0.999] as const, eps: 1e-8 };
export const ADAMW_DEFAULT_WEIGHT_DECAY = 0.01;

export function appendOptimizer(b: GraphBuilder, opset: number, spec: OptimizerSpec, params: readonly ParamToUpdate[], clipNorm?: number): OptimizerFragment {
  const inputs: ValueInfoProto[] = [];
  const scalar = (role: string): string => {
    const name = b.fresh(`optim/${role}`);
    inputs.push(tensorValueInfo(name, []));
    return name;
  };
  const stateInput = (p: ParamToUpdate, role: string): string => {
    const name = b.fresh(`optim/${p.name}/${role}`);
    inputs.push(tensorValueInfo(name, p.dims));
    return name;
  };

  let grads = params.map((p) => p.grad);
  let gradNorm: string | undefined;
  if (clipNorm !== undefined) {
    ({ grads, gradNorm } = clipByGlobalNorm(b, opset, grads, clipNorm));
  }

  const scalars: Record<string, string> = {};
  const updates: ParamUpdate[] = [];
  if (spec.kind === 'sgd') {
    scalars.lr = scalar('lr');
    const momentum = spec.momentum ?? 0;
    const wd = spec.weightDecay ?? 0;
    params.forEach((p, i) => {
      let g = grads[i]!;
      if (wd !== 0) g = b.op('Add', [g, b.op('Mul', [p.name, b.constFloat(wd, [], 'wd')])]);
      if (momentum === 0) {
        updates.push({ param: p.name, output: b.op('Sub', [p.name, b.op('Mul', [g, scalars.lr!])]), state: [] });
        return;
      }
      const buf = stateInput(p, 'momentum');
      const newBuf = b.op('Add', [b.op('Mul', [buf, b.constFloat(momentum, [], 'momentum')]), g]);
      updates.push({ param: p.name, output: b.op('Sub', [p.name, b.op('Mul', [newBuf, scalars.lr!])]), state: [{ input: buf, output: newBuf }] });
    });
  } else {
    const [beta1, beta2] = spec.betas ?? ADAM_DEFAULTS.betas;
    if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) throw new RangeError(`Adam betas must be in [0, 1), got [${beta1}, ${beta2}]`);
    scalars.stepSize = scalar('step_size');
    scalars.eps = scalar('eps_hat');
    const decoupled = spec.kind === 'adamw';
    const wd = spec.weightDecay ?? (decoupled ? ADAMW_DEFAULT_WEIGHT_DECAY : 0);
    if (decoupled && wd !== 0) scalars.decay = scalar('decay');
    const b1 = b.constFloat(beta1, [], 'beta1');
    const b2 = b.constFloat(beta2, [], 'beta2');
    params.forEach((p, i) => {
      let g = grads[i]!;
      let param = p.name;
      if (!decoupled && wd !== 0) g = b.op('Add', [g, b.op('Mul', [p.name, b.constFloat(wd, [], 'wd')])]);
      if (decoupled && wd !== 0) param = b.op('Mul', [p.name, scalars.decay!]);
      const m = stateInput(p, 'exp_avg_scaled');
      const v = stateInput(p, 'exp_avg_sq_scaled');
      const newM = b.op('Add', [b.op('Mul', [m, b1]), g]);
      const newV = b.op('Add', [b.op('Mul', [v, b2]), b.op('Mul', [g, g])]);
      const denom = b.op('Add', [b.op('Sqrt', [newV]), scalars.eps!]);
      const delta = b.op('Mul', [b.op('Div', [newM, denom]), scalars.stepSize!]);
      updates.push({
        param: p.name,
        output: b.op('Sub', [param, delta]),
        state: [
          { input: m, output: newM },
          { input: v, output: newV },
        ],
      });
    });
  }
  return { updates, scalars, inputs, ...(gradNorm ? { gradNorm } : {}) };
}

/** torch.nn.utils.clip_grad_norm_: scale all grads by min(1, maxNorm / (norm + 1e-6)). */
function clipByGlobalNorm(b: GraphBuilder, opset: number, grads: readonly string[], maxNorm: number): { grads: string[]; gradNorm: string } {
  const squares = grads.map((g) => reduce(b, opset, 'ReduceSumSquare', g, undefined, false));
  const total = squares.length === 1 ? squares[0]! : b.op('Sum', squares);
  const gradNorm = b.op('Sqrt', [total], {}, 'grad_norm');
  const ratio = b.op('Div', [b.constFloat(maxNorm, [], 'max_norm'), b.op('Add', [gradNorm, b.constFloat(1e-6, [], 'clip_eps')])]);
  const coef = b.op('Min', [ratio, b.constFloat(1, [], 'one')]);
  return { grads: grads.map((g) => b.op('Mul', [g, coef])), gradNorm };
}

/** Values of the scalar inputs for optimizer step `step` (1-based). */
export function optimizerFeeds(spec: OptimizerSpec, step: number): Record<string, number> {
  const lr = learningRateAt(spec.lr, step, spec.schedule);
  if (spec.kind === 'sgd') return { lr };
  const [beta1, beta2] = spec.betas ?? ADAM_DEFAULTS.betas;
  const eps = spec.eps ?? ADAM_DEFAULTS.eps;
  const c2 = Math.sqrt(1 - Math.pow(beta2, step)) / Math.sqrt(1 - beta2);
  const feeds: Record<string, number> = { stepSize: (lr * (1 - beta1) * c2) / (1 - Math.pow(beta1, step)), eps: eps * c2 };
  const wd = spec.weightDecay ?? (spec.kind === 'adamw' ? ADAMW_DEFAULT_WEIGHT_DECAY : 0);
  if (spec.kind === 'adamw' && wd !== 0) feeds.decay = 1 - lr * wd;
  return feeds;
}
