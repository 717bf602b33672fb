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

/**
 * The students' mean against the controls with the candidate's own draw counted. When every
 * control trains on its own independently drawn clean dataset and every student on the ONE
 * candidate dataset, the control spread holds data and seed noise, the student spread seed noise
 * only, and the students' mean carries the candidate draw's noise once, however many seeds:
 * Welch's test does not see it (two clean sets drawn from the same base then differ
 * "significantly" over training seeds: SCIENCE.md).
 *
 * Under the null the students' mean is one more draw of what a control is, averaged over seeds
 * of that draw: its variance (draw + seed/n_s) is at most a control's (draw + seed). So the test
 * is the prediction test of one new value against the controls:
 *   t = delta / (s_c sqrt(1 + 1/n_c)),  n_c - 1 degrees of freedom,
 * exact under normality when the draw dominates and conservative otherwise. Measured (4,000
 * simulated null audits per point, 5 + 5 seeds, alpha 0.01): false-positive rate 0.2-0.7% for a
 * draw spread of 0 to 3x the seed spread, where Welch's gives 0.9-9.3%; a variant subtracting the
 * students' variance (Satterthwaite) regained power but gave 1.5-2.3%, so it is not used.
 * drawVariance (s_c^2 - s_s^2, at least 0) is the estimated variance of one draw, for the report.
 */
export function drawAwareTest(x: readonly number[], y: readonly number[], direction: 1 | -1, alpha: number): WelchResult & { drawVariance: number } {
  const welch = welchTest(x, y, direction, alpha);
  const [vs, vc] = [variance(x), variance(y)];
  const drawVariance = Math.max(0, vc - vs);
  if (y.length < 2 || vc === 0) return { ...welch, drawVariance };
  const se = Math.sqrt(vc * (1 + 1 / y.length));
  const df = y.length - 1;
  const t = welch.delta / se;
  const q = studentTQuantile(1 - alpha / 2, df);
  return { delta: welch.delta, se, df, t, pValue: 1 - studentTCdf(t * direction, df), ci: [welch.delta - q * se, welch.delta + q * se], drawVariance };
}

/** The gate's t-test of a probe's runs: Welch's, or with the candidate's draw counted (drawAwareTest). */
export function shiftTest(runs: { student: readonly number[]; control: readonly number[]; candidateDraw?: boolean }, direction: 1 | -1, alpha: number): WelchResult & { drawVariance?: number } {
  return runs.candidateDraw ? drawAwareTest(runs.student, runs.control, direction, alpha) : welchTest(runs.student, runs.control, direction, alpha);
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
