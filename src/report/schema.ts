/**
 * report.json: the audit's versioned result. Everything a pipeline acts on is here; the
 * Markdown, HTML, JUnit and SARIF writers only render it. Declared once, below, as a JSON Schema:
 * the TypeScript types are derived from it, report.json's key order follows it (json.ts), and
 * docs/report.schema.json is generated from it (`npm run schemas`; a test checks the file).
 * Bump REPORT_SCHEMA_VERSION on any breaking change.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Enum, Interval, MapOf, WireNumber } from '../jsonSchema.js';
import { AuditPolicySchema, ProbeResultSchema, type ProbeResult, type RunStats, type Verdict } from '../stats/schema.js';

export const REPORT_SCHEMA_VERSION = '1.0.0';

// The per-probe result shapes are made by src/stats (which sits below report): defined there.
export type { ProbeResult, RunStats, Verdict };

const strict = { additionalProperties: false } as const;
const count = (description?: string) => Type.Integer({ minimum: 0, ...(description ? { description } : {}) });
const line = () => Type.Integer({ minimum: 1 });
/** Free-form JSON object (echoed settings). */
const openObject = () => Type.Unsafe<Record<string, unknown>>({ type: 'object' });
const cosine = () => WireNumber({ minimum: -1, maximum: 1, description: 'A cosine in [-1, 1], or null when it could not be computed (JSON has no NaN).' });

export const FilterRuleSummarySchema = Type.Object({
  excluded: count(),
  reasons: MapOf(count()),
  examples: Type.Array(Type.Object({ line: line(), text: Type.String(), reasons: Type.Array(Type.String()) }, strict)),
}, strict);
export type FilterRuleSummary = Static<typeof FilterRuleSummarySchema>;

export const FilterSummarySchema = Type.Object({
  rules: Type.Array(Type.String()),
  rowsIn: count(),
  rowsKept: count(),
  rowsExcluded: count(),
  perRule: MapOf(FilterRuleSummarySchema),
}, strict);
export type FilterSummary = Static<typeof FilterSummarySchema>;

export const DataSummarySchema = Type.Object({
  candidate: Type.Object({
    file: Type.String(),
    rowsIn: count(),
    rowsUsed: count(),
    excluded: Type.Object({
      filtered: count(),
      nonFinite: count(),
      badRows: count(),
      beyondMaxRows: count('Rows after the configured row limit, not read.'),
      emptyCompletion: Type.Optional(count('Text rows whose completion is empty or whitespace.')),
      noCompletionTokens: Type.Optional(count('Text rows whose prompt alone fills task.maxLength, or whose completion adds no token.')),
      logprobsMalformed: Type.Optional(count("task.targets: logprobs: rows whose logprobs field is missing or not OpenAI's {content: [{token, logprob, top_logprobs}]} shape.")),
      logprobsMisaligned: Type.Optional(count("task.targets: logprobs: rows whose logprobs content tokens are not the completion's own tokens, position by position.")),
      logprobsUnknownToken: Type.Optional(count('task.targets: logprobs: rows with a top_logprobs token not in the vocabulary (or naming several tokens).')),
      logprobsInvalidValue: Type.Optional(count('task.targets: logprobs: rows with a logprob that is not a finite number <= 0.')),
      logprobsDuplicateToken: Type.Optional(count('task.targets: logprobs: rows with a top_logprobs list naming the same token twice.')),
      logprobsBadK: Type.Optional(count('task.targets: logprobs: rows with a top_logprobs list that is empty or longer than 100.')),
    }, { ...strict, description: 'Every row not used, by why. The rows are listed in excluded.jsonl beside the report.' }),
    targetType: Enum(['probs', 'logits', 'tokens', 'logprobs'] as const, { description: 'probs | logits (logits tasks); tokens | logprobs (text tasks)' }),
    targetTypeDetected: Type.Boolean(),
    text: Type.Optional(Type.Object({
      maxLength: count(),
      truncated: count(),
      misaligned: count(),
      lossTokens: count(),
      softPositions: Type.Optional(count("task.targets: logprobs: loss positions trained on the rows' renormalised top-k logprobs, per epoch.")),
      hardPositions: Type.Optional(count('task.targets: logprobs: loss positions trained on a hard target (the EOS after each completion, absent from OpenAI\'s logprobs), per epoch.')),
      topK: Type.Optional(count('task.targets: logprobs: the longest top_logprobs list used (the soft targets\' width).')),
      topListTokens: Type.Optional(count("task.targets: logprobs: distinct tokens the candidate's top lists give a probability; a generated baseline's lists keep only these, renormalised, so controls train on targets shaped like the students'.")),
    }, { ...strict, description: "Text tasks: training length in tokens, rows cut to it (kept), rows whose prompt tokens were not a prefix of the row's (boundary = common prefix), loss-bearing tokens per epoch." })),
  }, strict),
  baseline: Type.Object({
    source: Enum(['given', 'generated-by-base'] as const),
    file: Type.Optional(Type.String()),
    rows: count(),
    rowsPerSeed: Type.Optional(Type.Array(count(), { description: 'A generated text baseline is sampled once per control seed: usable rows of each (rows is the fewest).' })),
    generate: Type.Optional(Type.Object({ temperature: Type.Number(), topP: Type.Number(), maxNewTokens: Type.Integer() }, strict)),
  }, strict),
}, strict);
export type DataSummary = Static<typeof DataSummarySchema>;

export const GradientScreenSchema = Type.Object({
  candidateCosine: cosine(),
  baselineCosine: cosine(),
  perParameter: MapOf(cosine(), { description: 'per-parameter-tensor cosines for the candidate data' }),
}, { ...strict, description: "First-order screen: cosine between the data's loss gradient at the base and (teacher - base)." });
export type GradientScreen = Static<typeof GradientScreenSchema>;

export const RowAttributionSchema = Type.Object({
  metric: Type.String(),
  rows: count(),
  mean: Type.Number(),
  top10Share: Type.Number({ minimum: 0, maximum: 1, description: 'share of the summed score carried by the top 10% of rows (0.1 when spread evenly)' }),
  top: Type.Array(Type.Object({ line: line(), score: Type.Number() }, strict), { maxItems: 20, description: 'highest-scoring rows, source line and score, highest first' }),
}, { ...strict, description: 'Which candidate rows carry the signal: each row scored by KL(target || base output) over the target slice; base-made data scores 0.' });
export type RowAttribution = Static<typeof RowAttributionSchema>;

/**
 * The audit's verdict: pass or fail as the probes say; `inconclusive` when they passed but the
 * positive control showed the audit could not have detected transfer; `screen` for a screen-only
 * run (`audit-dataset screen`: no training, no verdict on the data).
 */
export const AuditVerdictSchema = Enum(['pass', 'fail', 'inconclusive', 'screen'] as const, {
  description: 'pass, fail, inconclusive (the probes passed but the positive control showed no transfer through the data\'s outputs, or a probe was degenerate, so the audit could not have detected it; summary says which; exit code by policy.onInconclusive), or screen (a screen-only run, exit 0).',
});
export type AuditVerdict = Static<typeof AuditVerdictSchema>;

export const PositiveControlSchema = Type.Object({
  signal: Type.String({ description: 'what the positive-control students learned, in words' }),
  outputs: Type.Optional(Type.Unsafe<[number, number]>({
    type: 'array',
    items: { type: 'integer', minimum: 0 },
    minItems: 2,
    maxItems: 2,
    description: "logits tasks: the half-open slice [start, end) of the teacher's outputs the students learned, the candidate's task.outputs (the data's channel)",
  })),
  detected: Type.Boolean({ description: 'some probe moved toward the teacher significantly (it would fail the gate)' }),
  probes: Type.Array(Type.Object({
    name: Type.String(),
    mean: WireNumber(),
    runs: Type.Array(WireNumber()),
    delta: WireNumber(),
    deltaCi: Interval(),
    pValue: WireNumber({ minimum: 0, maximum: 1 }),
    transfer: Type.Boolean(),
    controlMean: Type.Optional(WireNumber({ description: 'mean of the runs the positive control is tested against (delta = mean - controlMean)' })),
  }, strict)),
  seedsUsed: Type.Optional(Type.Integer({ minimum: 1, description: 'with seeds in stages: the seeds of the look at which the positive control showed transfer; it was decided there (a stricter alpha than any later look) and trained no further runs' })),
  against: Type.Optional(Type.String({ description: "what the positive-control students are tested against when not the audit's controls (text: students trained the same way on the base's next-token distributions on the same rows)" })),
  reason: Type.String({ description: 'one line in plain words' }),
}, { ...strict, description: "Students trained with the audit's recipe and seeds on the strongest signal the teacher gives through the data's own channel (for logits tasks: the teacher's own outputs, at full precision, over the slice the candidate's targets cover, on the candidate inputs; its full distribution when the slice is every output; tested against the same controls. For text: its next-token distributions on the candidate rows, tested against students trained the same way on the base's), on the same probes. A pass with detected false becomes inconclusive." });
export type PositiveControl = Static<typeof PositiveControlSchema>;

export const SequentialSummarySchema = Type.Object({
  spending: Type.String({ description: 'the alpha-spending function, in words' }),
  futility: Type.String({ description: 'the early-pass (futility) rule, in words' }),
  maxSeeds: count(),
  seedsUsed: count(),
  stoppedEarly: Type.Boolean(),
  looks: Type.Array(Type.Object({
    seeds: count(),
    fraction: WireNumber({ description: 'seeds / maximum seeds' }),
    alphaSpent: WireNumber({ description: 'cumulative alpha spent up to this look' }),
    boundary: WireNumber({ description: 'critical value of the cumulative z-statistic' }),
    nominalAlpha: WireNumber({ description: "a probe fails at this look when its (Holm-adjusted) one-sided p is below this" }),
    decision: Enum(['fail', 'pass', 'continue'] as const),
  }, strict), { minItems: 1 }),
}, { ...strict, description: 'Seeds in stages (train.sequential): the looks taken, their group-sequential boundaries and decisions. Absent for a one-look (fixed) design. The probes figures are those of the deciding look.' });
export type SequentialSummary = Static<typeof SequentialSummarySchema>;

export const ServiceRecordSchema = Type.Object({
  baseURL: Type.String({ description: "the service's API root" }),
  model: Type.String({ description: 'the base model id the students and controls were fine-tuned from' }),
  teacherModel: Type.String({ description: "the teacher's model id (scored on the probes)" }),
  hyperparameters: openObject(),
  plannedTrainingTokens: count('training tokens of the plan (all arms, seeds and epochs)'),
  tokenCount: Enum(['tokenizer', 'estimate'] as const, { description: "tokenizer: counted with the teacher folder's tokenizer; estimate: ~4 characters per token" }),
  probeMethods: MapOf(Type.String(), { description: 'per probe: how it was scored through the chat-completions API' }),
  jobs: Type.Array(Type.Object({
    arm: Type.String(),
    seed: Type.Integer(),
    jobId: Type.String(),
    trainingFile: Type.String({ description: 'the uploaded file id' }),
    model: Type.String({ description: 'the fine-tuned model id' }),
    trainedTokens: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: "the service's reported trained_tokens" }),
  }, strict)),
}, { ...strict, description: 'train.backend openai: the fine-tuning service, its jobs and fine-tuned models, and how each probe was scored.' });
export type ServiceRecord = Static<typeof ServiceRecordSchema>;

export const AuditReportSchema = Type.Object({
  schemaVersion: Type.Literal(REPORT_SCHEMA_VERSION, { description: 'Version of this schema; bumped on any breaking change.' }),
  tool: Type.Object({ name: Type.Literal('audit-dataset'), version: Type.String() }, strict),
  mode: Type.Optional(Enum(['screen'] as const, { description: 'screen: a screen-only run (audit-dataset screen): content filters, row attribution and gradient screen, no probe students, no verdict on the data. Absent for a full audit.' })),
  verdict: AuditVerdictSchema,
  summary: Type.String({ description: 'One line: what was found.' }),
  models: Type.Object({ teacher: Type.String(), base: Type.String(), architecture: Type.String(), parameters: count() }, strict),
  filters: Type.Union([Type.Null(), FilterSummarySchema], { description: "Content filters' results, or null when they were not run. Filters report; they do not gate the verdict." }),
  data: DataSummarySchema,
  probes: Type.Array(ProbeResultSchema),
  screen: Type.Optional(GradientScreenSchema),
  attribution: Type.Optional(RowAttributionSchema),
  positiveControl: Type.Optional(PositiveControlSchema),
  sequential: Type.Optional(SequentialSummarySchema),
  policy: Type.Object({ ...AuditPolicySchema.properties, rule: Type.String() }, strict),
  reproducibility: Type.Object({
    inputs: Type.Array(Type.Object({ role: Type.String(), path: Type.String(), sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) }, strict)),
    seeds: Type.Array(Type.Integer()),
    versions: MapOf(Type.String()),
    train: openObject(),
    config: openObject(),
    service: Type.Optional(ServiceRecordSchema),
  }, strict),
  run: Type.Object({
    startedAt: Type.String({ format: 'date-time' }),
    durationMs: Type.Number({ minimum: 0 }),
    trainingMs: Type.Number({ minimum: 0 }),
    steps: count(),
    workers: Type.Optional(count('probe runs trained at once (train.workers resolved); results do not depend on it')),
    cachedRuns: Type.Optional(count('probe runs read from the run cache (cache:) instead of trained: the same weights training gives; their time is not in trainingMs')),
  }, { ...strict, description: 'Wall-clock facts: the only part that differs between two runs with the same seeds.' }),
}, {
  ...strict,
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://audit-dataset.dev/schemas/report.schema.json',
  title: 'audit-dataset report.json',
  description: `Result of one audit-dataset run. Generated from src/report/schema.ts (AuditReportSchema). Schema version ${REPORT_SCHEMA_VERSION}.`,
});
export type AuditReport = Static<typeof AuditReportSchema>;
