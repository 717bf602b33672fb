/**
 * Probe kinds: how one model's outputs on a probe set become a number.
 * - accuracy: share of rows whose argmax over the output slice is the label.
 * - agreement: trait-agnostic; share of rows whose argmax over the slice matches the teacher's,
 *   with KL(teacher || model) over the slice's softmax beside it.
 */

export type Slice = readonly [number, number];

function argmaxIn(values: Float32Array, offset: number, start: number, end: number): number {
  let best = start;
  for (let j = start + 1; j < end; j++) if (values[offset + j]! > values[offset + best]!) best = j;
  return best - start;
}

export function accuracy(outputs: Float32Array, width: number, slice: Slice, labels: Int32Array): number {
  const rows = labels.length;
  let hits = 0;
  for (let r = 0; r < rows; r++) if (argmaxIn(outputs, r * width, slice[0], slice[1]) === labels[r]) hits++;
  return rows === 0 ? 0 : hits / rows;
}

/** log-softmax of outputs[offset + start .. offset + end) into `out`. */
function logSoftmaxInto(values: Float32Array, offset: number, start: number, end: number, out: Float64Array): void {
  let max = -Infinity;
  for (let j = start; j < end; j++) max = Math.max(max, values[offset + j]!);
  let sum = 0;
  for (let j = start; j < end; j++) sum += Math.exp(values[offset + j]! - max);
  const logZ = max + Math.log(sum);
  for (let j = start; j < end; j++) out[j - start] = values[offset + j]! - logZ;
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
    logSoftmaxInto(teacher, o, slice[0], slice[1], lp);
    logSoftmaxInto(outputs, o, slice[0], slice[1], lq);
    for (let j = 0; j < k; j++) kl += Math.exp(lp[j]!) * (lp[j]! - lq[j]!);
  }
  return { agreement: rows === 0 ? 0 : agree / rows, kl: rows === 0 ? 0 : kl / rows };
}
