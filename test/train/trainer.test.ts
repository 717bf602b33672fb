/**
 * The assembled engine: a full training step (forward, autodiff backward, update) against a JS
 * reference MLP; bit-for-bit determinism; partial batches; saved students reload in onnxruntime.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { buildMlp } from '../../src/models/mlp.js';
import { LogitsModel } from '../../src/models/logits.js';
import { Trainer } from '../../src/train/trainer.js';
import { Batcher, train } from '../../src/train/loop.js';
import { sessionOptions, type SessionTuning } from '../../src/train/session.js';
import { initLike } from '../../src/train/init.js';
import { readWeights } from '../../src/train/weights.js';
import { Random } from '../../src/random.js';
import { predictStudent } from '../helpers/models.js';
import { useTempDir } from '../helpers/files.js';

const tmp = useTempDir('student-');

type W = Map<string, Float32Array>;

/** One SGD step of a 1-hidden-layer ReLU MLP with cross-entropy on output slice [s0, s1), float64. */
function referenceSgdStep(w: W, x: Float32Array, labels: BigInt64Array, n: number, sizes: number[], slice: [number, number], lr: number): Map<string, number[]> {
  const [I, H, O] = sizes as [number, number, number];
  const W1 = w.get('fc1.weight')!, b1 = w.get('fc1.bias')!, W2 = w.get('fc2.weight')!, b2 = w.get('fc2.bias')!;
  const g = new Map<string, number[]>([['fc1.weight', new Array(H * I).fill(0)], ['fc1.bias', new Array(H).fill(0)], ['fc2.weight', new Array(O * H).fill(0)], ['fc2.bias', new Array(O).fill(0)]]);
  for (let r = 0; r < n; r++) {
    const pre = Array.from({ length: H }, (_, j) => b1[j]! + Array.from({ length: I }, (_, i) => W1[j * I + i]! * x[r * I + i]!).reduce((a, v) => a + v, 0));
    const h = pre.map((v) => Math.max(0, v));
    const z = Array.from({ length: O }, (_, k) => b2[k]! + h.reduce((a, hv, j) => a + W2[k * H + j]! * hv, 0));
    const zs = z.slice(slice[0], slice[1]);
    const m = Math.max(...zs);
    const e = zs.map((v) => Math.exp(v - m));
    const s = e.reduce((a, v) => a + v, 0);
    const dz = new Array(O).fill(0);
    zs.forEach((_, k) => (dz[slice[0] + k] = (e[k]! / s - (k === Number(labels[r]) ? 1 : 0)) / n));
    const dh = new Array(H).fill(0);
    for (let k = 0; k < O; k++) {
      g.get('fc2.bias')![k] += dz[k];
      for (let j = 0; j < H; j++) {
        g.get('fc2.weight')![k * H + j] += dz[k] * h[j]!;
        dh[j] += dz[k] * W2[k * H + j]!;
      }
    }
    for (let j = 0; j < H; j++) {
      const d = pre[j]! > 0 ? dh[j] : 0;
      g.get('fc1.bias')![j] += d;
      for (let i = 0; i < I; i++) g.get('fc1.weight')![j * I + i] += d * x[r * I + i]!;
    }
  }
  return new Map([...g].map(([k, grad]) => [k, Array.from(w.get(k)!, (v, i) => v - lr * grad[i]!)]));
}

function randomData(seed: number, rows: number, width: number, classes: number): { inputs: Float32Array; labels: BigInt64Array } {
  const r = new Random(seed);
  return {
    inputs: Float32Array.from({ length: rows * width }, () => r.uniform(-1, 1)),
    labels: BigInt64Array.from({ length: rows }, () => BigInt(r.int(classes))),
  };
}

describe('Trainer', () => {
  const sizes = [6, 8, 5];

  it('one SGD step through the whole graph equals the JS reference (slice of the output, hard labels)', async () => {
    const model = buildMlp({ sizes, seed: 1 });
    const before = readWeights(model);
    const { inputs, labels } = randomData(2, 7, 6, 3);
    const trainer = await Trainer.create(model, { loss: { kind: 'crossEntropy', slice: [1, 4] }, optimizer: { kind: 'sgd', lr: 0.5 } });
    const loss = await trainer.step({ inputs, rows: 7, targets: labels });
    expect(loss).toBeGreaterThan(0.5);
    const expected = referenceSgdStep(before, inputs, labels, 7, sizes, [1, 4], 0.5);
    const after = trainer.weights();
    let moved = 0;
    for (const [name, values] of expected) {
      after.get(name)!.forEach((v, i) => expect(Math.abs(v - values[i]!)).toBeLessThan(1e-5));
      moved += after.get(name)!.reduce((a, v, i) => a + Math.abs(v - before.get(name)![i]!), 0);
    }
    expect(moved).toBeGreaterThan(1e-2);
    // Columns outside the slice get no gradient: fc2 rows 0 and 4 did not move.
    const w2 = after.get('fc2.weight')!;
    for (const row of [0, 4]) for (let j = 0; j < 8; j++) expect(w2[row * 8 + j]).toBe(before.get('fc2.weight')![row * 8 + j]);
    await trainer.dispose();
  });

  it('is bit-for-bit deterministic for a seed (init, shuffling, Adam), and seeds differ', async () => {
    const model = buildMlp({ sizes, seed: 0 });
    const { inputs, labels } = randomData(3, 50, 6, 5);
    const run = async (seed: number): Promise<W> => {
      const trainer = await Trainer.create(model, { loss: { kind: 'crossEntropy' }, optimizer: { kind: 'adam', lr: 0.01 }, weights: initLike(model, seed) });
      await train(trainer, { inputs, rows: 50, targets: labels }, { epochs: 3, batchSize: 16, seed });
      const w = trainer.weights();
      await trainer.dispose();
      return w;
    };
    const [a, b, c] = [await run(9), await run(9), await run(10)];
    for (const [name, w] of a) {
      expect(Buffer.from(w.buffer).equals(Buffer.from(b.get(name)!.buffer))).toBe(true);
      expect(Buffer.from(w.buffer).equals(Buffer.from(c.get(name)!.buffer))).toBe(false);
    }
  });

  it('reset() reuses the session: retraining from the same weights repeats the run exactly', async () => {
    const model = buildMlp({ sizes, seed: 0 });
    const { inputs, labels } = randomData(4, 40, 6, 5);
    const start = initLike(model, 5);
    const trainer = await Trainer.create(model, { loss: { kind: 'crossEntropy' }, optimizer: { kind: 'adamw', lr: 0.01 }, weights: start });
    const data = { inputs, rows: 40, targets: labels };
    const first = await train(trainer, data, { epochs: 2, batchSize: 16, seed: 1 });
    const w1 = trainer.weights();
    trainer.reset(start);
    const second = await train(trainer, data, { epochs: 2, batchSize: 16, seed: 1 });
    expect(second.epochLosses).toEqual(first.epochLosses);
    for (const [name, w] of trainer.weights()) expect(Array.from(w)).toEqual(Array.from(w1.get(name)!));
    await trainer.dispose();
  });

  it('keeps the last partial batch, emits one progress event per epoch, and lowers the loss', async () => {
    const model = buildMlp({ sizes, seed: 0 });
    const { inputs, labels } = randomData(5, 37, 6, 5);
    const trainer = await Trainer.create(model, { loss: { kind: 'crossEntropy' }, optimizer: { kind: 'adam', lr: 0.03 } });
    const events: string[] = [];
    const result = await train(trainer, { inputs, rows: 37, targets: labels }, { epochs: 6, batchSize: 10, seed: 0, onEvent: (e) => events.push(e.kind) });
    expect(result.steps).toBe(6 * 4); // 10 + 10 + 10 + 7
    expect(trainer.stepCount).toBe(24);
    expect(events).toEqual(new Array(6).fill('progress'));
    expect(result.epochLosses[5]!).toBeLessThan(result.epochLosses[0]! * 0.9);
    await trainer.dispose();
  });

  it('soft targets (KL on logits) and clipping train through the engine', async () => {
    const model = buildMlp({ sizes, seed: 0 });
    const r = new Random(6);
    const inputs = Float32Array.from({ length: 64 * 6 }, () => r.uniform(-1, 1));
    const targets = Float32Array.from({ length: 64 * 2 }, () => r.uniform(-2, 2));
    const trainer = await Trainer.create(model, { loss: { kind: 'klDivergence', slice: [3, 5], targets: 'logits' }, optimizer: { kind: 'adam', lr: 0.02 }, clipNorm: 0.5 });
    const result = await train(trainer, { inputs, rows: 64, targets }, { epochs: 30, batchSize: 16, seed: 0 });
    expect(Number.isFinite(trainer.lastGradNorm)).toBe(true);
    expect(result.epochLosses[29]!).toBeLessThan(result.epochLosses[0]! * 0.7);
    await trainer.dispose();
  });

  it('saves a student that onnxruntime loads back with the same outputs as the trainer', async () => {
    const model = buildMlp({ sizes, seed: 0 });
    const { inputs, labels } = randomData(7, 30, 6, 5);
    const trainer = await Trainer.create(model, { loss: { kind: 'crossEntropy' }, optimizer: { kind: 'adam', lr: 0.05 } });
    await train(trainer, { inputs, rows: 30, targets: labels }, { epochs: 2, batchSize: 8, seed: 0 });
    try {
      const path = tmp.file('student.onnx');
      await trainer.saveStudent(path);
      const session = await ort.InferenceSession.create(path);
      const loaded = (await session.run({ input: new ort.Tensor('float32', inputs, [30, 6]) })).logits!.data as Float32Array;
      await session.release();
      const own = await predictStudent(trainer, inputs, 30);
      expect(Array.from(loaded)).toEqual(Array.from(own));
      // ... and differs from the untrained model (the weights were really written).
      const base = await LogitsModel.load(model);
      const untrained = await base.predict(inputs, 30);
      expect(Array.from(untrained)).not.toEqual(Array.from(own));
      expect(base.inputWidth).toBe(6);
      expect(base.outputWidth).toBe(5);
      await base.dispose();
    } finally {
      await trainer.dispose();
    }
  });
});

describe('Trainer plumbing', () => {
  const sizes = [6, 8, 5];

  it('train() (reused batch buffers and feed tensors) equals stepping on fresh copies of the same batches', async () => {
    const model = buildMlp({ sizes, seed: 0 });
    const { inputs, labels } = randomData(11, 23, 6, 5);
    const make = () => Trainer.create(model, { loss: { kind: 'crossEntropy' }, optimizer: { kind: 'adam', lr: 0.01 } });
    const [viaLoop, viaSteps] = [await make(), await make()];
    const result = await train(viaLoop, { inputs, rows: 23, targets: labels }, { epochs: 2, batchSize: 8, seed: 4 });
    const random = new Random(4);
    const losses: number[] = [];
    for (let epoch = 0; epoch < 2; epoch++) {
      const order = random.permutation(23);
      for (let start = 0; start < 23; start += 8) {
        const rows = Array.from(order.subarray(start, Math.min(start + 8, 23)));
        const x = new Float32Array(rows.length * 6);
        rows.forEach((r, i) => x.set(inputs.subarray(r * 6, r * 6 + 6), i * 6));
        losses.push(await viaSteps.step({ inputs: x, rows: rows.length, targets: BigInt64Array.from(rows, (r) => labels[r]!) }));
      }
    }
    expect(result.steps).toBe(losses.length);
    const a = viaLoop.weights();
    for (const [name, w] of viaSteps.weights()) expect(Buffer.from(w.buffer).equals(Buffer.from(a.get(name)!.buffer))).toBe(true);
    await Promise.all([viaLoop.dispose(), viaSteps.dispose()]);
  });

  it('a full batch is the same Batch object over the same buffers; a partial one is a view of them', () => {
    const data = { inputs: Float32Array.from({ length: 30 }, (_, i) => i), rows: 10, targets: BigInt64Array.from({ length: 10 }, (_, i) => BigInt(i)) };
    const batcher = new Batcher(data, 4);
    const order = Uint32Array.from([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    const first = batcher.gather(order, 0, 4);
    expect(Array.from(first.inputs as Float32Array)).toEqual([27, 28, 29, 24, 25, 26, 21, 22, 23, 18, 19, 20]);
    expect(batcher.gather(order, 4, 4)).toBe(first);
    expect(Array.from(first.targets as BigInt64Array)).toEqual([5n, 4n, 3n, 2n]);
    const tail = batcher.gather(order, 8, 2);
    expect(tail.rows).toBe(2);
    expect(tail.inputs.buffer).toBe(first.inputs.buffer);
    expect(Array.from(tail.inputs as Float32Array)).toEqual([3, 4, 5, 0, 1, 2]);
  });

  it('weights() are copies; reset() restores the given weights and zeroes the optimizer state', async () => {
    const model = buildMlp({ sizes, seed: 0 });
    const { inputs, labels } = randomData(12, 8, 6, 5);
    const trainer = await Trainer.create(model, { loss: { kind: 'crossEntropy' }, optimizer: { kind: 'adam', lr: 0.05 } });
    const start = trainer.weights();
    start.get('fc1.weight')!.fill(123); // must not reach the trainer
    const batch = { inputs, rows: 8, targets: labels };
    const first = await trainer.step(batch);
    expect(Math.abs(first)).toBeLessThan(100);
    trainer.reset(readWeights(model));
    expect(trainer.stepCount).toBe(0);
    expect(await trainer.step(batch)).toBe(first);
    await trainer.dispose();
  });

  it('sessions do not spin idle intra-op threads unless asked', () => {
    const extra = (t?: SessionTuning) => (sessionOptions(t).extra as { session: Record<string, string> }).session;
    expect(extra()['intra_op.allow_spinning']).toBe('0');
    expect(extra({ allowSpinning: true })['intra_op.allow_spinning']).toBe('1');
    expect(sessionOptions().intraOpNumThreads).toBe(1);
  });
});
