/**
 * Per-row attribution: how far each candidate row's target is from what the base outputs on the
 * same input, KL(target || base) over the target slice. The signal a same-init student picks up
 * is exactly this difference (base-made rows score 0); rows with the largest scores carry it.
 */
import type { RowAttribution } from '../report/schema.js';
import { logSoftmaxInto } from '../rows.js';

const TOP_ROWS = 20;


/**
 * KL(target || base) of every row.
 * @param targets rows x width targets (probabilities, or logits when `targetType` is logits)
 * @param baseSlice rows x width base outputs (logits) over the same slice
 */
export function rowScores(targets: Float32Array, baseSlice: Float32Array, width: number, targetType: 'probs' | 'logits'): Float64Array {
  const rows = baseSlice.length / width;
  const scores = new Float64Array(rows);
  const logP = new Float64Array(width);
  const logQ = new Float64Array(width);
  for (let r = 0; r < rows; r++) {
    const o = r * width;
    if (targetType === 'logits') logSoftmaxInto(targets, o, width, logP);
    else for (let j = 0; j < width; j++) logP[j] = Math.log(Math.max(targets[o + j]!, 1e-30));
    logSoftmaxInto(baseSlice, o, width, logQ);
    let kl = 0;
    for (let j = 0; j < width; j++) {
      const p = targetType === 'logits' ? Math.exp(logP[j]!) : targets[o + j]!;
      if (p > 0) kl += p * (logP[j]! - logQ[j]!);
    }
    scores[r] = Math.max(0, kl); // float error can make a zero KL slightly negative
  }
  return scores;
}

export function attributeRows(targets: Float32Array, baseSlice: Float32Array, width: number, targetType: 'probs' | 'logits', lines: Int32Array): RowAttribution {
  const rows = lines.length;
  const scores = rowScores(targets, baseSlice, width, targetType);
  const order = Array.from({ length: rows }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]! || lines[a]! - lines[b]!);
  const total = scores.reduce((a, b) => a + b, 0);
  const topTenth = order.slice(0, Math.max(1, Math.round(rows / 10))).reduce((a, i) => a + scores[i]!, 0);
  return {
    metric: 'KL(target || base) over the target slice',
    rows,
    mean: rows ? total / rows : 0,
    top10Share: total > 0 ? topTenth / total : 0,
    top: order.slice(0, TOP_ROWS).map((i) => ({ line: lines[i]!, score: scores[i]! })),
  };
}
