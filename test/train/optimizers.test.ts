/**
 * In-graph optimizer updates against JS re-implementations of PyTorch's Adam, AdamW and SGD
 * (several steps, so bias correction and momentum are exercised), plus global-norm clipping.
 * Gradients are fed as graph inputs here: this tests the update math alone.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { onnx, tensorValueInfo } from '../../src/onnx/proto.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { appendOptimizer, optimizerFeeds, type OptimizerSpec } from '../../src/train/optimizers.js';
import { learningRateAt } from '../../src/train/schedule.js';
import { Random } from '../../src/random.js';

const SIZES = [6, 3];

/** Runs `grads.length` steps of the in-graph optimizer; returns the params after each step. */
async function runGraph(spec: OptimizerSpec, params: Float32Array[], grads: Float32Array[][], clipNorm?: number): Promise<{ params: Float32Array[][]; norms: number[] }> {
  const graph = onnx.GraphProto.create({ name: 'opt' });
  const b = new GraphBuilder(graph);
  const list = params.map((p, i) => {
    graph.input.push(tensorValueInfo(`p${i}`, [p.length]), tensorValueInfo(`g${i}`, [p.length]));
    return { name: `p${i}`, grad: `g${i}`, dims: [p.length] };
  });
  const frag = appendOptimizer(b, 17, spec, list, clipNorm);
  graph.input.push(...frag.inputs);
  for (const u of frag.updates) {
    graph.output.push(tensorValueInfo(u.output, [0]));
    for (const s of u.state) graph.output.push(tensorValueInfo(s.output, [0]));
  }
  if (frag.gradNorm) graph.output.push(tensorValueInfo(frag.gradNorm, []));
  for (const o of graph.output) o.type!.tensorType!.shape = undefined;
  const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph });
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
  let current: Float32Array[] = params.map((p) => p.slice());
  let state: Float32Array[][] = frag.updates.map((u, i) => u.state.map(() => new Float32Array(params[i]!.length)));
  const history: Float32Array[][] = [];
  const norms: number[] = [];
  for (let step = 1; step <= grads.length; step++) {
    const feeds: Record<string, ort.Tensor> = {};
    current.forEach((p, i) => {
      feeds[`p${i}`] = new ort.Tensor('float32', p, [p.length]);
      feeds[`g${i}`] = new ort.Tensor('float32', grads[step - 1]![i]!, [p.length]);
      frag.updates[i]!.state.forEach((s, j) => (feeds[s.input] = new ort.Tensor('float32', state[i]![j]!, [p.length])));
    });
    const values = optimizerFeeds(spec, step);
    for (const [role, name] of Object.entries(frag.scalars)) feeds[name] = new ort.Tensor('float32', Float32Array.of(values[role]!), []);
    const out = await session.run(feeds);
    current = frag.updates.map((u) => out[u.output]!.data as Float32Array);
    state = frag.updates.map((u) => u.state.map((s) => out[s.output]!.data as Float32Array));
    if (frag.gradNorm) norms.push((out[frag.gradNorm]!.data as Float32Array)[0]!);
    history.push(current);
  }
  await session.release();
  return { params: history, norms };
}

/**
 * The lr at update t (from 1), written out here rather than taken from src/train/schedule.ts (the
 * code under test): linear warmup t/w, then linear decay to finalFraction at totalSteps, as
 * transformers' get_linear_schedule_with_warmup (with finalFraction 0).
 */
function referenceLr(spec: OptimizerSpec, t: number): number {
  const s = spec.schedule;
  if (!s || s.kind === 'constant') return spec.lr;
  if (t <= s.warmupSteps) return spec.lr * (t / s.warmupSteps);
  const f = s.finalFraction ?? 0;
  const left = Math.max(0, s.totalSteps - t) / (s.totalSteps - s.warmupSteps);
  return spec.lr * (f + (1 - f) * left);
}

/** PyTorch's algorithms in float64. */
function reference(spec: OptimizerSpec, params: Float32Array[], grads: Float32Array[][], clipNorm?: number): number[][][] {
  const p = params.map((x) => Array.from(x));
  const m = params.map((x) => new Array<number>(x.length).fill(0));
  const v = params.map((x) => new Array<number>(x.length).fill(0));
  const history: number[][][] = [];
  grads.forEach((stepGrads, t0) => {
    const t = t0 + 1;
    const lr = referenceLr(spec, t);
    let g = stepGrads.map((x) => Array.from(x));
    if (clipNorm !== undefined) {
      const norm = Math.sqrt(g.flat().reduce((a, x) => a + x * x, 0));
      const coef = Math.min(1, clipNorm / (norm + 1e-6));
      g = g.map((x) => x.map((y) => y * coef));
    }
    p.forEach((pi, i) => {
      for (let k = 0; k < pi.length; k++) {
        let gk = g[i]![k]!;
        if (spec.kind === 'sgd') {
          gk += (spec.weightDecay ?? 0) * pi[k]!;
          m[i]![k] = (spec.momentum ?? 0) * m[i]![k]! + gk;
          pi[k] = pi[k]! - lr * m[i]![k]!;
          continue;
        }
        const [b1, b2] = spec.betas ?? [0.9, 0.999];
        const eps = spec.eps ?? 1e-8;
        if (spec.kind === 'adamw') pi[k] = pi[k]! * (1 - lr * (spec.weightDecay ?? 0.01));
        else gk += (spec.weightDecay ?? 0) * pi[k]!;
        m[i]![k] = b1 * m[i]![k]! + (1 - b1) * gk;
        v[i]![k] = b2 * v[i]![k]! + (1 - b2) * gk * gk;
        const mHat = m[i]![k]! / (1 - b1 ** t);
        const vHat = v[i]![k]! / (1 - b2 ** t);
        pi[k] = pi[k]! - (lr * mHat) / (Math.sqrt(vHat) + eps);
      }
    });
    history.push(p.map((x) => [...x]));
  });
  return history;
}

function fixture(seed: number, steps: number, gradScale = 1): { params: Float32Array[]; grads: Float32Array[][] } {
  const r = new Random(seed);
  const vec = (n: number, s: number): Float32Array => Float32Array.from({ length: n }, () => r.uniform(-s, s));
  return { params: SIZES.map((n) => vec(n, 1)), grads: Array.from({ length: steps }, () => SIZES.map((n) => vec(n, gradScale))) };
}

function expectClose(actual: Float32Array[][], expected: number[][][], tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((stepParams, s) => stepParams.forEach((p, i) => p.forEach((x, k) => expect(Math.abs(x - expected[s]![i]![k]!)).toBeLessThan(tol))));
}

describe('in-graph optimizers match PyTorch semantics', () => {
  const specs: [string, OptimizerSpec][] = [
    ['adam', { kind: 'adam', lr: 0.01 }],
    ['adam + L2 weight decay + custom betas', { kind: 'adam', lr: 0.02, betas: [0.8, 0.99], eps: 1e-6, weightDecay: 0.1 }],
    ['adamw', { kind: 'adamw', lr: 0.01, weightDecay: 0.05 }],
    ['sgd', { kind: 'sgd', lr: 0.1 }],
    ['sgd + momentum + weight decay', { kind: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 0.01 }],
    ['adam with warmup-linear schedule', { kind: 'adam', lr: 0.01, schedule: { kind: 'warmupLinear', warmupSteps: 2, totalSteps: 4 } }],
  ];
  for (const [name, spec] of specs) {
    it(name, async () => {
      const { params, grads } = fixture(name.length, 4);
      const actual = await runGraph(spec, params, grads);
      const expected = reference(spec, params, grads);
      // Parameters really moved (a no-op update would also be "close" to params otherwise).
      expect(Math.abs(actual.params[3]![0]![0]! - params[0]![0]!)).toBeGreaterThan(1e-3);
      expectClose(actual.params, expected);
    });
  }

  it('clips by the global norm across all parameters, and only when above the limit', async () => {
    const { params, grads } = fixture(3, 2, 5);
    const spec: OptimizerSpec = { kind: 'sgd', lr: 0.1 };
    const trueNorm = Math.sqrt(grads[0]!.flatMap((g) => Array.from(g)).reduce((a, x) => a + x * x, 0));
    const clipped = await runGraph(spec, params, grads, 1.0);
    expect(clipped.norms[0]).toBeCloseTo(trueNorm, 4);
    expectClose(clipped.params, reference(spec, params, grads, 1.0));
    // The first step moved params by exactly lr * clipNorm in total.
    const moved = Math.sqrt(clipped.params[0]!.flatMap((p, i) => Array.from(p, (x, k) => x - params[i]![k]!)).reduce((a, x) => a + x * x, 0));
    expect(moved).toBeCloseTo(0.1, 4);
    const loose = await runGraph(spec, params, grads, 1e6);
    expectClose(loose.params, reference(spec, params, grads));
  });
});

describe('schedules', () => {
  it('warmup then linear decay', () => {
    const s = { kind: 'warmupLinear', warmupSteps: 10, totalSteps: 110, finalFraction: 0.1 } as const;
    expect(learningRateAt(1, 1, s)).toBeCloseTo(0.1);
    expect(learningRateAt(1, 10, s)).toBeCloseTo(1);
    expect(learningRateAt(1, 60, s)).toBeCloseTo(0.55);
    expect(learningRateAt(1, 110, s)).toBeCloseTo(0.1);
    expect(learningRateAt(1, 500, s)).toBeCloseTo(0.1);
    expect(learningRateAt(0.3, 77)).toBe(0.3);
  });
});
