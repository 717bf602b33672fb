export { studentTCdf, studentTQuantile, regularizedBeta } from './distributions.js';
export { welchTest, drawAwareTest, shiftTest, permutationTest, type WelchResult } from './tests.js';
export { summarizeRuns, minimumDetectableEffect } from './summary.js';
export { effectThreshold, evaluateProbe, evaluateProbes, holmAdjust, overallVerdict, POLICY_RULE, type Policy, type ProbeRuns } from './policy.js';
export { formatStat } from './format.js';
export { PolicySchema, ProbeResultSchema, RunStatsSchema, VerdictSchema, type ProbeResult, type RunStats, type Verdict } from './schema.js';
export { groupSequentialBoundaries, looksFor, futile, obrienFlemingSpent, normalCdf, normalQuantile, SPENDING, FUTILITY_RULE, type Look } from './sequential.js';
export { clopperPearson } from './proportion.js';
