/**
 * Group-sequential testing: look at the evidence after each stage of seeds and stop as soon as the
 * decision is clear, with the chance of a false FAIL over ALL looks kept at alpha. Alpha is spent
 * over the looks by the Lan-DeMets spending function of O'Brien-Fleming type,
 *   alpha(t) = 2 - 2 * Phi(z_{1 - alpha/2} / sqrt(t)),   t = seeds so far / maximum seeds,
 * which spends almost nothing early (an early FAIL needs overwhelming evidence) and leaves the last
 * look with nearly the whole alpha (a fixed design's verdicts barely change). The boundaries are
 * the critical values c_k of the cumulative z-statistics (independent increments, information
 * proportional to seeds) with P(Z_1 >= c_1 or ... or Z_k >= c_k | no transfer) = alpha(t_k),
 * found by numerical integration over the stages (Armitage, McPherson & Rowe); each look then
 * compares its one-sided p-value with the nominal level 1 - Phi(c_k).
 */
import { effectThreshold, type Policy, type ProbeRuns } from './policy.js';
import { shiftTest } from './tests.js';

/** Standard normal CDF (erfc, Numerical Recipes' Chebyshev fit: relative error < 1.2e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** Standard normal quantile by bisection on normalCdf (|error| < 1e-10 in z). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p=${p} is not in (0, 1)`);
  let lo = -40;
  let hi = 40;
  for (let i = 0; i < 200 && hi - lo > 1e-10; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Cumulative one-sided alpha spent by information fraction t (O'Brien-Fleming type, Lan-DeMets). */
export function obrienFlemingSpent(alpha: number, t: number): number {
  if (t <= 0) return 0;
  if (t >= 1) return alpha;
  return 2 - 2 * normalCdf(normalQuantile(1 - alpha / 2) / Math.sqrt(t));
}

export interface Look {
  /** Seeds per arm at this look. */
  seeds: number;
  /** Information fraction: seeds / maximum seeds. */
  fraction: number;
  /** Cumulative alpha spent up to and including this look. */
  alphaSpent: number;
  /** Critical value of the cumulative z-statistic. */
  boundary: number;
  /** One-sided nominal level of this look: reject when p < 1 - Phi(boundary). */
  nominalAlpha: number;
}

const STEP = 0.005;

/**
 * The looks of a design with the given cumulative seeds per look (increasing, the last one the
 * maximum). Exact for one look (nominal = alpha); otherwise by grid integration (step 0.005 sd).
 */
export function groupSequentialBoundaries(alpha: number, seedsPerLook: readonly number[]): Look[] {
  const max = seedsPerLook.at(-1)!;
  for (let i = 0; i < seedsPerLook.length; i++) {
    const n = seedsPerLook[i]!;
    if (!(Number.isInteger(n) && n >= 2 && (i === 0 || n > seedsPerLook[i - 1]!))) throw new RangeError(`looks must be increasing whole seed counts >= 2: ${seedsPerLook.join(', ')}`);
  }
  // Density of the score S = Z * sqrt(t) on a grid, restricted to paths that have not crossed yet.
  const lo = -10;
  const size = Math.ceil(20 / STEP) + 1;
  const grid = Float64Array.from({ length: size }, (_, i) => lo + i * STEP);
  let density: Float64Array | undefined;
  let prevT = 0;
  let spentBefore = 0;
  const looks: Look[] = [];
  for (const seeds of seedsPerLook) {
    const t = seeds / max;
    const spent = obrienFlemingSpent(alpha, t);
    const dt = t - prevT;
    const sd = Math.sqrt(dt);
    // Density of S_t: the previous (continuing) density convolved with N(0, dt).
    const next = new Float64Array(size);
    if (!density) {
      for (let i = 0; i < size; i++) next[i] = Math.exp(-(grid[i]! ** 2) / (2 * dt)) / (sd * Math.sqrt(2 * Math.PI));
    } else {
      const reach = Math.ceil((9 * sd) / STEP);
      const kernel = Float64Array.from({ length: 2 * reach + 1 }, (_, j) => (Math.exp(-(((j - reach) * STEP) ** 2) / (2 * dt)) / (sd * Math.sqrt(2 * Math.PI))) * STEP);
      for (let i = 0; i < size; i++) {
        const d = density[i]!;
        if (d === 0) continue;
        const from = Math.max(0, i - reach);
        const to = Math.min(size - 1, i + reach);
        for (let j = from; j <= to; j++) next[j] += d * kernel[j - i + reach]!;
      }
    }
    // Boundary b on S with P(S >= b, not crossed before) = spent - spentBefore.
    const target = spent - spentBefore;
    const tail = (b: number): number => {
      let sum = 0;
      for (let i = 0; i < size; i++) if (grid[i]! >= b) sum += next[i]! * STEP;
      return sum;
    };
    let bLo = -5;
    let bHi = 10;
    for (let i = 0; i < 60; i++) {
      const mid = (bLo + bHi) / 2;
      if (tail(mid) > target) bLo = mid;
      else bHi = mid;
    }
    const b = (bLo + bHi) / 2;
    const boundary = b / Math.sqrt(t);
    looks.push({ seeds, fraction: t, alphaSpent: spent, boundary, nominalAlpha: 1 - normalCdf(boundary) });
    for (let i = 0; i < size; i++) if (grid[i]! >= b) next[i] = 0;
    density = next;
    prevT = t;
    spentBefore = spent;
  }
  // One look is the fixed design: its nominal level is alpha exactly.
  if (looks.length === 1) looks[0] = { ...looks[0]!, boundary: normalQuantile(1 - alpha), nominalAlpha: alpha };
  return looks;
}

/** Cumulative seeds per look: `first`, then equal steps of about `first` up to `max` (at most `max`). */
export function looksFor(first: number, max: number): number[] {
  if (first >= max) return [max];
  const looks: number[] = [];
  for (let n = first; n < max; n += first) looks.push(n);
  looks.push(max);
  return looks;
}

/**
 * Futility (non-binding): every probe's one-sided (1 - alpha) upper confidence bound on the shift
 * toward the teacher is below the effect threshold (effectThreshold: minEffect, or minShare of the
 * teacher's shift), so the data already exclude the smallest shift the gate would fail on. Stopping there can only turn a later FAIL into a PASS, never the reverse, so it
 * does not raise the false-FAIL rate; a true shift of minEffect stops here with chance <= alpha
 * per look.
 */
export function futile(runs: readonly ProbeRuns[], policy: Pick<Policy, 'alpha' | 'minEffect' | 'minShare'>): boolean {
  return runs.every((r) => {
    const direction: 1 | -1 = r.towardTeacher ?? (r.teacher >= r.base ? 1 : -1);
    // Two-sided (1 - 2 alpha) interval = one-sided (1 - alpha) bounds.
    const { ci } = shiftTest(r, direction, 2 * policy.alpha);
    const upperToward = direction === 1 ? ci[1] : -ci[0];
    return upperToward < effectThreshold(policy, r);
  });
}

export const SPENDING = "O'Brien-Fleming type alpha spending (Lan-DeMets): alpha(t) = 2 - 2 Phi(z(1 - alpha/2) / sqrt(t)), t = seeds / maximum seeds";

export const FUTILITY_RULE =
  'stop with a pass before the last look when every probe\'s one-sided (1 - alpha) upper confidence bound on the shift toward the teacher is below the effect threshold (minEffect, or minShare of the teacher\'s shift) and the positive control (if any) has shown transfer (non-binding: it cannot add false fails)';
