/**
 * The epoch loop: seeded shuffling, batching, progress events. The last partial batch is KEPT
 * (every row is seen once per epoch; the graph's batch dim is symbolic), so rows % batchSize
 * rows make a smaller final step.
 */
import type { ProgressListener } from '../events.js';
import { AuditInputError } from '../errors.js';
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
      lossSum += (await trainer.step(batch)) * batch.rows;
      steps++;
    }
    epochLosses.push(lossSum / data.rows);
    options.onEvent?.({ kind: 'progress', stage, done: epoch + 1, total: epochs, message: `epoch ${epoch + 1} loss ${epochLosses[epoch]!.toFixed(4)}` });
  }
  return { epochLosses, steps };
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
