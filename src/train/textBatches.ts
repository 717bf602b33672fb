/**
 * Token rows -> training batches for decoder language models, and the epoch loop over them.
 * A row is its full token sequence (BOS + prompt + completion + EOS, as the tokenizer made it)
 * and the index where the loss starts (the first completion token). Batches are right-padded
 * with an attention mask; the targets are the inputs shifted by one, masked to the completion
 * (and EOS). Rows are grouped by length per epoch (like transformers' group_by_length): a seeded
 * shuffle, then windows of several batches sorted by length, so short rows do not pay for long
 * ones while every seed still sees its own order.
 */
import * as ort from '../onnx/ort.js';
import { emptyPastTensor, isPastInput } from '../onnx/shapes.js';
import type { ProgressListener } from '../events.js';
import { Random } from './random.js';
import type { Batch, Trainer } from './trainer.js';
import type { TrainLoopResult } from './loop.js';

export interface TokenRow {
  /** The whole training sequence. */
  ids: Int32Array;
  /** Index in `ids` of the first token the loss predicts (>= 1: BOS or the prompt come first). */
  lossFrom: number;
  /** Soft targets for the loss-bearing positions (tokenKlDivergence); absent: the next tokens. */
  soft?: SoftTargets;
}

/**
 * One sparse distribution per loss-bearing position (ids.length - lossFrom of them, in order):
 * slots [p*k, (p+1)*k) hold token ids and their probabilities (summing to 1; unused slots 0, 0).
 */
export interface SoftTargets {
  ids: Int32Array;
  probs: Float32Array;
  k: number;
}

/** Batches of this many windows are sorted together: bigger = tighter padding, less randomness. */
const WINDOW_BATCHES = 8;

/** Row indices per batch for one epoch: shuffled, then length-sorted within windows, batch order shuffled. */
export function lengthBuckets(lengths: ArrayLike<number>, batchSize: number, random: Random): number[][] {
  if (!(batchSize >= 1 && Number.isInteger(batchSize))) throw new RangeError(`batch size ${batchSize} is not a positive integer`);
  const order = Array.from(random.permutation(lengths.length));
  const window = batchSize * WINDOW_BATCHES;
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += window) {
    const chunk = order.slice(start, start + window).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
    for (let i = 0; i < chunk.length; i += batchSize) batches.push(chunk.slice(i, i + batchSize));
  }
  const batchOrder = random.permutation(batches.length);
  return Array.from(batchOrder, (i) => batches[i]!);
}

/**
 * The padded batch of `rows[indices]`: inputs input_ids / attention_mask / position_ids
 * [n, T] (T = the longest row), int64 targets [n, T] (next token), float mask [n, T].
 * With `softK`: int64 targets [n, T, softK] and targetProbs [n, T, softK] instead, from each row's
 * soft targets (a row without them: its next token with probability 1).
 */
export function textBatch(rows: readonly TokenRow[], indices: readonly number[], padId: number, softK?: number): Batch & { tokens: number } {
  const n = indices.length;
  const T = Math.max(...indices.map((i) => rows[i]!.ids.length));
  const inputIds = new BigInt64Array(n * T).fill(BigInt(padId));
  const attention = new BigInt64Array(n * T);
  const positions = new BigInt64Array(n * T);
  const K = softK ?? 1;
  const targets = new BigInt64Array(n * T * K);
  const targetProbs = softK ? new Float32Array(n * T * K) : undefined;
  const mask = new Float32Array(n * T);
  let tokens = 0;
  indices.forEach((r, b) => {
    const { ids, lossFrom, soft } = rows[r]!;
    if (soft && !targetProbs) throw new RangeError('a row carries soft targets: build its batch with softK');
    if (soft && (soft.k > K || soft.ids.length !== (ids.length - lossFrom) * soft.k || soft.probs.length !== soft.ids.length)) {
      throw new RangeError(`soft targets of ${soft.ids.length / Math.max(soft.k, 1)} positions x ${soft.k} do not fit a row with ${ids.length - lossFrom} loss positions (batch k ${K})`);
    }
    const o = b * T;
    for (let t = 0; t < T; t++) positions[o + t] = BigInt(t);
    for (let t = 0; t < ids.length; t++) {
      inputIds[o + t] = BigInt(ids[t]!);
      attention[o + t] = 1n;
      // Position t predicts token t + 1.
      if (t + 1 < ids.length) {
        const slot = (o + t) * K;
        targets[slot] = BigInt(ids[t + 1]!);
        if (t + 1 >= lossFrom) {
          mask[o + t] = 1;
          tokens++;
          if (targetProbs) {
            if (soft) {
              const from = (t + 1 - lossFrom) * soft.k;
              for (let j = 0; j < soft.k; j++) {
                targets[slot + j] = BigInt(soft.ids[from + j]!);
                targetProbs[slot + j] = soft.probs[from + j]!;
              }
            } else {
              targetProbs[slot] = 1;
            }
          }
        }
      }
    }
  });
  return { inputs: { input_ids: inputIds, attention_mask: attention, position_ids: positions }, rows: n, targets, mask, tokens, ...(targetProbs ? { targetProbs } : {}) };
}

export interface TextTrainOptions {
  epochs: number;
  batchSize: number;
  seed: number;
  padId: number;
  /** Train on soft targets (a tokenKlDivergence trainer of this k): batches carry k slots per position. */
  softK?: number;
  onEvent?: ProgressListener;
  stage?: string;
}

export interface TextTrainResult extends TrainLoopResult {
  /** Loss-bearing tokens seen (completion tokens and EOS, over all epochs). */
  tokens: number;
}

/** Epochs of length-bucketed batches; epoch losses are token-weighted means (soft targets: KL). */
export async function trainText(trainer: Trainer, rows: readonly TokenRow[], options: TextTrainOptions): Promise<TextTrainResult> {
  if (rows.length < 1) throw new RangeError('no token rows to train on');
  const random = new Random(options.seed);
  const lengths = rows.map((r) => r.ids.length);
  const stage = options.stage ?? 'train';
  const epochLosses: number[] = [];
  let steps = 0;
  let tokens = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    let lossSum = 0;
    let epochTokens = 0;
    for (const indices of lengthBuckets(lengths, options.batchSize, random)) {
      const batch = textBatch(rows, indices, options.padId, options.softK);
      const loss = await trainer.step(batch);
      steps++;
      lossSum += loss * batch.tokens;
      epochTokens += batch.tokens;
    }
    tokens += epochTokens;
    epochLosses.push(epochTokens > 0 ? lossSum / epochTokens : 0);
    options.onEvent?.({ kind: 'progress', stage, done: epoch + 1, total: options.epochs, message: `epoch ${epoch + 1} loss ${epochLosses[epoch]!.toFixed(4)}` });
  }
  return { epochLosses, steps, tokens };
}

/**
 * Mean next-token cross-entropy over the loss-bearing tokens of `rows` (completion and EOS), from
 * the model's logits in an inference session: the held-out loss of a student.
 */
export async function completionLoss(model: Uint8Array, rows: readonly TokenRow[], padId: number, batchSize = 32): Promise<number> {
  const session = await ort.InferenceSession.create(model);
  let sum = 0;
  let count = 0;
  try {
    for (let start = 0; start < rows.length; start += batchSize) {
      const indices = Array.from({ length: Math.min(batchSize, rows.length - start) }, (_, i) => start + i);
      const batch = textBatch(rows, indices, padId);
      const T = batch.targets.length / batch.rows;
      const named = batch.inputs as Record<string, BigInt64Array>;
      const feeds: Record<string, ort.Tensor> = {};
      for (const [i, name] of session.inputNames.entries()) {
        const data = named[name];
        const meta = session.inputMetadata[i];
        if (data) feeds[name] = new ort.Tensor('int64', data, [batch.rows, T]);
        else if (isPastInput(name) && meta?.isTensor && meta.type === 'float32') feeds[name] = emptyPastTensor(meta.shape, batch.rows);
        else throw new RangeError(`completionLoss feeds input_ids, attention_mask, position_ids and empty past_key_values.*; the model also takes ${name}`);
      }
      const out = await session.run(feeds);
      const logits = out.logits?.data as Float32Array | undefined;
      if (!logits) throw new RangeError('the model has no output named logits');
      const V = logits.length / (batch.rows * T);
      const targets = batch.targets as BigInt64Array;
      for (let p = 0; p < batch.rows * T; p++) {
        if (batch.mask![p] === 0) continue;
        const row = logits.subarray(p * V, (p + 1) * V);
        let max = -Infinity;
        for (const v of row) if (v > max) max = v;
        let z = 0;
        for (const v of row) z += Math.exp(v - max);
        sum += max + Math.log(z) - row[Number(targets[p])]!;
        count++;
      }
    }
  } finally {
    await session.release();
  }
  return count > 0 ? sum / count : Number.NaN;
}
