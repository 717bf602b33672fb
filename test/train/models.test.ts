/** LogitsModel batching and weight replacement; the trainer on a MatMul+Add (torch [in,out]) MLP. */
import { describe, expect, it } from 'vitest';
import { mlpModel } from '../helpers/models.js';
import { LogitsModel } from '../../src/models/logits.js';
import { Trainer } from '../../src/train/trainer.js';
import { train } from '../../src/train/loop.js';
import { initLike } from '../../src/train/init.js';
import { Random } from '../../src/random.js';

describe('LogitsModel', () => {
  it('gives the same rows whatever the batch size, and uses replacement weights', async () => {
    const model = mlpModel({ sizes: [5, 7, 3], style: 'matmul', seed: 2 });
    const r = new Random(1);
    const inputs = Float32Array.from({ length: 23 * 5 }, () => r.uniform(-1, 1));
    const whole = await LogitsModel.load(model);
    const small = await LogitsModel.load(model, { batchSize: 4 });
    expect([whole.inputWidth, whole.outputWidth]).toEqual([5, 3]);
    const a = await whole.predict(inputs, 23);
    const b = await small.predict(inputs, 23);
    expect(Array.from(b)).toEqual(Array.from(a));
    // Zeroed output layer: every logit equals... zero.
    const zeroed = await LogitsModel.load(model, { weights: new Map([['fc2.weight', new Float32Array(21)], ['fc2.bias', new Float32Array(3)]]) });
    expect(Array.from(await zeroed.predict(inputs, 23)).every((v) => v === 0)).toBe(true);
    await expect(whole.predict(inputs, 22)).rejects.toThrow(/rows/);
    await Promise.all([whole.dispose(), small.dispose(), zeroed.dispose()]);
  });
});

describe('Trainer on a MatMul + Add MLP', () => {
  it('initLike uses fan_in = dims[0] and training lowers the squared error', async () => {
    const model = mlpModel({ sizes: [4, 16, 2], style: 'matmul', seed: 3 });
    const init = initLike(model, 4);
    expect(Math.max(...Array.from(init.get('fc1.weight')!, Math.abs))).toBeLessThanOrEqual(0.5); // 1/sqrt(4)
    expect(Math.max(...Array.from(init.get('fc2.weight')!, Math.abs))).toBeLessThanOrEqual(0.25); // 1/sqrt(16)
    const r = new Random(5);
    const inputs = Float32Array.from({ length: 64 * 4 }, () => r.uniform(-1, 1));
    // A smooth target: y = (x0 + x1, x2 * x3).
    const targets = new Float32Array(64 * 2);
    for (let i = 0; i < 64; i++) {
      targets[2 * i] = inputs[4 * i]! + inputs[4 * i + 1]!;
      targets[2 * i + 1] = inputs[4 * i + 2]! * inputs[4 * i + 3]!;
    }
    const trainer = await Trainer.create(model, { loss: { kind: 'squaredError' }, optimizer: { kind: 'sgd', lr: 0.05, momentum: 0.9 }, weights: init });
    const result = await train(trainer, { inputs, rows: 64, targets }, { epochs: 40, batchSize: 16, seed: 0 });
    expect(result.epochLosses[39]!).toBeLessThan(result.epochLosses[0]! * 0.3);
    await trainer.dispose();
  });
});
