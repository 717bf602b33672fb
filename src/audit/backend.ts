/**
 * TrainerBackend: the seam between the audit and whatever trains probe students. The local
 * ONNX engine (./localBackend.ts) is the embedded default; a fine-tuning API backend for
 * frontier-size teachers plugs in here without touching the orchestrator.
 */
import type { ModelProto } from '../onnx/proto.js';
import type { ProgressListener } from '../events.js';
import type { Weights } from '../train/weights.js';

// One Weights type: the training engine's (src/train/weights.ts).
export type { Weights };

export interface StudentData {
  inputs: Float32Array;
  targets: Float32Array;
  rows: number;
  inputWidth: number;
  targetWidth: number;
}

export interface StudentJob {
  /** The architecture: an inference graph. Its initializers are replaced by `init`. */
  model: ModelProto;
  init: Weights;
  data: StudentData;
  task: { slice: readonly [number, number]; loss: 'kl' | 'mse'; targetType: 'probs' | 'logits' };
  train: { epochs: number; batchSize: number; optimizer: 'adam' | 'adamw' | 'sgd'; lr: number; weightDecay: number; seed: number };
  /** Names this run in progress events ("student seed 3"). */
  label: string;
  onEvent?: ProgressListener;
}

export interface StudentResult {
  weights: Weights;
  steps: number;
  trainingMs: number;
  finalLoss: number;
}

export interface TrainerBackend {
  readonly name: string;
  train(job: StudentJob): Promise<StudentResult>;
  /** Outputs (rows x width) of `model` with `weights` (or its own initializers) on `inputs`. */
  predict(model: ModelProto, weights: Weights | undefined, inputs: Float32Array, rows: number): Promise<{ outputs: Float32Array; width: number }>;
  /** Flattened input width and output width of `model`. */
  shape(model: ModelProto): Promise<{ inputWidth: number; outputWidth: number }>;
  /**
   * The gradient of the task loss at `weights` over the given data (full batch, mean loss),
   * for the first-order screen. Optional: backends without it skip the screen.
   */
  gradient?(job: Omit<StudentJob, 'train' | 'label'>): Promise<Weights>;
  close?(): Promise<void>;
}
