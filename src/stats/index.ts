export { studentTCdf, studentTQuantile, regularizedBeta } from './distributions.js';
export { welchTest, permutationTest, type WelchResult } from './tests.js';
export { summarizeRuns, minimumDetectableEffect } from './summary.js';
export { evaluateProbe, evaluateProbes, holmAdjust, overallVerdict, POLICY_RULE, type Policy, type ProbeRuns } from './policy.js';
export { formatStat } from './format.js';
export type { ProbeResult, RunStats, Verdict } from './result.js';
