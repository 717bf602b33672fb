/**
 * Trainer: runs the training graph (trainingGraph.ts) one batch per session.run.
 * Weights and optimizer state live in two host buffer sets that ping-pong: step k reads set A and
 * onnxruntime writes the updated values straight into pre-allocated output tensors over set B
 * (measured zero-copy: no per-step copy or allocation of parameters), then the roles swap.
 * The feeds and fetches of both directions are built once; a step only swaps in the batch tensors.
 */
import { writeFile } from 'node:fs/promises';
import * as ort from '../onnx/ort.js';
import { DataType, graphOf, valueInfoDims, valueInfoElemType, type ModelProto, type ValueInfoProto } from '../onnx/proto.js';
import { encodeModel } from '../onnx/io.js';
import { emptyPastTensor, isPastInput } from '../onnx/shapes.js';
import { AuditInputError, UnsupportedModelError } from '../errors.js';
import { optimizerFeeds, type OptimizerSpec } from './optimizers.js';
import { createSession, type SessionTuning } from './session.js';
import { buildTrainingModel, type TrainingIO, type TrainingSpec } from './trainingGraph.js';
import { readWeights, withWeights, type Weights } from './weights.js';
import { gatherLossPositions } from './narrowHead.js';

export interface TrainerOptions extends TrainingSpec {
  /** Initial parameter values; default: the inference model's own initializers. */
  weights?: ReadonlyMap<string, Float32Array>;
  session?: SessionTuning;
}

/**
 * One batch (or a whole in-memory dataset): `rows` rows of model input, targets (float rows or
 * int64 labels/tokens), optional token mask. `inputs` is the one data input of a single-input
 * model, or every data input by name (text: input_ids, attention_mask, position_ids); a graph's
 * `past_key_values.*` inputs need no entry: training feeds them empty (past length 0).
 */
export interface Batch {
  inputs: HostArray | Readonly<Record<string, HostArray>>;
  rows: number;
  targets: Float32Array | BigInt64Array;
  /** Token mask rows (text losses). */
  mask?: Float32Array;
  /** Soft token targets (tokenKlDivergence): the probability of each id in `targets`. */
  targetProbs?: Float32Array;
}

export type HostArray = Float32Array | BigInt64Array;

/** Graph inputs holding a decoder's cache: fed empty when training on whole sequences. */
export { isPastInput };

/** Declared shape of a graph input, resolved for one batch. */
interface FeedSlot {
  name: string;
  elemType: number;
  dims: (number | string)[];
}

/** One ping-pong side: one array per slot (params, then each param's optimizer state). */
type BufferSet = Float32Array[];

/** A host-owned graph value: read from `input`, its update written to `output`. */
interface Slot {
  input: string;
  output: string;
  dims: readonly number[];
  /** True for a parameter, false for optimizer state. */
  param: boolean;
}

/** Everything session.run needs for one direction (set `from` -> set `to`), built once. */
interface Direction {
  feeds: Record<string, ort.Tensor>;
  fetches: Record<string, ort.Tensor>;
}

export class Trainer {
  private current = 0;
  private steps = 0;
  private readonly lossBuffer = new Float32Array(1);
  private readonly gradNormBuffer = new Float32Array(1);
  /** Scalar inputs by role, over persistent buffers rewritten in place each step. */
  private readonly scalars: { role: string; buffer: Float32Array }[];
  private readonly directions: [Direction, Direction];
  /** Last batch tensors, reused while the batch arrays and row count are the same. */
  private readonly feedCache = new Map<string, { data: HostArray; rows: number; tensor: ort.Tensor }>();

  private constructor(
    private readonly inferenceModel: ModelProto,
    private readonly session: ort.InferenceSession,
    readonly io: TrainingIO,
    private readonly optimizer: OptimizerSpec,
    private readonly slots: Slot[],
    private readonly sets: [BufferSet, BufferSet],
    private readonly dataSlots: FeedSlot[],
    private readonly targetSlots: FeedSlot[],
  ) {
    const scalarTensors: Record<string, ort.Tensor> = {};
    this.scalars = Object.entries(io.scalars).map(([role, name]) => {
      const buffer = new Float32Array(1);
      scalarTensors[name] = new ort.Tensor('float32', buffer, []);
      return { role, buffer };
    });
    const lossTensor = new ort.Tensor('float32', this.lossBuffer, []);
    const gradNormTensor = new ort.Tensor('float32', this.gradNormBuffer, []);
    const direction = (from: BufferSet, to: BufferSet): Direction => {
      const feeds: Record<string, ort.Tensor> = { ...scalarTensors };
      const fetches: Record<string, ort.Tensor> = { [io.loss]: lossTensor };
      if (io.gradNorm) fetches[io.gradNorm] = gradNormTensor;
      slots.forEach((slot, i) => {
        feeds[slot.input] = new ort.Tensor('float32', from[i]!, [...slot.dims]);
        fetches[slot.output] = new ort.Tensor('float32', to[i]!, [...slot.dims]);
      });
      return { feeds, fetches };
    };
    this.directions = [direction(sets[0], sets[1]), direction(sets[1], sets[0])];
  }

  static async create(inference: ModelProto, options: TrainerOptions): Promise<Trainer> {
    const { model, io } = await buildTrainingModel(inference, options);
    if (io.data.length === 0) throw new UnsupportedModelError('the model has no data input');
    const graph = graphOf(model);
    const inputInfo = new Map(graph.input.map((i) => [i.name!, i]));
    const slotOf = (name: string): FeedSlot => {
      const info = inputInfo.get(name) as ValueInfoProto;
      const dims = valueInfoDims(info);
      if (!dims || dims.length === 0) throw new UnsupportedModelError(`input ${name} declares no shape (need [batch, ...])`);
      return { name, elemType: valueInfoElemType(info), dims };
    };
    const initial = readWeights(inference, io.params.map((p) => p.name));
    if (options.weights) for (const [k, v] of options.weights) if (initial.has(k)) initial.set(k, v);
    const slots: Slot[] = io.params.flatMap((p) => [
      { input: p.name, output: p.output, dims: p.dims, param: true },
      ...p.state.map((s) => ({ input: s.input, output: s.output, dims: p.dims, param: false })),
    ]);
    const makeSet = (): BufferSet => slots.map((s) => new Float32Array(s.dims.reduce((a, d) => a * d, 1)));
    const sets: [BufferSet, BufferSet] = [makeSet(), makeSet()];
    const session = await createSession(encodeModel(model), options.session);
    const trainer = new Trainer(inference, session, io, options.optimizer, slots, sets, io.data.map(slotOf), io.targets.map(slotOf));
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
      if (!slot.param) return void set[i]!.fill(0); // optimizer state
      const w = weights?.get(slot.input);
      if (!w) return;
      if (w.length !== set[i]!.length) throw new RangeError(`weight ${slot.input}: ${w.length} values, expected ${set[i]!.length}`);
      set[i]!.set(w);
    });
    this.steps = 0;
  }

  /** One forward + backward + update on a batch; returns the batch's loss (before the update). */
  async step(batch: Batch): Promise<number> {
    this.steps++;
    const { feeds, fetches } = this.directions[this.current];
    this.feedInputs(feeds, batch);
    const [targetSlot, maskSlot, probsSlot] = this.targetSlots;
    let { targets, mask, targetProbs } = batch;
    let targetRows = batch.rows;
    if (this.io.lossPositions) {
      // A narrowed head: the loss sees one row of the loss positions (./narrowHead.ts).
      if (!mask || !(targets instanceof BigInt64Array)) throw new RangeError('a token loss needs int64 targets and a mask with each batch');
      const narrow = gatherLossPositions(mask, targets, targetProbs);
      feeds[this.io.lossPositions] = new ort.Tensor('int64', narrow.positions, [narrow.positions.length]);
      ({ targets, mask, targetProbs } = narrow);
      targetRows = 1;
    }
    feeds[targetSlot!.name] = this.feedTensor(targetSlot!, targets, targetRows);
    if (maskSlot) {
      if (!mask) throw new RangeError('this loss needs a mask with each batch');
      feeds[maskSlot.name] = this.feedTensor(maskSlot, mask, targetRows);
    }
    if (probsSlot) {
      if (!targetProbs) throw new RangeError('this loss needs target probabilities with each batch');
      feeds[probsSlot.name] = this.feedTensor(probsSlot, targetProbs, targetRows);
    }
    const values = optimizerFeeds(this.optimizer, this.steps);
    for (const s of this.scalars) s.buffer[0] = values[s.role]!;
    await this.session.run(feeds, fetches);
    this.current = 1 - this.current;
    return this.lossBuffer[0]!;
  }

  /** Every data input of the graph from the batch: by name, or the one array of a single-input model; caches empty. */
  private feedInputs(feeds: Record<string, ort.Tensor>, batch: Batch): void {
    const single = batch.inputs instanceof Float32Array || batch.inputs instanceof BigInt64Array;
    const named = single ? undefined : (batch.inputs as Readonly<Record<string, HostArray>>);
    for (const slot of this.dataSlots) {
      const data = single && this.dataSlots.length === 1 ? (batch.inputs as HostArray) : named?.[slot.name];
      if (data) feeds[slot.name] = this.feedTensor(slot, data, batch.rows);
      else if (isPastInput(slot.name)) feeds[slot.name] = emptyPastTensor(slot.dims, batch.rows);
      else throw new RangeError(`the batch has no values for the model input ${slot.name} (inputs: ${this.dataSlots.map((s) => s.name).join(', ')})`);
    }
  }

  /** The batch tensor for a slot: reused when the same array comes again with the same rows (the Batcher's buffers). */
  private feedTensor(slot: FeedSlot, data: HostArray, rows: number): ort.Tensor {
    const cached = this.feedCache.get(slot.name);
    if (cached && cached.data === data && cached.rows === rows) return cached.tensor;
    const tensor = feedTensor(slot, data, rows);
    this.feedCache.set(slot.name, { data, rows, tensor });
    return tensor;
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
      if (slot.param) out.set(slot.input, set[i]!.slice());
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

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

/** A tensor over `data` for `rows` rows, resolving the batch dim and at most one other unknown dim. */
function feedTensor(slot: FeedSlot, data: HostArray, rows: number): ort.Tensor {
  const wantFloat = slot.elemType === DataType.FLOAT;
  if (wantFloat !== data instanceof Float32Array) {
    throw new UnsupportedModelError(`model input ${slot.name} takes ${wantFloat ? 'float32' : 'int64'} values; the data holds ${wantFloat ? 'int64' : 'float32'}`);
  }
  const dims = slot.dims.map((d, i) => (i === 0 ? rows : d));
  const known = dims.reduce<number>((a, d) => (typeof d === 'number' ? a * d : a), 1);
  const unknown = dims.filter((d) => typeof d !== 'number').length;
  if (unknown > 1) throw new UnsupportedModelError(`model input ${slot.name}: cannot resolve dims [${slot.dims.join(', ')}] from the data (more than one symbolic dim besides the batch)`);
  const resolved = dims.map((d) => (typeof d === 'number' ? d : data.length / known));
  const size = resolved.reduce((a, d) => a * d, 1);
  if (size !== data.length || !Number.isInteger(size)) {
    throw new AuditInputError(`${slot.name}: ${data.length} values do not fit ${rows} rows of [${slot.dims.slice(1).join(', ')}]`);
  }
  return wantFloat ? new ort.Tensor('float32', data as Float32Array, resolved) : new ort.Tensor('int64', data as BigInt64Array, resolved);
}
