/** Per-seed run summaries and the power figure reported beside each test. */
import { mean, sampleStandardDeviation } from 'simple-statistics';
import { studentTQuantile } from './distributions.js';
import type { RunStats } from './schema.js';

/** Mean, sd and the t-based (1 - alpha) interval of the mean of a set of runs. */
export function summarizeRuns(runs: readonly number[], alpha: number): RunStats {
  const m = mean([...runs]);
  const sd = runs.length > 1 ? sampleStandardDeviation([...runs]) : 0;
  const half = runs.length > 1 ? studentTQuantile(1 - alpha / 2, runs.length - 1) * (sd / Math.sqrt(runs.length)) : 0;
  return { mean: m, sd, ci: [m - half, m + half], runs: [...runs] };
}

/**
 * Minimum detectable effect of a one-sided two-sample t-test with n runs per arm at level alpha
 * and the given power, from the observed per-arm standard deviations.
 */
export function minimumDetectableEffect(sdA: number, sdB: number, n: number, alpha: number, power = 0.8): number {
  if (n < 2) return Infinity;
  const df = 2 * n - 2;
  const se = Math.sqrt((sdA * sdA + sdB * sdB) / n);
  return (studentTQuantile(1 - alpha, df) + studentTQuantile(power, df)) * se;
}
