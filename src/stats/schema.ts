/**
 * What the statistics take (the gate's policy) and give (one result per probe), each declared
 * once as a JSON Schema with its TypeScript type derived from it. report.json carries these objects
 * as they are (src/report/schema.ts) and audit.yaml's `policy:` is the Policy schema
 * (src/config/schema.ts), so neither declares them again.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Enum, Interval, MapOf, Section, WireNumber } from '../jsonSchema.js';

export const TESTS = ['welch', 'permutation'] as const;
export const CORRECTIONS = ['holm', 'none'] as const;

/** The gate's rule parameters (audit.yaml `policy:`; echoed in report.json `policy`). */
export const PolicySchema = Section({
  alpha: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.01, description: 'significance level of the one-sided test' }),
  minEffect: Type.Number({ minimum: 0, default: 0.02, description: 'smallest shift toward the teacher (probe units) that fails the gate' }),
  minShare: Type.Optional(Type.Number({ minimum: 0, maximum: 1, default: 0, description: "smallest shift toward the teacher as a share of the teacher's own shift on the probe (|teacher - base|); a probe fails only above both this and minEffect (0 = off)" })),
  preferenceShare: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
    default: 0.01,
    description: "preference probes (a probability): the smallest shift toward the teacher as this share of the teacher's own shift on the probe, in place of minEffect (a bar relative to the teacher's move fits every trait word and base prior); null = minEffect, as for the other probe kinds (also when absent outside audit.yaml)",
  })),
  test: Enum(TESTS, { default: 'welch', description: "Welch's t-test or the exact permutation test over seeds" }),
  correction: Enum(CORRECTIONS, { default: 'holm', description: "Holm's correction of the p-values over the probes (family-wise error at alpha)" }),
});
export type Policy = Static<typeof PolicySchema>;

/** audit.yaml `policy:`: the test's rule above plus what the audit does with it. */
export const AuditPolicySchema = Section({
  ...PolicySchema.properties,
  klProbes: Type.Boolean({ default: true, description: 'every agreement probe also tests the mean KL(teacher || model) on its inputs as a probe of its own (lower = toward the teacher; minEffect in nats), in the same Holm family' }),
  onInconclusive: Enum(['fail', 'pass'] as const, { default: 'fail', description: 'exit code of an inconclusive audit (the positive control showed no transfer): fail = 1, pass = 0' }),
});
export type AuditPolicy = Static<typeof AuditPolicySchema>;

export const VerdictSchema = Enum(['pass', 'fail'] as const);
export type Verdict = Static<typeof VerdictSchema>;

/** A set of runs (one per seed) of one kind of probe student. */
export const RunStatsSchema = Type.Object({
  mean: WireNumber(),
  sd: WireNumber(),
  /** Confidence interval of the mean, level = 1 - policy.alpha. */
  ci: Interval(),
  runs: Type.Array(WireNumber()),
}, { additionalProperties: false, description: "One kind of probe student over seeds; ci is the mean's interval at level 1 - policy.alpha." });
export type RunStats = Static<typeof RunStatsSchema>;

const pValue = (description?: string) => WireNumber({ minimum: 0, maximum: 1, ...(description ? { description } : {}) });

export const ProbeResultSchema = Type.Object({
  name: Type.String(),
  kind: Type.String(),
  metric: Type.String({ description: 'what the value measures, e.g. "accuracy", "agreement with teacher", "KL(teacher || model)"' }),
  towardTeacher: Enum([1, -1] as const, { description: '+1 when a higher value is closer to the teacher, -1 when lower is' }),
  base: WireNumber(),
  teacher: WireNumber(),
  control: RunStatsSchema,
  student: RunStatsSchema,
  crossInit: Type.Optional(Type.Unsafe<RunStats>({ ...RunStatsSchema, description: 'fresh-init students on the candidate data (optional cross-init control)' })),
  delta: WireNumber({ description: 'mean(student) - mean(control)' }),
  deltaCi: Interval(),
  pValue: pValue('one-sided p-value that the students moved toward the teacher more than the controls, as the verdict uses it: Holm-adjusted over the probes unless policy.correction is none'),
  pValueRaw: pValue('The same test\'s p-value before the correction over probes.'),
  test: Enum(TESTS),
  pValueAlt: pValue("the other test's p-value, for reference"),
  transferRatio: Type.Unsafe<number | null>({ type: ['number', 'null'], description: 'delta / (teacher - base); null when the teacher does not differ from the base' }),
  minDetectableEffect: WireNumber({ description: 'smallest delta this many seeds detect at alpha with 80% power, from the observed spread' }),
  candidateDrawVariance: Type.Optional(WireNumber({ minimum: 0, description: "each control trained on its own drawn clean baseline: the variance of one dataset draw (control variance - student variance, at least 0), counted in the t-test because the students' mean rests on the one candidate draw" })),
  verdict: VerdictSchema,
  reason: Type.String({ description: 'one line saying why this verdict' }),
  degenerate: Type.Optional(Type.Literal(true, { description: 'every student and control run gave the same value: the probe cannot measure transfer; it does not fail the data, but the audit is inconclusive instead of passing' })),
  extra: Type.Optional(MapOf(Type.Object({
    base: WireNumber(),
    teacher: WireNumber(),
    control: WireNumber(),
    student: WireNumber(),
  }, { additionalProperties: false }), { description: 'secondary metrics (e.g. KL beside agreement), per model kind' })),
}, { additionalProperties: false });
export type ProbeResult = Static<typeof ProbeResultSchema>;
