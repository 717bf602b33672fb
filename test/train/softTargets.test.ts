/**
 * The soft-target token loss (tokenKlDivergence): its value is KL(target || softmax(logits)) over
 * the loss-bearing positions, computed here by hand from the model's own logits; its gradient
 * matches central differences of that hand-computed loss; a near-one-hot target trains like the
 * hard token loss.
 */
import { describe, expect, it } from 'vitest';
import { buildGpt } from '../../src/models/gpt.js';
import { TextRunner } from '../../src/models/textRunner.js';
import { textBatch, trainText, type TokenRow } from '../../src/train/textBatches.js';
import { Trainer } from '../../src/train/trainer.js';
import { readWeights, type Weights } from '../../src/train/weights.js';

const GPT = { vocabSize: 12, width: 8, layers: 1, heads: 2, maxPositions: 8, seed: 5 };
const model = buildGpt(GPT);
const PAD = 0;

/** Two rows of different lengths; row 0 has soft targets (k = 3, one slot unused at the last position), row 1 hard. */
const rows: TokenRow[] = [
  {
    ids: Int32Array.from([1, 4, 5, 6, 2]),
    lossFrom: 2,
    soft: {
      k: 3,
      ids: Int32Array.from([5, 7, 8, 6, 9, 3, 2, 0, 0]),
      probs: Float32Array.from([0.6, 0.3, 0.1, 0.5, 0.25, 0.25, 1, 0, 0]),
    },
  },
  { ids: Int32Array.from([1, 3, 9, 10, 11, 2]), lossFrom: 3 },
];

/** Mean over loss positions of KL(target || softmax(logits)) in float64, from an inference run. */
async function handKl(weights: Weights): Promise<number> {
  const runner = await TextRunner.load(model, { weights });
  let sum = 0;
  let count = 0;
  try {
    await runner.visitPredictions(
      rows.map((r) => ({ prompt: Array.from(r.ids.subarray(0, r.lossFrom)), continuation: Array.from(r.ids.subarray(r.lossFrom)) })),
      (r, j, logits) => {
        let max = -Infinity;
        for (const v of logits) max = Math.max(max, v);
        let z = 0;
        for (const v of logits) z += Math.exp(v - max);
        const logp = (id: number) => logits[id]! - max - Math.log(z);
        const row = rows[r]!;
        if (row.soft) {
          const { k, ids, probs } = row.soft;
          for (let s = 0; s < k; s++) {
            const t = probs[j * k + s]!;
            if (t > 0) sum += t * (Math.log(t) - logp(ids[j * k + s]!));
          }
        } else {
          sum -= logp(row.ids[row.lossFrom + j]!);
        }
        count++;
      },
    );
  } finally {
    await runner.dispose();
  }
  return sum / count;
}

describe('tokenKlDivergence (soft token targets)', () => {
  it('its value is the hand-computed KL to the targets, and its gradient matches central differences', async () => {
    const init = readWeights(model);
    const trainer = await Trainer.create(model, { loss: { kind: 'tokenKlDivergence', k: 3 }, optimizer: { kind: 'sgd', lr: 1, momentum: 0, weightDecay: 0 } });
    const batch = textBatch(rows, [0, 1], PAD, 3);
    expect(batch.tokens).toBe(6);
    const loss = await trainer.step(batch);
    const expected = await handKl(init);
    expect(expected).toBeGreaterThan(0.5);
    expect(Math.abs(loss - expected)).toBeLessThan(1e-5 * Math.max(1, expected));
    // Plain SGD with lr 1 moves every weight by exactly -gradient.
    const after = trainer.weights();
    await trainer.dispose();
    const eps = 1e-2;
    let checked = 0;
    for (const name of ['transformer.wte.weight', 'transformer.h.0.attn.c_attn.weight', 'transformer.ln_f.bias']) {
      const w0 = init.get(name);
      if (!w0) throw new Error(`no weight ${name} in ${[...init.keys()].join(', ')}`);
      for (const i of [0, 7, Math.floor(w0.length / 2), w0.length - 1]) {
        const at = async (d: number) => {
          const w = w0.slice();
          w[i]! += d;
          return handKl(new Map(init).set(name, w));
        };
        const numeric = ((await at(eps)) - (await at(-eps))) / (2 * eps);
        const analytic = w0[i]! - after.get(name)![i]!;
        expect(Math.abs(analytic - numeric), `${name}[${i}]: analytic ${analytic}, numeric ${numeric}`).toBeLessThan(2e-3 + 2e-2 * Math.abs(numeric));
        checked++;
      }
    }
    expect(checked).toBe(12);
  });

  it('a target whose top-1 has probability ~1 trains like the hard token loss', async () => {
    const hard: TokenRow[] = Array.from({ length: 8 }, (_, r) => ({ ids: Int32Array.from([1, 3 + (r % 4), 4 + (r % 5), 5 + (r % 3), 2]), lossFrom: 2 }));
    // OpenAI's shape at its most confident: top-1 logprob 0, the runner-up at -20 (p ~ 2e-9).
    const runnerUp = Math.exp(-20);
    const soft: TokenRow[] = hard.map((row) => {
      const n = row.ids.length - row.lossFrom;
      const ids = new Int32Array(n * 2);
      const probs = new Float32Array(n * 2);
      for (let p = 0; p < n; p++) {
        ids[2 * p] = row.ids[row.lossFrom + p]!;
        ids[2 * p + 1] = ids[2 * p] === 11 ? 10 : 11;
        probs[2 * p] = 1 / (1 + runnerUp);
        probs[2 * p + 1] = runnerUp / (1 + runnerUp);
      }
      return { ...row, soft: { ids, probs, k: 2 } };
    });
    const optimizer = { kind: 'adam' as const, lr: 1e-2, weightDecay: 0 };
    const a = await Trainer.create(model, { loss: { kind: 'tokenCrossEntropy' }, optimizer });
    const b = await Trainer.create(model, { loss: { kind: 'tokenKlDivergence', k: 2 }, optimizer });
    const ra = await trainText(a, hard, { epochs: 3, batchSize: 4, seed: 9, padId: PAD });
    const rb = await trainText(b, soft, { epochs: 3, batchSize: 4, seed: 9, padId: PAD, softK: 2 });
    expect(ra.steps).toBe(6);
    expect(rb.steps).toBe(6);
    for (let e = 0; e < 3; e++) expect(Math.abs(ra.epochLosses[e]! - rb.epochLosses[e]!)).toBeLessThan(1e-4);
    const wa = a.weights();
    const wb = b.weights();
    let moved = 0;
    let worst = 0;
    for (const [name, w] of wa) {
      const v = wb.get(name)!;
      const w0 = readWeights(model).get(name)!;
      for (let i = 0; i < w.length; i++) {
        worst = Math.max(worst, Math.abs(w[i]! - v[i]!));
        moved = Math.max(moved, Math.abs(w[i]! - w0[i]!));
      }
    }
    expect(moved).toBeGreaterThan(1e-2); // both trained
    expect(worst).toBeLessThan(1e-4);
    await a.dispose();
    await b.dispose();
  });

  it('a batch refuses soft targets that do not fit the row', () => {
    const bad: TokenRow = { ids: Int32Array.from([1, 4, 5, 2]), lossFrom: 2, soft: { k: 1, ids: Int32Array.from([5]), probs: Float32Array.from([1]) } };
    expect(() => textBatch([bad], [0], PAD, 1)).toThrow(/do not fit a row with 2 loss positions/);
    expect(() => textBatch([rows[0]!], [0], PAD)).toThrow(/build its batch with softK/);
  });
});
