/**
 * Model-building helpers for tests (shared across the project): small seeded ONNX models in the
 * shape PyTorch's exporter writes them (opset 17, torch parameter names, symbolic batch dim).
 */
import { buildMlp, type MlpOptions } from '../../src/models/mlp.js';
import { LogitsModel } from '../../src/models/logits.js';
import type { Trainer } from '../../src/train/trainer.js';
import { Random } from '../../src/random.js';
import type { ModelProto } from '../../src/onnx/proto.js';

/** A seeded uniform [0, 1) source (the project's one PRNG, src/train/random.ts). */
export function seededRandom(seed: number): () => number {
  const random = new Random(seed);
  return () => random.next();
}

/** n values uniform in [-scale, scale). */
export function uniform(rand: () => number, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rand() * 2 - 1) * scale);
}

export type { MlpOptions } from '../../src/models/mlp.js';

/** An MLP in PyTorch-export shape (batch dim 'N', default seed 1): see src/models/mlp.ts. */
export function mlpModel(opts: MlpOptions): ModelProto {
  return buildMlp({ seed: 1, batchDim: 'N', ...opts });
}

/**
 * The trainer's current student on `rows` rows, through the audit's own inference path
 * (train sits below models, so the Trainer itself holds no inference session).
 */
export async function predictStudent(trainer: Trainer, inputs: Float32Array, rows: number): Promise<Float32Array> {
  const student = await LogitsModel.load(trainer.toInferenceModel());
  try {
    return await student.predict(inputs, rows);
  } finally {
    await student.dispose();
  }
}
