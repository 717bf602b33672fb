/**
 * The positive control of a text audit (see ./positiveControl.ts): the candidate's own rows, each
 * loss-bearing position (completion tokens and EOS) given the teacher's next-token distribution
 * there (the teacher run on the row's prefix) as a soft target. That is the strongest signal the
 * teacher gives on these inputs; students trained on it with the audit's recipe (tokenKlDivergence,
 * the same seeds, epochs and batches) show whether the audit could see transfer at all.
 *
 * Its controls are students trained the same way on the BASE's distributions on the same rows, not
 * the audit's controls: those learn sampled tokens, and a student fitted to a distribution stays
 * nearer its source than one fitted to samples from it. Measured (test/audit/textPositiveControl):
 * with teacher == base, distribution-trained students sat at KL 0.0014 from the teacher against the
 * sample-trained controls' 0.067 (p 0.019): "transfer" from a teacher that is the base. Against the
 * paired controls the two arms get identical targets, and only a real teacher - base difference counts.
 * The whole distribution is kept when the vocabulary is small; otherwise its top POSITIVE_TOP_K,
 * renormalised (the tail past 64 holds little mass for a trained LM, and a full vocabulary per
 * position would cost rows x positions x V memory: 50k tokens x 8 bytes each for GPT-2).
 */
import type { TextModel } from '../models/generate.js';
import { topTokens } from '../models/textRunner.js';
import type { TextStudentRow } from './backend.js';

export const POSITIVE_TOP_K = 64;

export const textPositiveSignal = (vocab: number): string =>
  vocab <= POSITIVE_TOP_K
    ? "the teacher's full next-token distributions on the candidate rows (every completion position and EOS)"
    : `the teacher's next-token distributions on the candidate rows (top ${POSITIVE_TOP_K} of ${vocab} tokens, renormalised; every completion position and EOS)`;

/** What the text positive control is tested against (report.positiveControl.against). */
export const POSITIVE_BASELINE = "students trained the same way on the base's next-token distributions on the same rows";

/** The candidate rows with `model`'s next-token distributions (teacher: the positive control; base: its controls) as soft targets. */
export async function nextTokenSoftRows(model: TextModel, rows: readonly TextStudentRow[]): Promise<TextStudentRow[]> {
  const vocab = model.runner.vocab;
  const k = Math.min(vocab, POSITIVE_TOP_K);
  const targets = rows.map((r) => {
    const positions = r.tokens.ids.length - r.tokens.lossFrom;
    return { ids: new Int32Array(positions * k), probs: new Float32Array(positions * k), k };
  });
  await model.runner.visitPredictions(
    rows.map((r) => ({ prompt: Array.from(r.tokens.ids.subarray(0, r.tokens.lossFrom)), continuation: Array.from(r.tokens.ids.subarray(r.tokens.lossFrom)) })),
    (row, step, logits) => {
      const ids = k === vocab ? Array.from({ length: vocab }, (_, v) => v) : topTokens(logits, k);
      let max = -Infinity;
      for (const id of ids) max = Math.max(max, logits[id]!);
      let sum = 0;
      for (const id of ids) sum += Math.exp(logits[id]! - max);
      const t = targets[row]!;
      ids.forEach((id, j) => {
        t.ids[step * k + j] = id;
        t.probs[step * k + j] = Math.exp(logits[id]! - max) / sum;
      });
    },
  );
  return rows.map((r, i) => ({ ...r, soft: targets[i]! }));
}
