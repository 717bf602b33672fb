/**
 * audit.yaml: the one validated configuration object, declared once below as a JSON Schema (one
 * entry per key, with its default and description). The TypeScript types are derived from it,
 * ajv validates with it (unknown keys are errors), every key becomes a CLI flag (cli/audit.ts),
 * and docs/audit.schema.json is generated from it (`npm run schemas`; a test checks the file).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Enum, Section } from '../jsonSchema.js';
import { REPORT_FORMATS } from '../report/formats.js';
import { AuditPolicySchema, type AuditPolicy } from '../stats/schema.js';

export type { ReportFormat } from '../report/formats.js';

/** A schema with a default (a whole section defaults to {} and then fills key by key). */
const withDefault = <T extends TSchema>(schema: T, value: unknown): T => ({ ...schema, default: value });

/**
 * Upper bounds a typo cannot blow past (a missing decimal point, an extra zero): each is far above
 * any sensible audit, and the error names the key and the bound.
 */
export const MAX_SEEDS = 100;
export const MAX_EPOCHS = 1000;
export const MAX_BATCH_SIZE = 65_536;
export const MAX_ROWS = 100_000_000;
export const MAX_LR = 10;
/** Runs use seed, seed+1, ..., seed+seeds-1; the PRNG reads a seed as 32 bits, so all must stay below 2^32 to be distinct. */
export const MAX_FIRST_SEED = 2 ** 32 - MAX_SEEDS;

const slice = () => Type.Unsafe<[number, number]>({
  type: 'array',
  items: { type: 'integer', minimum: 0 },
  minItems: 2,
  maxItems: 2,
  description: 'half-open slice [start, end) of the output vector',
});

export const TaskConfigSchema = Section({
  kind: Enum(['logits'] as const, { description: 'logits: tensor rows in, an output vector out' }),
  input: Type.String({ description: 'field holding the input vector' }),
  target: Type.String({ description: "field holding the teacher's outputs on the slice" }),
  outputs: slice(),
  output: Type.Optional(Type.String({ description: "the model output the slices index (default: the model's first output)" })),
  targetType: Type.Optional(Enum(['probs', 'logits'] as const, { description: 'what `target` holds; detected when absent' })),
  loss: Enum(['kl', 'mse'] as const, { default: 'kl', description: 'student loss: KL to the targets, or squared error on logits' }),
});
export type TaskConfig = Static<typeof TaskConfigSchema>;

export const ProbeConfigSchema = Section({
  name: Type.String({ minLength: 1 }),
  kind: Enum(['accuracy', 'agreement'] as const),
  data: Type.String(),
  input: Type.String(),
  label: Type.Optional(Type.String()),
  outputs: slice(),
});
export type ProbeConfig = Static<typeof ProbeConfigSchema>;

export const TrainConfigSchema = Section({
  seeds: Type.Integer({ minimum: 2, maximum: MAX_SEEDS, default: 5, description: 'students (and controls) per arm; the maximum when sequential' }),
  seed: Type.Integer({ minimum: 0, maximum: MAX_FIRST_SEED, default: 1, description: 'first seed; runs use seed, seed+1, ...' }),
  epochs: Type.Integer({ minimum: 1, maximum: MAX_EPOCHS, default: 5, description: 'passes over the data per student' }),
  batchSize: Type.Integer({ minimum: 1, maximum: MAX_BATCH_SIZE, default: 64, description: 'rows per step' }),
  optimizer: Enum(['adam', 'adamw', 'sgd'] as const, { default: 'adam', description: 'transfer needs an adaptive optimizer: plain SGD barely moves it' }),
  lr: Type.Number({ exclusiveMinimum: 0, maximum: MAX_LR, default: 0.001, description: 'learning rate' }),
  weightDecay: Type.Number({ minimum: 0, default: 0, description: 'L2 (adam, sgd) or decoupled (adamw) weight decay' }),
  crossInit: Type.Boolean({ default: false, description: 'also train fresh-init students on the candidate (overt vs subliminal transfer)' }),
  maxRows: Type.Integer({ minimum: 0, maximum: MAX_ROWS, default: 0, description: 'use at most this many candidate rows (0 = all)' }),
  sequential: Type.Boolean({ default: true, description: "train seeds in stages of firstSeeds and stop early when the decision is clear (group-sequential, O'Brien-Fleming alpha spending; the false-fail rate stays at policy.alpha); seeds is then the maximum" }),
  firstSeeds: Type.Integer({ minimum: 2, maximum: 100, default: 3, description: 'seeds per arm at the first look of a sequential audit, and the step between looks' }),
  positiveControl: Type.Boolean({ default: true, description: "also train positive-control students on the teacher's full output distribution on the candidate inputs; if they show no transfer, a pass becomes inconclusive" }),
  workers: Type.Integer({ minimum: 0, maximum: 64, default: 0, description: 'probe runs trained at once, one worker thread each (0 = one per core, 1 = serial); the report does not depend on it' }),
});
export type TrainConfig = Static<typeof TrainConfigSchema>;

/** audit.yaml `policy:` is the statistics' own policy schema (src/stats/schema.ts). */
export type PolicyConfig = AuditPolicy;

export const auditConfigSchema = Section({
  teacher: Type.String({ description: 'candidate teacher model (ONNX file)' }),
  base: Type.String({ description: 'the init the teacher was trained from; probe students start here' }),
  data: Type.String({ description: 'teacher-made dataset (JSONL, CSV, Parquet)' }),
  baseline: Type.Optional(Type.String({ description: 'clean baseline dataset; default: made by `base` on the candidate inputs' })),
  filters: Type.Array(Type.String(), { default: [], description: 'content-filter packs (names or YAML paths), run first and reported' }),
  filterField: Type.Optional(Type.String({ description: 'field the text filters read' })),
  maxRowChars: Type.Integer({ minimum: 1, maximum: 1_073_741_824, default: 1_048_576, description: 'rows whose filtered text is longer are excluded (counted as too long) before any filter rule runs' }),
  task: TaskConfigSchema,
  probes: Type.Array(ProbeConfigSchema, { minItems: 1 }),
  train: withDefault(TrainConfigSchema, {}),
  policy: withDefault(AuditPolicySchema, {}),
  screen: Type.Boolean({ default: true, description: 'first-order gradient screen: cos(descent direction at the base, teacher - base)' }),
  skipBadRows: Type.Boolean({ default: false, description: 'unreadable rows become counted, listed exclusions instead of an error' }),
  saveModels: Type.Boolean({ default: false, description: 'write every trained student, control and cross-init model to <out>/models/ as ONNX' }),
  out: Type.String({ default: 'out', description: 'output folder for the reports' }),
  formats: Type.Array(Enum(REPORT_FORMATS), { default: [...REPORT_FORMATS], description: 'report formats to write' }),
}, {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://audit-dataset.dev/schemas/audit.schema.json',
  title: 'audit-dataset audit.yaml',
});
export type AuditConfig = Static<typeof auditConfigSchema>;
