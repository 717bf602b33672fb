/**
 * drawAwareTest: the candidate's one dataset draw counted. Simulated audits where each control
 * trains on its own drawn dataset and every student on the one candidate draw; the null holds
 * (candidate and baselines come from the same process). Welch's test over seeds calls such
 * clean data significant far above alpha once the draw varies; the draw-aware test keeps alpha.
 */
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/random.js';
import { clopperPearson, drawAwareTest, evaluateProbes, studentTQuantile, welchTest } from '../../src/stats/index.js';

function nullAudits(trials: number, drawSd: number, seedSd: number, seeds: number, rng: Random) {
  const out: { welch: number; draw: number }[] = [];
  for (let i = 0; i < trials; i++) {
    const candidate = drawSd * rng.normal();
    const student = Array.from({ length: seeds }, () => candidate + seedSd * rng.normal());
    const control = Array.from({ length: seeds }, () => drawSd * rng.normal() + seedSd * rng.normal());
    out.push({ welch: welchTest(student, control, 1, 0.05).pValue, draw: drawAwareTest(student, control, 1, 0.05).pValue });
  }
  return out;
}

const rate = (ps: number[], alpha: number) => ps.filter((p) => p < alpha).length / ps.length;

describe('drawAwareTest', () => {
  it('is the prediction test of one more draw: SE = s_c sqrt(1 + 1/n_c), n_c - 1 degrees of freedom', () => {
    const s = [0.5, 0.52, 0.51, 0.49, 0.5];
    const c = [0.3, 0.6, 0.45, 0.2, 0.55];
    const d = drawAwareTest(s, c, 1, 0.05);
    const v = (xs: number[]) => { const m = xs.reduce((a, b) => a + b) / xs.length; return xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1); };
    expect(d.se).toBeCloseTo(Math.sqrt(v(c) * 1.2), 12);
    expect(d.df).toBe(4);
    expect(d.drawVariance).toBeCloseTo(v(c) - v(s), 12);
    expect(d.pValue).toBeGreaterThan(welchTest(s, c, 1, 0.05).pValue);
    // Controls that vary less than the students: no draw variance seen, the test stays the prediction test.
    expect(drawAwareTest(c, s, 1, 0.05).drawVariance).toBe(0);
  });

  it('keeps the false-positive rate at or below alpha when the dataset draw dominates; Welch does not', () => {
    // Draw spread 3x the seed spread (SCIENCE.md: two clean sets differ by about a third of a real transfer).
    const runs = nullAudits(4000, 0.003, 0.001, 5, new Random(7));
    const welch = rate(runs.map((r) => r.welch), 0.05);
    const draw = rate(runs.map((r) => r.draw), 0.05);
    expect(welch).toBeGreaterThan(0.2);
    // The draw-aware rate's 99% interval must reach down to alpha or below, and it is not zero (the test is not blind).
    expect(clopperPearson(Math.round(draw * runs.length), runs.length, 0.01)[0]).toBeLessThanOrEqual(0.05);
    expect(draw).toBeGreaterThan(0.02);
  });

  it('with no draw spread it is conservative (at most alpha) and still detects a large shift', () => {
    const rng = new Random(11);
    const nulls = nullAudits(4000, 0, 0.001, 5, rng);
    expect(clopperPearson(Math.round(rate(nulls.map((r) => r.draw), 0.05) * nulls.length), nulls.length, 0.01)[0]).toBeLessThanOrEqual(0.05);
    let detected = 0;
    for (let i = 0; i < 1000; i++) {
      const student = Array.from({ length: 5 }, () => 0.005 + 0.001 * rng.normal());
      const control = Array.from({ length: 5 }, () => 0.001 * rng.normal());
      if (drawAwareTest(student, control, 1, 0.05).pValue < 0.05) detected++;
    }
    expect(detected / 1000).toBeGreaterThan(0.9);
  });

  it('the gate uses it for runs marked candidateDraw and refuses the permutation test there', () => {
    const runs = { name: 'p', kind: 'preference', metric: 'P', base: 0.1, teacher: 0.7, student: [0.5, 0.52, 0.51, 0.49, 0.5], control: [0.3, 0.6, 0.45, 0.2, 0.55] };
    const policy = { alpha: 0.05, minEffect: 0, test: 'welch' as const, correction: 'none' as const, klProbes: true, onInconclusive: 'fail' as const };
    const [marked] = evaluateProbes([{ ...runs, candidateDraw: true }], policy);
    const [plain] = evaluateProbes([runs], policy);
    expect(marked!.pValueRaw).toBe(drawAwareTest(runs.student, runs.control, 1, 0.05).pValue);
    expect(plain!.pValueRaw).toBe(welchTest(runs.student, runs.control, 1, 0.05).pValue);
    expect(marked!.candidateDrawVariance).toBeGreaterThan(0);
    // Its power statement uses the same standard error and degrees of freedom.
    const d = drawAwareTest(runs.student, runs.control, 1, 0.05);
    expect(marked!.minDetectableEffect).toBeCloseTo((studentTQuantile(0.95, 4) + studentTQuantile(0.8, 4)) * d.se, 12);
    expect(plain!.candidateDrawVariance).toBeUndefined();
    expect(() => evaluateProbes([{ ...runs, candidateDraw: true }], { ...policy, test: 'permutation' })).toThrow(/not exchangeable/);
  });
});
