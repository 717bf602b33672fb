/**
 * The epoch loop: seeded shuffling, batching, progress events. The last partial batch is KEPT
 * (every row is seen once per epoch; the graph's batch dim is symbolic), so rows % batchSize
 * rows make a smaller final step.
 */
import { AuditInputError } from '../errors.js';
import type { ProgressListener } from '../events.js';
import { Random } from '../random.js';
import type { Batch, HostArray, Trainer } from './trainer.js';

/** In-memory rows of a single-input model, shaped like one big batch: inputs row-major (rows x input width), targets rows x target width (or one label per row). */
export interface Dataset extends Omit<Batch, 'inputs'> {
  inputs: HostArray;
}

export interface TrainLoopOptions {
  epochs: number;
  batchSize: number;
  /** Seed of the shuffling order. */
  seed: number;
  /** Default true. */
  shuffle?: boolean;
  onEvent?: ProgressListener;
  /** Stage name in progress events (default "train"). */
  stage?: string;
}

export interface TrainLoopResult {
  /** Row-weighted mean loss of each epoch (measured before each step's update). */
  epochLosses: number[];
  steps: number;
}

export async function train(trainer: Trainer, data: Dataset, options: TrainLoopOptions): Promise<TrainLoopResult> {
  const { epochs, batchSize } = options;
  if (!(batchSize >= 1 && Number.isInteger(batchSize))) throw new RangeError(`batch size ${batchSize} is not a positive integer`);
  if (data.rows < 1) throw new AuditInputError('the dataset has no rows to train on');
  const stage = options.stage ?? 'train';
  const random = new Random(options.seed);
  const batcher = new Batcher(data, batchSize);
  const epochLosses: number[] = [];
  let steps = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    const order = options.shuffle === false ? identity(data.rows) : random.permutation(data.rows);
    let lossSum = 0;
    for (let start = 0; start < data.rows; start += batchSize) {
      const batch = batcher.gather(order, start, Math.min(batchSize, data.rows - start));
      const loss = await trainer.step(batch);
      steps++;
      // The loss every step (free); the weights only when the loss went bad or at epoch ends.
      if (!Number.isFinite(loss)) throw diverged(stage, steps, epoch, `the loss is ${loss}`, trainer);
      lossSum += loss * batch.rows;
    }
    const bad = firstNonFinite(trainer.weights());
    if (bad) throw diverged(stage, steps, epoch, `parameter ${bad.name}[${bad.index}] is ${bad.value}`, trainer, false);
    epochLosses.push(lossSum / data.rows);
    options.onEvent?.({ kind: 'progress', stage, done: epoch + 1, total: epochs, message: `epoch ${epoch + 1} loss ${epochLosses[epoch]!.toFixed(4)}` });
  }
  return { epochLosses, steps };
}

/** The first parameter value that is NaN or infinite, if any. */
export function firstNonFinite(weights: ReadonlyMap<string, Float32Array>): { name: string; index: number; value: number } | undefined {
  for (const [name, w] of weights) {
    for (let i = 0; i < w.length; i++) if (!Number.isFinite(w[i]!)) return { name, index: i, value: w[i]! };
  }
  return undefined;
}

/**
 * Training went non-finite: stop with one line naming the run, the step and what went bad (the
 * first non-finite parameter, when the loss did). Exit 2: the data, the models or the settings
 * (learning rate, targets) make the run meaningless, and a NaN student must not reach a verdict.
 */
function diverged(stage: string, step: number, epoch: number, what: string, trainer: Trainer, lookAtWeights = true): AuditInputError {
  const bad = lookAtWeights ? firstNonFinite(trainer.weights()) : undefined;
  const where = bad ? `; parameter ${bad.name}[${bad.index}] is ${bad.value}` : lookAtWeights ? '; every parameter is still finite' : '';
  return new AuditInputError(`${stage}: training diverged at step ${step} (epoch ${epoch + 1}): ${what}${where} (lower train.lr, or check the targets and the models' weights)`);
}

/**
 * Copies the selected rows into reused batch buffers (views of them for a partial batch). A full
 * batch is always the same Batch object over the same arrays, so the Trainer reuses its tensors.
 */
export class Batcher {
  private readonly inputWidth: number;
  private readonly targetWidth: number;
  private readonly maskWidth: number;
  private readonly inputs: Float32Array | BigInt64Array;
  private readonly targets: Float32Array | BigInt64Array;
  private readonly mask: Float32Array | undefined;
  private readonly full: Batch;

  constructor(private readonly data: Dataset, batchSize: number) {
    this.inputWidth = widthOf(data.inputs.length, data.rows, 'inputs');
    this.targetWidth = widthOf(data.targets.length, data.rows, 'targets');
    this.maskWidth = data.mask ? widthOf(data.mask.length, data.rows, 'mask') : 0;
    this.inputs = data.inputs instanceof Float32Array ? new Float32Array(batchSize * this.inputWidth) : new BigInt64Array(batchSize * this.inputWidth);
    this.targets = data.targets instanceof Float32Array ? new Float32Array(batchSize * this.targetWidth) : new BigInt64Array(batchSize * this.targetWidth);
    this.mask = data.mask ? new Float32Array(batchSize * this.maskWidth) : undefined;
    this.full = { inputs: this.inputs, targets: this.targets, rows: batchSize, ...(this.mask ? { mask: this.mask } : {}) };
  }

  gather(order: ArrayLike<number>, start: number, rows: number): Batch {
    copyRows(this.data.inputs, this.inputs, order, start, rows, this.inputWidth);
    copyRows(this.data.targets, this.targets, order, start, rows, this.targetWidth);
    if (this.mask) copyRows(this.data.mask!, this.mask, order, start, rows, this.maskWidth);
    if (rows === this.full.rows) return this.full;
    return {
      inputs: this.inputs.subarray(0, rows * this.inputWidth),
      targets: this.targets.subarray(0, rows * this.targetWidth),
      rows,
      ...(this.mask ? { mask: this.mask.subarray(0, rows * this.maskWidth) } : {}),
    };
  }
}

function copyRows<T extends Float32Array | BigInt64Array>(src: T, dst: T, order: ArrayLike<number>, start: number, rows: number, width: number): void {
  for (let i = 0; i < rows; i++) {
    const r = order[start + i]!;
    if (width === 1) dst[i] = src[r]!;
    else (dst as Float32Array).set((src as Float32Array).subarray(r * width, (r + 1) * width), i * width);
  }
}

function widthOf(length: number, rows: number, what: string): number {
  const width = length / rows;
  if (!Number.isInteger(width) || width < 1) throw new AuditInputError(`${what}: ${length} values are not ${rows} equal rows`);
  return width;
}

function identity(n: number): Uint32Array {
  return Uint32Array.from({ length: n }, (_, i) => i);
}
