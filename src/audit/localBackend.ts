/**
 * The embedded TrainerBackend: probe students trained by our ONNX training engine on this
 * machine. One compiled training session per (architecture, loss, optimizer) serves every
 * seed and arm of an audit (Trainer.reset), so an audit compiles its graph once.
 */
import type { ModelProto } from '../onnx/proto.js';
import { LogitsModel } from '../models/logits.js';
import { Trainer } from '../train/trainer.js';
import { train } from '../train/loop.js';
import type { LossSpec } from '../train/losses.js';
import type { OptimizerSpec } from '../train/optimizers.js';
import { trainText } from '../train/textBatches.js';
import { adapterParams, addLora, loraInit, mergeLora, type LoraModel } from '../train/lora.js';
import { withWeights } from '../train/weights.js';
import type { LogitsStudentJob, LogitsStudentTask, StudentJob, StudentResult, TextStudentJob, TrainerBackend, Weights } from './backend.js';

export function lossSpec(task: LogitsStudentTask): LossSpec {
  const targets = task.targetType === 'probs' ? 'probabilities' : 'logits';
  return task.loss === 'kl' ? { kind: 'klDivergence', slice: task.slice, targets } : { kind: 'squaredError', slice: task.slice };
}

export function optimizerSpec(t: StudentJob['train']): OptimizerSpec {
  if (t.optimizer === 'sgd') return { kind: 'sgd', lr: t.lr, momentum: 0.9, weightDecay: t.weightDecay };
  return { kind: t.optimizer, lr: t.lr, weightDecay: t.weightDecay };
}

export class LocalOnnxBackend implements TrainerBackend {
  readonly name = 'local-onnx';
  private readonly trainers = new Map<string, Trainer>();
  private readonly modelIds = new WeakMap<ModelProto, number>();
  private nextModelId = 0;

  private idOf(model: ModelProto): number {
    let id = this.modelIds.get(model);
    if (id === undefined) this.modelIds.set(model, (id = this.nextModelId++));
    return id;
  }

  private async trainerFor(model: ModelProto, loss: LossSpec, optimizer: OptimizerSpec, init: Weights): Promise<Trainer> {
    const key = JSON.stringify([this.idOf(model), loss, optimizer]);
    let trainer = this.trainers.get(key);
    if (!trainer) {
      trainer = await Trainer.create(model, { loss, optimizer, weights: init });
      this.trainers.set(key, trainer);
    }
    trainer.reset(init);
    return trainer;
  }

  /** How each task kind's job trains here: one entry per kind. */
  private readonly trainers_: { [K in StudentJob['kind']]: (job: Extract<StudentJob, { kind: K }>) => Promise<StudentResult> } = {
    logits: (job) => this.trainLogits(job),
    text: (job) => this.trainText(job),
    chat: async () => {
      throw new RangeError(`chat jobs (training files for a fine-tuning service) are not trained by the ${this.name} backend: set train.backend openai`);
    },
  };

  async train(job: StudentJob): Promise<StudentResult> {
    return (this.trainers_[job.kind] as (j: StudentJob) => Promise<StudentResult>)(job);
  }

  private async trainLogits(job: LogitsStudentJob): Promise<StudentResult> {
    const trainer = await this.trainerFor(job.model, lossSpec(job.task), optimizerSpec(job.train), job.init);
    const started = performance.now();
    const result = await train(trainer, { inputs: job.data.inputs, rows: job.data.rows, targets: job.data.targets }, {
      epochs: job.train.epochs,
      batchSize: job.train.batchSize,
      seed: job.train.seed,
      stage: job.label,
      ...(job.onEvent ? { onEvent: job.onEvent } : {}),
    });
    return { weights: trainer.weights(), steps: result.steps, trainingMs: performance.now() - started, finalLoss: result.epochLosses.at(-1) ?? Number.NaN };
  }

  /** LoRA-adapted graphs by (architecture, init, adapter spec): the frozen weights live in the graph. */
  private readonly loraModels = new Map<string, LoraModel>();
  private readonly initIds = new WeakMap<object, number>();

  private loraFor(model: ModelProto, init: Weights, spec: NonNullable<TextStudentJob['task']['adapter']>): LoraModel {
    let initId = this.initIds.get(init);
    if (initId === undefined) this.initIds.set(init, (initId = this.nextModelId++));
    const key = JSON.stringify([this.idOf(model), initId, spec]);
    let lora = this.loraModels.get(key);
    if (!lora) this.loraModels.set(key, (lora = addLora(withWeights(model, init), spec)));
    return lora;
  }

  /**
   * Completion-token loss on length-bucketed, padded batches (all weights, or LoRA adapters only):
   * cross-entropy on the tokens, or (targets: logprobs) KL to each row's sparse soft targets, k wide.
   */
  private async trainText(job: TextStudentJob): Promise<StudentResult> {
    const softK = job.task.targets === 'logprobs' ? job.data.rows.reduce((k, r) => Math.max(k, r.soft?.k ?? 1), 1) : undefined;
    const loss: LossSpec = softK ? { kind: 'tokenKlDivergence', k: softK } : { kind: 'tokenCrossEntropy' };
    const lora = job.task.adapter ? this.loraFor(job.model, job.init, job.task.adapter) : undefined;
    const optimizer = optimizerSpec(job.train);
    let trainer: Trainer;
    if (lora) {
      const init = loraInit(lora, job.train.seed);
      const key = JSON.stringify([this.idOf(lora.model), 'lora', loss, optimizer]);
      trainer = this.trainers.get(key) ?? (await Trainer.create(lora.model, { loss, optimizer, params: adapterParams(lora), weights: init }));
      this.trainers.set(key, trainer);
      trainer.reset(init);
    } else {
      trainer = await this.trainerFor(job.model, loss, optimizer, job.init);
    }
    const started = performance.now();
    const rows = job.data.rows.map((r) => (softK && r.soft ? { ...r.tokens, soft: r.soft } : r.tokens));
    const result = await trainText(trainer, rows, {
      epochs: job.train.epochs,
      batchSize: job.train.batchSize,
      seed: job.train.seed,
      padId: job.task.padId,
      ...(softK ? { softK } : {}),
      stage: job.label,
      ...(job.onEvent ? { onEvent: job.onEvent } : {}),
    });
    // A LoRA student is the base graph with W + scale * A B: saved and scored as plain ONNX.
    const weights = lora ? mergeLora(lora, job.init, trainer.weights()) : trainer.weights();
    return { weights, steps: result.steps, trainingMs: performance.now() - started, finalLoss: result.epochLosses.at(-1) ?? Number.NaN };
  }

  async predict(model: ModelProto, weights: Weights | undefined, inputs: Float32Array, rows: number): Promise<{ outputs: Float32Array; width: number }> {
    const logits = await LogitsModel.load(model, weights ? { weights } : {});
    try {
      return { outputs: await logits.predict(inputs, rows), width: logits.outputWidth };
    } finally {
      await logits.dispose();
    }
  }

  async shape(model: ModelProto): Promise<{ inputWidth: number; outputWidth: number }> {
    const logits = await LogitsModel.load(model);
    try {
      return { inputWidth: logits.inputWidth, outputWidth: logits.outputWidth };
    } finally {
      await logits.dispose();
    }
  }

  /** Full-batch gradient at `init`: one plain-SGD step with lr 1 moves the weights by exactly -grad. */
  async gradient(job: Omit<LogitsStudentJob, 'train' | 'label'>): Promise<Weights> {
    const trainer = await this.trainerFor(job.model, lossSpec(job.task), { kind: 'sgd', lr: 1, momentum: 0, weightDecay: 0 }, job.init);
    await trainer.step({ inputs: job.data.inputs, rows: job.data.rows, targets: job.data.targets });
    const after = trainer.weights();
    const grad: Weights = new Map();
    for (const [name, w0] of job.init) {
      const w1 = after.get(name);
      if (w1) grad.set(name, w0.map((v, i) => v - w1[i]!));
    }
    return grad;
  }

  async close(): Promise<void> {
    for (const t of this.trainers.values()) await t.dispose();
    this.trainers.clear();
  }
}
