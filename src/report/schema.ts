/**
 * report.json: the audit's versioned result. Everything a pipeline acts on is here; the
 * Markdown, HTML, JUnit and SARIF writers only render it. Declared once, below, as a JSON Schema:
 * the TypeScript types are derived from it, report.json's key order follows it (json.ts), and
 * docs/report.schema.json is generated from it (`npm run schemas`; a test checks the file).
 * Bump REPORT_SCHEMA_VERSION on any breaking change.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Enum, MapOf, WireNumber } from '../jsonSchema.js';
import { PolicySchema, ProbeResultSchema, type ProbeResult, type RunStats, type Verdict, VerdictSchema } from '../stats/schema.js';

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
    }, { ...strict, description: 'Every row not used, by why. The rows are listed in excluded.jsonl beside the report.' }),
    targetType: Enum(['probs', 'logits', 'tokens', 'logprobs'] as const, { description: 'probs | logits (logits tasks); tokens | logprobs (text tasks)' }),
    targetTypeDetected: Type.Boolean(),
    text: Type.Optional(Type.Object({
      maxLength: count(),
      truncated: count(),
      misaligned: count(),
      lossTokens: count(),
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

export const AuditReportSchema = Type.Object({
  schemaVersion: Type.Literal(REPORT_SCHEMA_VERSION, { description: 'Version of this schema; bumped on any breaking change.' }),
  tool: Type.Object({ name: Type.Literal('audit-dataset'), version: Type.String() }, strict),
  verdict: VerdictSchema,
  summary: Type.String({ description: 'One line: what was found.' }),
  models: Type.Object({ teacher: Type.String(), base: Type.String(), architecture: Type.String(), parameters: count() }, strict),
  filters: Type.Union([Type.Null(), FilterSummarySchema], { description: "Content filters' results, or null when they were not run. Filters report; they do not gate the verdict." }),
  data: DataSummarySchema,
  probes: Type.Array(ProbeResultSchema),
  screen: Type.Optional(GradientScreenSchema),
  attribution: Type.Optional(RowAttributionSchema),
  policy: Type.Object({ ...PolicySchema.properties, rule: Type.String() }, strict),
  reproducibility: Type.Object({
    inputs: Type.Array(Type.Object({ role: Type.String(), path: Type.String(), sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) }, strict)),
    seeds: Type.Array(Type.Integer()),
    versions: MapOf(Type.String()),
    train: openObject(),
    config: openObject(),
  }, strict),
  run: Type.Object({
    startedAt: Type.String({ format: 'date-time' }),
    durationMs: Type.Number({ minimum: 0 }),
    trainingMs: Type.Number({ minimum: 0 }),
    steps: count(),
  }, { ...strict, description: 'Wall-clock facts: the only part that differs between two runs with the same seeds.' }),
}, {
  ...strict,
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://audit-dataset.dev/schemas/report.schema.json',
  title: 'audit-dataset report.json',
  description: `Result of one audit-dataset run. Generated from src/report/schema.ts (AuditReportSchema). Schema version ${REPORT_SCHEMA_VERSION}.`,
});
export type AuditReport = Static<typeof AuditReportSchema>;
