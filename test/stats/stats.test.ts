import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { effectThreshold, evaluateProbe, evaluateProbes, holmAdjust, permutationTest, studentTCdf, studentTQuantile, welchTest } from '../../src/stats/index.js';

// Reference values computed with scipy 1.17 (scipy.stats.t, ttest_ind(equal_var=False), permutation_test).
describe('Student t distribution', () => {
  it('matches scipy at integer and fractional df', () => {
    expect(studentTCdf(2.0, 10)).toBeCloseTo(0.9633059826146299, 10);
    expect(studentTCdf(-1.3, 3.7)).toBeCloseTo(0.13433336208631375, 10);
    expect(studentTCdf(0.5, 1000)).toBeCloseTo(0.6914074595830626, 9);
    expect(studentTQuantile(0.995, 7.3)).toBeCloseTo(3.451031655622185, 8);
  });
  it('quantile inverts the CDF', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 0.999, noNaN: true }), fc.double({ min: 1, max: 200, noNaN: true }), (p, df) => {
        expect(studentTCdf(studentTQuantile(p, df), df)).toBeCloseTo(p, 8);
      }),
    );
  });
});

const student = [0.31, 0.28, 0.35, 0.3, 0.33];
const control = [0.12, 0.1, 0.15, 0.11, 0.13];

describe('Welch test', () => {
  it('matches scipy ttest_ind(equal_var=False, alternative=greater)', () => {
    const r = welchTest(student, control, 1, 0.01);
    expect(r.t).toBeCloseTo(12.944637359294255, 9);
    expect(r.df).toBeCloseTo(7.226037623171095, 9);
    expect(r.pValue).toBeCloseTo(1.4608610551491063e-6, 12);
    expect(r.ci[0]).toBeCloseTo(0.14064274181896586, 9);
    expect(r.ci[1]).toBeCloseTo(0.24335725818103415, 9);
  });
  it('is one-sided: the same data tested away from the teacher is not significant', () => {
    expect(welchTest(student, control, -1, 0.01).pValue).toBeGreaterThan(0.99);
  });
  it('handles zero spread without NaN', () => {
    expect(welchTest([1, 1, 1], [0, 0, 0], 1, 0.05).pValue).toBe(0);
    expect(welchTest([0, 0], [0, 0], 1, 0.05).pValue).toBe(1);
  });
});

describe('permutation test', () => {
  it('is exact for 5 vs 5, ties included', () => {
    // Counted exactly in integers (x1000): 126 of 252 labellings are at least as extreme. scipy's
    // float comparison gives 124/252: it misses relabellings that swap the two equal 0.12 values.
    expect(permutationTest([0.11, 0.135, 0.12, 0.1, 0.14], [0.12, 0.11, 0.125, 0.13, 0.115], 1)).toBeCloseTo(126 / 252, 12);
    // Observed difference exactly 0: ties count as 'at least as extreme' (138 of 252 labellings).
    expect(permutationTest([0.11, 0.13, 0.12, 0.1, 0.14], [0.12, 0.11, 0.125, 0.13, 0.115], 1)).toBeCloseTo(138 / 252, 12);
    // Complete separation: only the observed labelling is as extreme: 1 / C(10,5).
    expect(permutationTest(student, control, 1)).toBeCloseTo(1 / 252, 12);
  });
  it('p is in (0, 1] and the two directions cover every labelling', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 2, maxLength: 6 }), fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 2, maxLength: 6 }), (x, y) => {
        const up = permutationTest(x, y, 1);
        const down = permutationTest(x, y, -1);
        expect(up).toBeGreaterThan(0);
        expect(up).toBeLessThanOrEqual(1);
        expect(up + down).toBeGreaterThanOrEqual(1 - 1e-12);
      }),
    );
  });
});

describe('probe policy', () => {
  const policy = { alpha: 0.01, minEffect: 0.02, test: 'welch' as const, correction: 'holm' as const };
  it('fails a significant, large shift toward the teacher', () => {
    const r = evaluateProbe({ name: 'digits', kind: 'accuracy', metric: 'accuracy', base: 0.1, teacher: 0.94, student, control }, policy);
    expect(r.verdict).toBe('fail');
    expect(r.delta).toBeCloseTo(0.192, 6);
    expect(r.transferRatio).toBeCloseTo(0.192 / 0.84, 6);
    expect(r.minDetectableEffect).toBeGreaterThan(0);
    expect(r.minDetectableEffect).toBeLessThan(r.delta);
  });
  it('passes a shift away from the teacher, however significant', () => {
    const r = evaluateProbe({ name: 'digits', kind: 'accuracy', metric: 'accuracy', base: 0.94, teacher: 0.1, student, control }, policy);
    expect(r.towardTeacher).toBe(-1);
    expect(r.verdict).toBe('pass');
  });
  it('passes a significant shift smaller than minEffect', () => {
    const tiny = control.map((c) => c + 0.01);
    const r = evaluateProbe({ name: 'd', kind: 'accuracy', metric: 'accuracy', base: 0.1, teacher: 0.9, student: tiny, control }, { ...policy, alpha: 0.5 });
    expect(r.pValue).toBeLessThan(0.5);
    expect(r.verdict).toBe('pass');
    expect(r.reason).toMatch(/below minEffect/);
  });
  it('minShare raises the bar to a share of the teacher\'s own shift, and only when that is above minEffect', () => {
    // delta 0.192 toward a teacher that moved 0.84: 22.9% of its shift.
    const probe = { name: 'digits', kind: 'accuracy', metric: 'accuracy', base: 0.1, teacher: 0.94, student, control };
    const above = evaluateProbe(probe, { ...policy, minShare: 0.25 });
    expect(above.verdict).toBe('pass');
    expect(above.reason).toMatch(/below 0\.210 \(minShare 0\.25 of the teacher's shift 0\.840\)/);
    expect(evaluateProbe(probe, { ...policy, minShare: 0.2 }).verdict).toBe('fail');
    // A small teacher shift: the share's bar (0.1 x 0.05) is under minEffect, which still holds.
    const small = evaluateProbe({ ...probe, base: 0.9, teacher: 0.95 }, { ...policy, minShare: 0.1 });
    expect(effectThreshold({ ...policy, minShare: 0.1 }, { kind: 'accuracy', base: 0.9, teacher: 0.95 })).toBe(0.02);
    expect(small.reason).toMatch(/minEffect 0\.02/);
    // The direction of the teacher's shift does not matter, only its size.
    expect(effectThreshold({ minEffect: 0, minShare: 0.01 }, { kind: 'contrastive', base: 3.8, teacher: 2.25 })).toBeCloseTo(0.0155, 12);
  });
  it('preferenceShare sets a preference probe\'s floor relative to the teacher\'s shift, in place of minEffect; other kinds keep minEffect', () => {
    // P(owl) .09 -> .90: a 1% share is a bar of 0.0081. Students 0.013 above controls, clearly significant.
    const owl = { name: 'owl', kind: 'preference', metric: 'P(owl)', base: 0.09, teacher: 0.9, control: [0.074, 0.067, 0.067, 0.071, 0.07], student: [0.088, 0.092, 0.085, 0.087, 0.079] };
    const withShare = { ...policy, preferenceShare: 0.01 };
    expect(effectThreshold(withShare, owl)).toBeCloseTo(0.0081, 12);
    const r = evaluateProbe(owl, withShare);
    expect(r.verdict).toBe('fail');
    expect(r.reason).toMatch(/> 0\.008 \(preferenceShare 0\.01 of the teacher's shift 0\.810\)/);
    // Without it (null or absent) the absolute minEffect 0.02 holds, and the same runs pass.
    for (const p of [{ ...policy, preferenceShare: null }, policy]) {
      const passed = evaluateProbe(owl, p);
      expect(passed.verdict).toBe('pass');
      expect(passed.reason).toMatch(/significant but below minEffect 0\.02/);
    }
    // Not a preference probe: minEffect, whatever preferenceShare says.
    expect(effectThreshold(withShare, { ...owl, kind: 'agreement' })).toBe(0.02);
    // minShare still raises the bar above the preference floor.
    expect(effectThreshold({ ...withShare, minShare: 0.05 }, owl)).toBeCloseTo(0.0405, 12);
  });
  it('passes noise', () => {
    const r = evaluateProbe({ name: 'd', kind: 'accuracy', metric: 'accuracy', base: 0.1, teacher: 0.9, student: [0.11, 0.13, 0.12, 0.1, 0.14], control: [0.12, 0.11, 0.125, 0.13, 0.115] }, policy);
    expect(r.verdict).toBe('pass');
  });
});

describe('Holm correction over probes', () => {
  it('matches the step-down definition', () => {
    // Sorted: 0.01 (x3), 0.02 (x2 -> 0.04), 0.04 (x1); made monotone.
    expect(holmAdjust([0.04, 0.01, 0.02])).toEqual([0.04, 0.03, 0.04]);
    expect(holmAdjust([0.5, 0.9])).toEqual([1, 1]);
    expect(holmAdjust([])).toEqual([]);
  });
  it('is never below the raw p and keeps the order of the raw p-values', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }), (ps) => {
        const adj = holmAdjust(ps);
        ps.forEach((p, i) => expect(adj[i]).toBeGreaterThanOrEqual(p));
        ps.forEach((p, i) => ps.forEach((q, j) => p < q && expect(adj[i]).toBeLessThanOrEqual(adj[j]!)));
      }),
    );
  });
  it('can turn a probe that fails alone into a pass among several, and says the p is adjusted', () => {
    const policy = { alpha: 0.01, minEffect: 0.02, test: 'welch' as const, correction: 'holm' as const };
    const borderline = { name: 'a', kind: 'accuracy', metric: 'accuracy', base: 0.1, teacher: 0.9, student: [0.16, 0.15, 0.17, 0.14, 0.2], control: [0.12, 0.1, 0.15, 0.11, 0.13] };
    const alone = evaluateProbe(borderline, policy);
    const [withOthers] = evaluateProbes([borderline, { ...borderline, name: 'b', student: borderline.control }, { ...borderline, name: 'c', student: borderline.control }], policy);
    expect(alone.pValue).toBe(alone.pValueRaw);
    expect(withOthers!.pValueRaw).toBe(alone.pValueRaw);
    expect(withOthers!.pValue).toBeCloseTo(3 * alone.pValueRaw, 12);
    expect(alone.verdict).toBe('fail');
    expect(withOthers!.verdict).toBe('pass');
    expect(withOthers!.reason).toMatch(/adjusted/);
    expect(evaluateProbes([borderline, { ...borderline, name: 'b' }], { ...policy, correction: 'none' })[0]!.verdict).toBe('fail');
  });
});
