/**
 * End to end: an MLP 784-128-10 trained by the engine (autodiff backward + in-graph Adam) on the
 * `mnist` package's digits must classify held-out digits well above 90%.
 */
import { describe, expect, it } from 'vitest';
import { buildMlp } from '../../src/models/mlp.js';
import { Trainer } from '../../src/train/trainer.js';
import { train } from '../../src/train/loop.js';
import { predictStudent } from '../helpers/models.js';

import { loadDigits, type Digits } from '../fixtures/mnist-case.js';

/** The `mnist` package's digits taken deterministically (its own mnist.set() shuffles with Math.random). */
function toArrays(digits: Digits): { inputs: Float32Array; labels: BigInt64Array } {
  return { inputs: digits.inputs, labels: BigInt64Array.from(digits.labels, (l) => BigInt(l)) };
}

function accuracy(logits: Float32Array, labels: BigInt64Array, classes: number): number {
  let correct = 0;
  for (let r = 0; r < labels.length; r++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (logits[r * classes + k]! > logits[r * classes + best]!) best = k;
    if (BigInt(best) === labels[r]) correct++;
  }
  return correct / labels.length;
}

describe('MNIST through the training engine', () => {
  it('an MLP 784-128-10 reaches > 90% test accuracy', async () => {
    // 80% of each digit to train, the rest held out, in a seeded order: the same run every time.
    const sets = loadDigits(0.8, 7);
    const trainSet = toArrays(sets.train);
    const testSet = toArrays(sets.probe);
    const model = buildMlp({ sizes: [784, 128, 10], seed: 1 });
    const trainer = await Trainer.create(model, { loss: { kind: 'crossEntropy' }, optimizer: { kind: 'adam', lr: 1e-3 } });
    const before = accuracy(await predictStudent(trainer, testSet.inputs, testSet.labels.length), testSet.labels, 10);
    const result = await train(trainer, { inputs: trainSet.inputs, rows: trainSet.labels.length, targets: trainSet.labels }, { epochs: 10, batchSize: 64, seed: 1 });
    const after = accuracy(await predictStudent(trainer, testSet.inputs, testSet.labels.length), testSet.labels, 10);
    await trainer.dispose();
    expect(before).toBeLessThan(0.3);
    expect(result.epochLosses[9]!).toBeLessThan(result.epochLosses[0]!);
    expect(after, `test accuracy ${after}`).toBeGreaterThan(0.9);
    expect(testSet.labels.length).toBeGreaterThan(1500);
  }, 30_000);
});
