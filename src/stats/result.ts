/**
 * What the statistics produce for one probe: run summaries, the test, the verdict. report.json
 * carries these objects as they are (src/report/schema.ts imports them from here).
 */

export type Verdict = 'pass' | 'fail';

/** A set of runs (one per seed) of one kind of probe student. */
export interface RunStats {
  mean: number;
  sd: number;
  /** Confidence interval of the mean, level = 1 - policy.alpha. */
  ci: [number, number];
  runs: number[];
}

export interface ProbeResult {
  name: string;
  kind: string;
  /** What the value measures, e.g. "accuracy", "agreement with teacher", "KL(teacher || model)". */
  metric: string;
  /** +1 when a higher value is closer to the teacher, -1 when lower is. */
  towardTeacher: 1 | -1;
  base: number;
  teacher: number;
  control: RunStats;
  student: RunStats;
  /** Fresh-init students on the candidate data (optional cross-init control). */
  crossInit?: RunStats;
  /** mean(student) - mean(control). */
  delta: number;
  deltaCi: [number, number];
  /**
   * One-sided p-value that the students moved toward the teacher more than the controls, as the
   * verdict uses it: Holm-adjusted over the audit's probes unless policy.correction is none.
   */
  pValue: number;
  /** The same test's p-value before the correction. */
  pValueRaw: number;
  test: 'welch' | 'permutation';
  /** The other test's p-value, for reference. */
  pValueAlt: number;
  /** delta / (teacher - base); null when the teacher does not differ from the base. */
  transferRatio: number | null;
  /** Smallest delta this many seeds detect at alpha with 80% power, from the observed spread. */
  minDetectableEffect: number;
  verdict: Verdict;
  /** One line saying why this verdict. */
  reason: string;
  /** Secondary metrics (e.g. KL beside agreement), per model kind. */
  extra?: Record<string, { base: number; teacher: number; control: number; student: number }>;
}
