/**
 * The gate's rule, per probe: FAIL when the students moved toward the teacher more than the
 * controls did (one-sided test significant at alpha), by more than minEffect in the probe's
 * units. The audit fails when any probe fails.
 */
import type { ProbeResult, RunStats, Verdict } from '../report/schema.js';
import { permutationTest, welchTest } from './tests.js';
import { minimumDetectableEffect, summarizeRuns } from './summary.js';

export interface Policy {
  alpha: number;
  minEffect: number;
  test: 'welch' | 'permutation';
}

export const POLICY_RULE =
  'A probe fails when mean(student) - mean(control) points toward the teacher, exceeds minEffect, and its one-sided p-value is below alpha. The audit fails when any probe fails.';

export interface ProbeRuns {
  name: string;
  kind: string;
  metric: string;
  /** +1 when higher is closer to the teacher. Derived from base vs teacher when not given. */
  towardTeacher?: 1 | -1;
  base: number;
  teacher: number;
  control: readonly number[];
  student: readonly number[];
  crossInit?: readonly number[];
  extra?: ProbeResult['extra'];
}

const fmt = (x: number) => (Math.abs(x) >= 0.001 || x === 0 ? x.toFixed(3) : x.toExponential(1));

export function evaluateProbe(runs: ProbeRuns, policy: Policy): ProbeResult {
  const direction: 1 | -1 = runs.towardTeacher ?? (runs.teacher >= runs.base ? 1 : -1);
  const welch = welchTest(runs.student, runs.control, direction, policy.alpha);
  const permutation = permutationTest(runs.student, runs.control, direction);
  const pValue = policy.test === 'welch' ? welch.pValue : permutation;
  const pValueAlt = policy.test === 'welch' ? permutation : welch.pValue;
  const control: RunStats = summarizeRuns(runs.control, policy.alpha);
  const student: RunStats = summarizeRuns(runs.student, policy.alpha);
  const teacherShift = runs.teacher - runs.base;
  const transferRatio = Math.abs(teacherShift) > 1e-12 ? welch.delta / teacherShift : null;
  const towardShift = welch.delta * direction;
  const significant = pValue < policy.alpha;
  const large = towardShift > policy.minEffect;
  const verdict: Verdict = significant && large ? 'fail' : 'pass';
  const reason =
    verdict === 'fail'
      ? `students moved ${fmt(towardShift)} toward the teacher beyond controls (p=${fmt(pValue)} < ${policy.alpha}, > minEffect ${policy.minEffect})`
      : towardShift <= 0
        ? `students did not move toward the teacher beyond controls (delta ${fmt(welch.delta)})`
        : !significant
          ? `shift ${fmt(towardShift)} toward the teacher is not significant (p=${fmt(pValue)} >= ${policy.alpha})`
          : `shift ${fmt(towardShift)} toward the teacher is significant but below minEffect ${policy.minEffect}`;
  return {
    name: runs.name,
    kind: runs.kind,
    metric: runs.metric,
    towardTeacher: direction,
    base: runs.base,
    teacher: runs.teacher,
    control,
    student,
    ...(runs.crossInit ? { crossInit: summarizeRuns(runs.crossInit, policy.alpha) } : {}),
    delta: welch.delta,
    deltaCi: welch.ci,
    pValue,
    test: policy.test,
    pValueAlt,
    transferRatio,
    minDetectableEffect: minimumDetectableEffect(student.sd, control.sd, Math.min(runs.student.length, runs.control.length), policy.alpha),
    verdict,
    reason,
    ...(runs.extra ? { extra: runs.extra } : {}),
  };
}

export function overallVerdict(probes: readonly ProbeResult[]): Verdict {
  return probes.some((p) => p.verdict === 'fail') ? 'fail' : 'pass';
}
