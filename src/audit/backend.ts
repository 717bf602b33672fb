/**
 * TrainerBackend: the seam between the audit and whatever trains probe students. The local
 * ONNX engine (./localBackend.ts) is the embedded default; a fine-tuning API backend for
 * frontier-size teachers plugs in here without touching the orchestrator. A job carries its task
 * (kind and loss settings) and its dataset as the task kind defines it: tensor rows for `logits`,
 * prompt/completion text rows (with their tokens, for local engines) for `text`, so a service
 * backend can upload the text rows as they are.
 */
import type { ModelProto } from '../onnx/proto.js';
import type { ProgressListener } from '../events.js';
import type { SoftTargets, TokenRow } from '../train/textBatches.js';
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

export interface LogitsStudentTask {
  slice: readonly [number, number];
  loss: 'kl' | 'mse';
  targetType: 'probs' | 'logits';
}

/** One training row of a text task: its text (for services) and its tokens (for local engines). */
export interface TextStudentRow {
  line: number;
  prompt: string;
  completion: string;
  tokens: TokenRow;
  /** Soft targets (task.targets: logprobs), one distribution per loss-bearing position. */
  soft?: SoftTargets;
}

export interface TextStudentTask {
  targets: 'tokens' | 'logprobs';
  /** The tokenizer's padding id (masked positions). */
  padId: number;
  /** LoRA adapters: only they train; the result's weights are merged back into the base's. */
  adapter?: { rank: number; alpha: number; targets: readonly string[] };
}

interface JobCommon {
  /** The architecture: an inference graph. Its initializers are replaced by `init`. */
  model: ModelProto;
  init: Weights;
  train: { epochs: number; batchSize: number; optimizer: 'adam' | 'adamw' | 'sgd'; lr: number; weightDecay: number; seed: number };
  /** Names this run in progress events ("student seed 3"). */
  label: string;
  onEvent?: ProgressListener;
}

export type LogitsStudentJob = JobCommon & { kind: 'logits'; task: LogitsStudentTask; data: StudentData };
export type TextStudentJob = JobCommon & { kind: 'text'; task: TextStudentTask; data: { rows: readonly TextStudentRow[] } };
/**
 * A job for a fine-tuning service: the training file as the service takes it (chat-format JSONL,
 * one `{"messages": [...]}` per row) and the tokens it trains per epoch (counted or estimated).
 */
export interface ChatStudentData {
  jsonl: string;
  rows: number;
  tokensPerEpoch: number;
  /** Which arm and run this file trains (names it in state.json and the report). */
  arm: string;
}
export type ChatStudentJob = JobCommon & { kind: 'chat'; task: Record<string, never>; data: ChatStudentData };
export type StudentJob = LogitsStudentJob | TextStudentJob | ChatStudentJob;

/** A student trained by a service: the job, the fine-tuned model's id and the tokens it billed. */
export interface RemoteStudent {
  jobId: string;
  trainingFile: string;
  model: string;
  trainedTokens: number | null;
}

export interface StudentResult {
  weights: Weights;
  steps: number;
  trainingMs: number;
  finalLoss: number;
  /** Set by service backends: the student lives on the service (weights is empty). */
  remote?: RemoteStudent;
}

export interface TrainerBackend {
  readonly name: string;
  train(job: StudentJob): Promise<StudentResult>;
  /** Outputs (rows x width) of `model` with `weights` (or its own initializers) on `inputs`. */
  predict(model: ModelProto, weights: Weights | undefined, inputs: Float32Array, rows: number): Promise<{ outputs: Float32Array; width: number }>;
  /** Flattened input width and output width of `model`. */
  shape(model: ModelProto): Promise<{ inputWidth: number; outputWidth: number }>;
  /** Runs trained at once (a service's job concurrency); default `workers`, else 1. */
  readonly concurrency?: number;
  /** Local worker threads training runs (report.run.workers); absent: one. */
  readonly workers?: number;
  /**
   * The gradient of the task loss at `weights` over the given data (full batch, mean loss),
   * for the first-order screen. Optional: backends without it skip the screen.
   */
  gradient?(job: Omit<LogitsStudentJob, 'train' | 'label'>): Promise<Weights>;
  close?(): Promise<void>;
}
