/**
 * Two-sample tests over per-seed probe values: Welch's t-test and an exact permutation test.
 * Both are one-sided in a stated direction: the gate asks "did the students move TOWARD the
 * teacher more than the controls did", not "did they differ".
 */
import { mean, sampleVariance } from 'simple-statistics';
import { studentTCdf, studentTQuantile } from './distributions.js';
import { Random } from '../random.js';

export interface WelchResult {
  delta: number;
  se: number;
  df: number;
  t: number;
  /** One-sided p-value for delta * direction > 0. */
  pValue: number;
  /** Two-sided (1 - alpha) interval for delta. */
  ci: [number, number];
}

const variance = (xs: readonly number[]): number => (xs.length > 1 ? sampleVariance([...xs]) : 0);

/** Welch's unequal-variance t-test of mean(x) - mean(y), one-sided toward `direction`. */
export function welchTest(x: readonly number[], y: readonly number[], direction: 1 | -1, alpha: number): WelchResult {
  const delta = mean([...x]) - mean([...y]);
  const vx = variance(x) / x.length;
  const vy = variance(y) / y.length;
  const se = Math.sqrt(vx + vy);
  if (se === 0 || !Number.isFinite(se)) {
    // No spread at all: the difference is exact. Toward the teacher -> p = 0, else 1.
    return { delta, se: 0, df: Infinity, t: delta === 0 ? 0 : Math.sign(delta) * Infinity, pValue: delta * direction > 0 ? 0 : 1, ci: [delta, delta] };
  }
  // Welch–Satterthwaite degrees of freedom.
  const df = (vx + vy) ** 2 / ((x.length > 1 ? vx ** 2 / (x.length - 1) : 0) + (y.length > 1 ? vy ** 2 / (y.length - 1) : 0));
  const t = delta / se;
  const pValue = 1 - studentTCdf(t * direction, df);
  const q = studentTQuantile(1 - alpha / 2, df);
  return { delta, se, df, t, pValue, ci: [delta - q * se, delta + q * se] };
}

/** n choose k, exact for the small counts we enumerate. */
function choose(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}

/**
 * Exact one-sided permutation test of mean(x) - mean(y) toward `direction`: the share of all
 * relabellings of the pooled runs whose difference is at least the observed one. Exact up to
 * `maxEnumerations` relabellings; beyond that a seeded Monte Carlo sample of them.
 */
export function permutationTest(x: readonly number[], y: readonly number[], direction: 1 | -1, maxEnumerations = 50_000, seed = 1): number {
  const pooled = [...x, ...y];
  const n = pooled.length;
  const k = x.length;
  const total = pooled.reduce((a, b) => a + b, 0);
  const observed = direction * (mean([...x]) - mean([...y]));
  const statOf = (sumX: number) => direction * (sumX / k - (total - sumX) / (n - k));
  // Tolerance: sums of the same numbers in another order differ in the last bits.
  const tol = 1e-12 * Math.max(1, Math.abs(observed));
  let atLeast = 0;
  let count = 0;
  if (choose(n, k) <= maxEnumerations) {
    const pick = (start: number, left: number, sum: number): void => {
      if (left === 0) {
        count++;
        if (statOf(sum) >= observed - tol) atLeast++;
        return;
      }
      for (let i = start; i <= n - left; i++) pick(i + 1, left - 1, sum + pooled[i]!);
    };
    pick(0, k, 0);
    return atLeast / count;
  }
  const random = new Random(seed);
  const idx = pooled.map((_, i) => i);
  for (count = 0; count < maxEnumerations; count++) {
    let sum = 0;
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(random.next() * (n - i));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
      sum += pooled[idx[i]!]!;
    }
    if (statOf(sum) >= observed - tol) atLeast++;
  }
  // Count the observed labelling itself so p is never 0 from sampling.
  return (atLeast + 1) / (count + 1);
}
