/** Row-major output maths (rows of `width` floats: model outputs, targets), shared by probes, audit and models. */

/** log-softmax of values[offset .. offset + width) into `out` (float64, stable). */
export function logSoftmaxInto(values: ArrayLike<number>, offset: number, width: number, out: Float64Array): void {
  let max = -Infinity;
  for (let j = 0; j < width; j++) max = Math.max(max, values[offset + j]!);
  let sum = 0;
  for (let j = 0; j < width; j++) sum += Math.exp(values[offset + j]! - max);
  const logZ = max + Math.log(sum);
  for (let j = 0; j < width; j++) out[j] = values[offset + j]! - logZ;
}

/** Softmax of every row. */
export function softmaxRows(values: Float32Array, width: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let o = 0; o < values.length; o += width) {
    let max = -Infinity;
    for (let j = 0; j < width; j++) max = Math.max(max, values[o + j]!);
    let sum = 0;
    for (let j = 0; j < width; j++) sum += (out[o + j] = Math.exp(values[o + j]! - max));
    for (let j = 0; j < width; j++) out[o + j]! /= sum;
  }
  return out;
}

/** Columns [start, end) of every row. */
export function sliceColumns(values: Float32Array, width: number, [start, end]: readonly [number, number]): Float32Array {
  const rows = values.length / width;
  const k = end - start;
  const out = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) out.set(values.subarray(r * width + start, r * width + end), r * k);
  return out;
}

/** Index (relative to start) of the largest of values[offset + start .. offset + end). */
export function argmaxIn(values: ArrayLike<number>, offset: number, start: number, end: number): number {
  let best = start;
  for (let j = start + 1; j < end; j++) if (values[offset + j]! > values[offset + best]!) best = j;
  return best - start;
}

/** log(sum(exp(values))), stable. */
export function logSumExp(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let j = 0; j < values.length; j++) if (values[j]! > max) max = values[j]!;
  let sum = 0;
  for (let j = 0; j < values.length; j++) sum += Math.exp(values[j]! - max);
  return max + Math.log(sum);
}
