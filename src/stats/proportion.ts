/** Exact (Clopper-Pearson) confidence interval of a binomial proportion: k successes in n trials. */
import { regularizedBeta } from './distributions.js';

/** The x in [0, 1] with I_x(a, b) = p, by bisection (I_x is increasing in x). */
function betaQuantile(p: number, a: number, b: number): number {
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (regularizedBeta(mid, a, b) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Two-sided (1 - alpha) Clopper-Pearson interval: never narrower than the true coverage needs. */
export function clopperPearson(k: number, n: number, alpha = 0.05): [number, number] {
  if (!(Number.isInteger(k) && Number.isInteger(n) && n > 0 && k >= 0 && k <= n)) throw new RangeError(`clopperPearson: need 0 <= k <= n, n > 0 (k=${k}, n=${n})`);
  const lo = k === 0 ? 0 : betaQuantile(alpha / 2, k, n - k + 1);
  const hi = k === n ? 1 : betaQuantile(1 - alpha / 2, k + 1, n - k);
  return [lo, hi];
}
