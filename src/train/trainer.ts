/**
 * Trainer: runs the training graph (trainingGraph.ts) one batch per session.run.
 * Weights and optimizer state live in two host buffer sets that ping-pong: step k reads set A and
 * onnxruntime writes the updated values straight into pre-allocated output tensors over set B
 * (measured zero-copy: no per-step copy or allocation of parameters), then the roles swap.
 */
import { writeFile } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { DataType, type ModelProto, type ValueInfoProto } from '../onnx/proto.js';
import { UnsupportedModelError } from '../errors.js';
import { LogitsModel } from '../models/logits.js';
import { graphOf, valueInfoDims, valueInfoElemType } from './graphOps.js';
import { optimizerFeeds, type OptimizerSpec } from './optimizers.js';
import { createSession, type SessionTuning } from './session.js';
import { buildTrainingModel, type TrainingIO, type TrainingSpec } from './trainingGraph.js';
import { encodeModel, readWeights, withWeights, type Weights } from './weights.js';

export interface TrainerOptions extends TrainingSpec {
  /** Initial parameter values; default: the inference model's own initializers. */
  weights?: ReadonlyMap<string, Float32Array>;
  session?: SessionTuning;
}

/** One batch: `rows` rows of model input, targets (float rows or int64 labels/tokens), optional token mask. */
export interface Batch {
  inputs: Float32Array | BigInt64Array;
  rows: number;
  targets: Float32Array | BigInt64Array;
  mask?: Float32Array;
}

type HostArray = Float32Array | BigInt64Array;

/** Declared shape of a graph input, resolved for one batch. */
interface FeedSlot {
  name: string;
  elemType: number;
  dims: (number | string)[];
}

interface BufferSet {
  arrays: Float32Array[];
  tensors: ort.Tensor[];
}

export class Trainer {
  private current = 0;
  private steps = 0;
  private inference: LogitsModel | undefined;
  private inferenceStep = -1;
  private readonly lossBuffer = new Float32Array(1);
  private readonly lossTensor: ort.Tensor;
  private readonly gradNormBuffer = new Float32Array(1);
  private readonly gradNormTensor: ort.Tensor;
  /** Scalar tensors over persistent buffers, rewritten in place each step. */
  private readonly scalarTensors: Map<string, { buffer: Float32Array; tensor: ort.Tensor }>;

  private constructor(
    private readonly inferenceModel: ModelProto,
    private readonly session: ort.InferenceSession,
    readonly io: TrainingIO,
    private readonly optimizer: OptimizerSpec,
    /** Per slot (params, then each param's state slots): the graph input and output names. */
    private readonly slots: { input: string; output: string; dims: readonly number[] }[],
    private readonly sets: [BufferSet, BufferSet],
    private readonly dataSlot: FeedSlot,
    private readonly targetSlots: FeedSlot[],
  ) {
    this.lossTensor = new ort.Tensor('float32', this.lossBuffer, []);
    this.gradNormTensor = new ort.Tensor('float32', this.gradNormBuffer, []);
    this.scalarTensors = new Map(
      Object.values(io.scalars).map((name) => {
        const buffer = new Float32Array(1);
        return [name, { buffer, tensor: new ort.Tensor('float32', buffer, []) }];
      }),
    );
  }

  static async create(inference: ModelProto, options: TrainerOptions): Promise<Trainer> {
    const { model, io } = await buildTrainingModel(inference, options);
    if (io.data.length !== 1) {
      throw new UnsupportedModelError(`the trainer feeds one data input; the model has ${io.data.length} (${io.data.join(', ')})`);
    }
    const graph = graphOf(model);
    const inputInfo = new Map(graph.input.map((i) => [i.name!, i]));
    const slotOf = (name: string): FeedSlot => {
      const info = inputInfo.get(name) as ValueInfoProto;
      return { name, elemType: valueInfoElemType(info), dims: valueInfoDims(info) };
    };
    const slots = io.params.flatMap((p) => [
      { input: p.name, output: p.output, dims: p.dims },
      ...p.state.map((s) => ({ input: s.input, output: s.output, dims: p.dims })),
    ]);
    const initial = readWeights(inference, io.params.map((p) => p.name));
    if (options.weights) for (const [k, v] of options.weights) if (initial.has(k)) initial.set(k, v);
    const makeSet = (): BufferSet => {
      const arrays = slots.map((s) => new Float32Array(s.dims.reduce((a, d) => a * d, 1)));
      return { arrays, tensors: arrays.map((a, i) => new ort.Tensor('float32', a, [...slots[i]!.dims])) };
    };
    const sets: [BufferSet, BufferSet] = [makeSet(), makeSet()];
    const session = await createSession(encodeModel(model), options.session);
    const trainer = new Trainer(inference, session, io, options.optimizer, slots, sets, slotOf(io.data[0]!), io.targets.map(slotOf));
    trainer.reset(initial);
    return trainer;
  }

  /** Number of optimizer steps taken since creation or the last reset. */
  get stepCount(): number {
    return this.steps;
  }

  /**
   * Starts over from `weights` (missing params keep their current values) with zeroed optimizer
   * state and step count, reusing the compiled session: one Trainer serves every seed of an audit.
   */
  reset(weights?: ReadonlyMap<string, Float32Array>): void {
    const set = this.sets[this.current];
    this.slots.forEach((slot, i) => {
      const w = weights?.get(slot.input);
      if (w) {
        if (w.length !== set.arrays[i]!.length) throw new RangeError(`weight ${slot.input}: ${w.length} values, expected ${set.arrays[i]!.length}`);
        set.arrays[i]!.set(w);
      } else if (!this.io.params.some((p) => p.name === slot.input)) {
        set.arrays[i]!.fill(0); // optimizer state
      }
    });
    this.steps = 0;
  }

  /** One forward + backward + update on a batch; returns the batch's loss (before the update). */
  async step(batch: Batch): Promise<number> {
    this.steps++;
    const feeds: Record<string, ort.Tensor> = {};
    feeds[this.dataSlot.name] = feedTensor(this.dataSlot, batch.inputs, batch.rows);
    const [targetSlot, maskSlot] = this.targetSlots;
    feeds[targetSlot!.name] = feedTensor(targetSlot!, batch.targets, batch.rows);
    if (maskSlot) {
      if (!batch.mask) throw new RangeError('this loss needs a mask with each batch');
      feeds[maskSlot.name] = feedTensor(maskSlot, batch.mask, batch.rows);
    }
    const values = optimizerFeeds(this.optimizer, this.steps);
    for (const [role, name] of Object.entries(this.io.scalars)) {
      const s = this.scalarTensors.get(name)!;
      s.buffer[0] = values[role]!;
      feeds[name] = s.tensor;
    }
    const from = this.sets[this.current];
    const to = this.sets[1 - this.current]!;
    const fetches: Record<string, ort.Tensor> = { [this.io.loss]: this.lossTensor };
    if (this.io.gradNorm) fetches[this.io.gradNorm] = this.gradNormTensor;
    this.slots.forEach((slot, i) => {
      feeds[slot.input] = from.tensors[i]!;
      fetches[slot.output] = to.tensors[i]!;
    });
    await this.session.run(feeds, fetches);
    this.current = 1 - this.current;
    return this.lossBuffer[0]!;
  }

  /** Global gradient norm of the last step (before clipping); NaN unless clipNorm was set. */
  get lastGradNorm(): number {
    return this.io.gradNorm ? this.gradNormBuffer[0]! : Number.NaN;
  }

  /** Copies of the current parameter values. */
  weights(): Weights {
    const set = this.sets[this.current];
    const out: Weights = new Map();
    this.slots.forEach((slot, i) => {
      if (this.io.params.some((p) => p.name === slot.input)) out.set(slot.input, set.arrays[i]!.slice());
    });
    return out;
  }

  /** The inference graph with the trained parameters as initializers. */
  toInferenceModel(): ModelProto {
    return withWeights(this.inferenceModel, this.weights());
  }

  /** Writes the student as an ONNX inference model any runtime can load. */
  async saveStudent(path: string): Promise<void> {
    await writeFile(path, encodeModel(this.toInferenceModel()));
  }

  /** The current student's outputs on `rows` rows (an inference session, rebuilt after training steps). */
  async predict(inputs: Float32Array, rows: number): Promise<Float32Array> {
    if (!this.inference || this.inferenceStep !== this.steps) {
      await this.inference?.dispose();
      this.inference = await LogitsModel.load(this.toInferenceModel());
      this.inferenceStep = this.steps;
    }
    return this.inference.predict(inputs, rows);
  }

  async dispose(): Promise<void> {
    await this.inference?.dispose();
    await this.session.release();
  }
}

/** A tensor over `data` for `rows` rows, resolving the batch dim and at most one other unknown dim. */
function feedTensor(slot: FeedSlot, data: HostArray, rows: number): ort.Tensor {
  const wantFloat = slot.elemType === DataType.FLOAT;
  if (wantFloat !== data instanceof Float32Array) {
    throw new RangeError(`${slot.name} expects ${wantFloat ? 'float32' : 'int64'} values`);
  }
  const dims = slot.dims.map((d, i) => (i === 0 ? rows : d));
  const known = dims.reduce<number>((a, d) => (typeof d === 'number' ? a * d : a), 1);
  const unknown = dims.filter((d) => typeof d !== 'number').length;
  if (unknown > 1) throw new RangeError(`${slot.name}: cannot resolve dims [${slot.dims.join(', ')}] from the data`);
  const resolved = dims.map((d) => (typeof d === 'number' ? d : data.length / known));
  const size = resolved.reduce((a, d) => a * d, 1);
  if (size !== data.length || !Number.isInteger(size)) {
    throw new RangeError(`${slot.name}: ${data.length} values do not fit ${rows} rows of [${slot.dims.slice(1).join(', ')}]`);
  }
  return wantFloat ? new ort.Tensor('float32', data as Float32Array, resolved) : new ort.Tensor('int64', data as BigInt64Array, resolved);
}
