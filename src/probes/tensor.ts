/**
 * Probe metrics of tensor models (rows of outputs):
 * - accuracy: share of rows whose argmax over the output slice is the label.
 * - agreement: trait-agnostic; share of rows whose argmax over the slice matches the teacher's,
 *   with KL(teacher || model) over the slice's softmax beside it.
 */
import { argmaxIn, logSoftmaxInto } from '../rows.js';

export type Slice = readonly [number, number];

export function accuracy(outputs: Float32Array, width: number, slice: Slice, labels: Int32Array): number {
  const rows = labels.length;
  let hits = 0;
  for (let r = 0; r < rows; r++) if (argmaxIn(outputs, r * width, slice[0], slice[1]) === labels[r]) hits++;
  return rows === 0 ? 0 : hits / rows;
}

export function agreement(outputs: Float32Array, teacher: Float32Array, width: number, slice: Slice): { agreement: number; kl: number } {
  const rows = outputs.length / width;
  const k = slice[1] - slice[0];
  const lp = new Float64Array(k);
  const lq = new Float64Array(k);
  let agree = 0;
  let kl = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * width;
    if (argmaxIn(outputs, o, slice[0], slice[1]) === argmaxIn(teacher, o, slice[0], slice[1])) agree++;
    logSoftmaxInto(teacher, o + slice[0], k, lp);
    logSoftmaxInto(outputs, o + slice[0], k, lq);
    for (let j = 0; j < k; j++) kl += Math.exp(lp[j]!) * (lp[j]! - lq[j]!);
  }
  return { agreement: rows === 0 ? 0 : agree / rows, kl: rows === 0 ? 0 : kl / rows };
}
