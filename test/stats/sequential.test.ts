import { describe, expect, it } from 'vitest';
import { futile, groupSequentialBoundaries, looksFor, normalCdf, normalQuantile, obrienFlemingSpent } from '../../src/stats/index.js';
import { runInStages, type Evaluation } from '../../src/audit/sequential.js';
import type { ProbeRuns } from '../../src/stats/index.js';

describe('group-sequential boundaries', () => {
  it('has an exact normal CDF and quantile', () => {
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-3)).toBeCloseTo(0.0013499, 6);
    expect(normalQuantile(0.99)).toBeCloseTo(2.326348, 5);
  });

  it("spends O'Brien-Fleming alpha: almost none early, alpha at the end", () => {
    expect(obrienFlemingSpent(0.025, 1)).toBe(0.025);
    expect(obrienFlemingSpent(0.025, 0.5)).toBeCloseTo(0.00153, 4);
    expect(obrienFlemingSpent(0.025, 0.2)).toBeLessThan(1e-5);
  });

  it('reproduces the published Lan-DeMets OBF boundaries (one-sided 0.025)', () => {
    // Jennison & Turnbull (2000) / gsDesign: 2 looks 2.963, 1.969; 5 looks 4.877 3.357 2.680 2.290 2.031.
    expect(groupSequentialBoundaries(0.025, [5, 10]).map((l) => l.boundary)).toEqual([expect.closeTo(2.963, 2), expect.closeTo(1.969, 2)]);
    const five = groupSequentialBoundaries(0.025, [2, 4, 6, 8, 10]).map((l) => l.boundary);
    [4.877, 3.357, 2.68, 2.29, 2.031].forEach((b, i) => expect(five[i]).toBeCloseTo(b, 1));
  });

  it('is the fixed design with one look, and spends exactly alpha in total', () => {
    expect(groupSequentialBoundaries(0.01, [5])).toEqual([{ seeds: 5, fraction: 1, alphaSpent: 0.01, boundary: normalQuantile(0.99), nominalAlpha: 0.01 }]);
    const looks = groupSequentialBoundaries(0.01, [3, 6, 9, 10]);
    expect(looks.at(-1)!.alphaSpent).toBe(0.01);
    // Each look's nominal level is below alpha; the last close to it.
    for (const l of looks) expect(l.nominalAlpha).toBeLessThan(0.01);
    expect(looks.at(-1)!.nominalAlpha).toBeGreaterThan(0.007);
  });

  it('places looks every firstSeeds seeds up to the maximum', () => {
    expect(looksFor(3, 5)).toEqual([3, 5]);
    expect(looksFor(3, 10)).toEqual([3, 6, 9, 10]);
    expect(looksFor(5, 5)).toEqual([5]);
    expect(() => groupSequentialBoundaries(0.01, [3, 3])).toThrow(/increasing/);
  });
});

const runs = (student: number[], control: number[]): ProbeRuns => ({ name: 'p', kind: 'accuracy', metric: 'accuracy', base: 0.1, teacher: 0.9, student, control });

describe('futility', () => {
  it('stops only when the upper bound on the shift toward the teacher is below minEffect', () => {
    const policy = { alpha: 0.01, minEffect: 0.02 };
    expect(futile([runs([0.1, 0.1001, 0.0999], [0.1, 0.1002, 0.0998])], policy)).toBe(true);
    expect(futile([runs([0.1, 0.13, 0.07], [0.1, 0.12, 0.08])], policy)).toBe(false);
    expect(futile([runs([0.2, 0.21, 0.19], [0.1, 0.11, 0.09])], policy)).toBe(false);
  });
  it('with minShare, stops below a share of the teacher\'s shift that a later look could not fail on', () => {
    // Upper bound on +0.1 +- ~0.03 is under 0.2 = 25% of the teacher's 0.8 shift, above minEffect.
    const clear = runs([0.2, 0.21, 0.19], [0.1, 0.11, 0.09]);
    expect(futile([clear], { alpha: 0.01, minEffect: 0.02, minShare: 0.25 })).toBe(true);
    expect(futile([clear], { alpha: 0.01, minEffect: 0.02, minShare: 0.1 })).toBe(false);
  });
});

describe('runInStages', () => {
  const policy = { alpha: 0.01, minEffect: 0.02, test: 'welch' as const, correction: 'holm' as const };
  const evaluation = (verdict: 'pass' | 'fail', r: ProbeRuns, detected = true): Evaluation => ({
    probes: [],
    probeRuns: [r],
    positiveControl: { signal: '', detected, probes: [], reason: '' },
    probeVerdict: verdict,
    verdict,
  });
  const seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

  it('stops at the first look on a fail, trains the next seeds while unclear', async () => {
    const trained: number[][] = [];
    const alphas: number[] = [];
    const unclear = runs([0.1, 0.13, 0.07], [0.1, 0.12, 0.08]);
    const out = await runInStages(seeds, [3, 6, 9, 10], policy, async (s) => void trained.push([...s]), (alpha) => {
      alphas.push(alpha);
      return evaluation(alphas.length === 2 ? 'fail' : 'pass', unclear);
    });
    expect(trained).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(out.seedsUsed).toEqual([1, 2, 3, 4, 5, 6]);
    expect(out.sequential!.looks.map((l) => l.decision)).toEqual(['continue', 'fail']);
    expect(out.sequential!.stoppedEarly).toBe(true);
    expect(alphas[0]).toBeLessThan(alphas[1]!);
  });

  it('passes early on futility only once the positive control has shown transfer', async () => {
    const flat = runs([0.1, 0.1001, 0.0999], [0.1, 0.1002, 0.0998]);
    let looks = 0;
    const out = await runInStages(seeds, [3, 6, 9, 10], policy, async () => {}, () => evaluation('pass', flat, ++looks >= 2));
    expect(out.sequential!.looks.map((l) => l.decision)).toEqual(['continue', 'pass']);
    expect(out.seedsUsed).toHaveLength(6);
  });

  it('is the fixed design with one look (no sequential block)', async () => {
    const out = await runInStages(seeds.slice(0, 5), [5], policy, async () => {}, (alpha) => evaluation(alpha === 0.01 ? 'pass' : 'fail', runs([1, 2], [1, 2])));
    expect(out.sequential).toBeUndefined();
    expect(out.evaluation.verdict).toBe('pass');
  });
});
