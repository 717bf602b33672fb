/**
 * audit.yaml: the one validated configuration object, declared once below as a JSON Schema (one
 * entry per key, with its default and description). The TypeScript types are derived from it,
 * ajv validates with it (unknown keys are errors), every key becomes a CLI flag (cli/audit.ts),
 * and docs/audit.schema.json is generated from it (`npm run schemas`; a test checks the file).
 * Task kinds and probe kinds are tables: the task object's keys are the union of TASK_FIELDS (each
 * kind's own keys checked in load.ts); a probe item's fields are checked by the probe-kind table.
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

/** `task.kind: logits`: tensor rows in, a slice of an output vector out. */
export interface LogitsTaskConfig {
  kind: 'logits';
  /** Field holding the input vector. */
  input: string;
  /** Field holding the teacher's outputs on the `outputs` slice. */
  target: string;
  /** Half-open slice [start, end) of the model's output vector that `target` holds. */
  outputs: [number, number];
  /** The model output the slices index (default: the model's first output). */
  output?: string;
  /** probs | logits; detected from the data when absent. */
  targetType?: 'probs' | 'logits';
  /** Student loss: KL to the targets (default; the study's), or squared error on logits. */
  loss: 'kl' | 'mse';
}

/** `task.kind: text`: a decoder language model in a model folder, rows of prompt and completion text. */
export interface TextTaskConfig {
  kind: 'text';
  /** Fields of plain rows {prompt, completion} and chat rows {messages}. */
  prompt: string;
  completion: string;
  messages: string;
  /** tokens: cross-entropy on the completion tokens; logprobs: KL to the rows' top-k log-probs. */
  targets: 'tokens' | 'logprobs';
  /** Field holding OpenAI's chat-completions `logprobs` object (targets: logprobs). */
  logprobs: string;
  /** Longest training sequence in tokens (default: the tokenizer's model_max_length, capped by config.json's n_positions). */
  maxLength?: number;
  /** What an over-long row does: cut (counted) or stop the audit (exit 2). */
  overLength: 'truncate' | 'error';
  /** The logits output's name (default: logits). */
  output?: string;
}

export type TaskConfig = LogitsTaskConfig | TextTaskConfig;
export type TaskKind = TaskConfig['kind'];

/**
 * The fields of each task kind: the one place that says which `task.*` keys a kind takes, which it
 * needs and their defaults (applied after validation, so one kind's defaults never appear in
 * another's config). The JSON Schema's task object is the union of these fields.
 */
export const TASK_FIELDS: Readonly<Record<TaskKind, { required: readonly string[]; optional: readonly string[]; defaults: Readonly<Record<string, unknown>> }>> = {
  logits: { required: ['input', 'target', 'outputs'], optional: ['output', 'targetType', 'loss'], defaults: { loss: 'kl' } },
  text: {
    required: [],
    optional: ['prompt', 'completion', 'messages', 'targets', 'logprobs', 'maxLength', 'overLength', 'output'],
    defaults: { prompt: 'prompt', completion: 'completion', messages: 'messages', targets: 'tokens', logprobs: 'logprobs', overLength: 'truncate' },
  },
};

/** Sampling of the base's completions for a generated text baseline. */
export interface GenerateConfig {
  temperature: number;
  topP: number;
  maxNewTokens: number;
}


export const GENERATE_DEFAULTS: GenerateConfig = { temperature: 1, topP: 1, maxNewTokens: 64 };

/**
 * A probe as the config gives it: a name, a kind (or a pack that names it) and the kind's own
 * fields, validated per task kind by the probe-kind table (src/probes/kinds.ts).
 */
export interface ProbeConfig {
  name: string;
  kind?: string;
  /** Probe rows (tensor probes; text agreement prompts). */
  data?: string;
  input?: string;
  /** Label field (accuracy probes). */
  label?: string;
  /** The output slice the probe reads (tensor probes). */
  outputs?: [number, number];
  /** A probe pack: a name in rules/probes/ or a .yaml path (text probes). */
  pack?: string;
  [field: string]: unknown;
}

export const TaskConfigSchema = Type.Unsafe<TaskConfig>(Section({
  kind: Enum(['logits', 'text'] as const, { description: 'logits: tensor rows in, an output vector out; text: a language model folder, prompt/completion rows' }),
  input: Type.Optional(Type.String({ description: 'logits: field holding the input vector' })),
  target: Type.Optional(Type.String({ description: "logits: field holding the teacher's outputs on the slice" })),
  outputs: Type.Optional(slice()),
  output: Type.Optional(Type.String({ description: "the model output the slices index (logits: default the model's first output; text: default logits)" })),
  targetType: Type.Optional(Enum(['probs', 'logits'] as const, { description: 'logits: what `target` holds; detected when absent' })),
  loss: Type.Optional(Enum(['kl', 'mse'] as const, { description: 'logits: student loss: KL to the targets (default), or squared error on logits' })),
  prompt: Type.Optional(Type.String({ description: 'text: field of the prompt (default prompt)' })),
  completion: Type.Optional(Type.String({ description: 'text: field of the completion (default completion)' })),
  messages: Type.Optional(Type.String({ description: 'text: field of chat rows (default messages)' })),
  targets: Type.Optional(Enum(['tokens', 'logprobs'] as const, { description: "text: train on the completion tokens (default), or on the rows' top-k logprobs" })),
  logprobs: Type.Optional(Type.String({ description: "text: field holding OpenAI's chat-completions logprobs object (default logprobs)" })),
  maxLength: Type.Optional(Type.Integer({ minimum: 2, description: "text: longest training sequence in tokens (default: the model's n_positions)" })),
  overLength: Type.Optional(Enum(['truncate', 'error'] as const, { description: 'text: over-long rows are cut and counted (default), or stop the audit' })),
}));

/**
 * A probe item: a name, a kind (or a pack naming it) and that kind's fields. The fields are checked
 * per probe kind and task kind by the probe-kind table (src/probes/kinds.ts) when the audit loads
 * the probes, before any training: unknown keys are errors there, naming the probe.
 */
export const ProbeConfigSchema = Type.Unsafe<ProbeConfig>({
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1 },
    kind: { type: 'string', description: 'probe kind (accuracy, agreement, preference, contrastive); a pack probe may leave it to the pack' },
  },
  additionalProperties: true,
  description: "the kind's own fields (data, input, label, outputs, pack, target, ...), validated per kind",
});

export const GenerateConfigSchema = Section({
  temperature: Type.Optional(Type.Number({ minimum: 0, description: 'sampling temperature (default 1; 0 = greedy)' })),
  topP: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'nucleus sampling mass (default 1)' })),
  maxNewTokens: Type.Optional(Type.Integer({ minimum: 1, description: 'longest generated completion (default 64)' })),
}, { description: "text: sampling of the base's baseline completions" });

export const AdapterConfigSchema = Section({
  kind: Enum(['lora'] as const),
  rank: Type.Integer({ minimum: 1, description: 'adapter rank r' }),
  alpha: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'scale alpha (the update is alpha/r * A B; default = rank)' })),
  targets: Type.Optional(Type.Array(Type.String(), { description: 'regular expressions over parameter names (default: every 2-D MatMul weight)' })),
}, { description: 'LoRA adapters on chosen MatMul weights; only they train (text tasks)' });
export type AdapterConfig = Static<typeof AdapterConfigSchema>;

/**
 * `train.backend: openai`: students and controls are fine-tuning jobs on an OpenAI-compatible
 * service (src/service/, src/audit/serviceBackend.ts). Money and time are the user's: the audit
 * prints its plan and needs --yes or maxTrainingTokens before it launches anything.
 */
export const ServiceConfigSchema = Section({
  baseURL: Type.String({ default: 'https://api.openai.com/v1', description: 'the service\'s API root (…/v1)' }),
  apiKeyEnv: Type.String({ default: 'OPENAI_API_KEY', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'name of the environment variable holding the API key (the key itself is never read from config nor written anywhere)' }),
  auth: Enum(['bearer', 'api-key'] as const, { default: 'bearer', description: 'how the key is sent: Authorization: Bearer (OpenAI, most gateways) or an api-key header (Azure OpenAI)' }),
  apiVersion: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._-]{1,40}$', description: 'sent as api-version= on every request (Azure OpenAI)' })),
  headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'extra request headers (gateways, organisation or project ids); a value env:NAME is read from that environment variable and redacted like the key, a plain value is written to the report with the rest of the config' })),
  model: Type.String({ minLength: 1, description: 'the base model id on the service: students and controls are fine-tuned from it, the clean baseline is sampled from it' }),
  teacherModel: Type.String({ minLength: 1, description: "the teacher's model id on the service (scored on the probes as the teacher)" }),
  nEpochs: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, description: "fine-tuning epochs (hyperparameters.n_epochs; default: train.epochs)" })),
  batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 256, description: "hyperparameters.batch_size (default: the service's auto)" })),
  learningRateMultiplier: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10, description: "hyperparameters.learning_rate_multiplier (default: the service's auto)" })),
  suffix: Type.String({ default: 'audit', pattern: '^[A-Za-z0-9_-]{1,18}$', description: 'suffix of the fine-tuned model names (up to 18 characters)' }),
  maxTrainingTokens: Type.Optional(Type.Integer({ minimum: 1, description: 'launch without --yes when the plan trains at most this many tokens; refuse (exit 2) above it' })),
  pricePerMillionTrainingTokens: Type.Optional(Type.Number({ minimum: 0, description: "the service's published price per million training tokens (the plan shows the cost)" })),
  pricePerMillionInputTokens: Type.Optional(Type.Number({ minimum: 0, description: "the service's published price per million input (prompt) tokens of chat completions: probe scoring and baseline sampling (the plan shows the cost)" })),
  pricePerMillionOutputTokens: Type.Optional(Type.Number({ minimum: 0, description: "the service's published price per million output (completion) tokens of chat completions (the plan shows the cost)" })),
  timeLimitMinutes: Type.Number({ exclusiveMinimum: 0, default: 1440, description: 'the whole audit\'s time limit; jobs still running then are cancelled (exit 2)' }),
  pollSeconds: Type.Number({ exclusiveMinimum: 0, default: 30, description: 'seconds between polls of a running job' }),
  topLogprobs: Type.Integer({ minimum: 1, maximum: 20, default: 20, description: 'top_logprobs asked for when probes are scored from first-token log-probabilities' }),
  samples: Type.Integer({ minimum: 1, maximum: 1000, default: 20, description: 'sampled answers per prompt where a probe is scored by its sampled hit rate' }),
  maxAttempts: Type.Integer({ minimum: 1, maximum: 20, default: 6, description: 'attempts per request on 429, 5xx and network errors (exponential backoff with jitter, Retry-After honoured)' }),
  concurrency: Type.Integer({ minimum: 1, maximum: 64, default: 8, description: 'fine-tuning jobs running at once' }),
}, { description: 'train.backend openai: the fine-tuning service' });
export type ServiceConfig = Static<typeof ServiceConfigSchema>;

export const TrainConfigSchema = Section({
  backend: Enum(['local', 'openai'] as const, { default: 'local', description: 'who trains the probe students: the local ONNX engine, or an OpenAI-compatible fine-tuning service (train.service)' }),
  service: Type.Optional(ServiceConfigSchema),
  seeds: Type.Integer({ minimum: 2, maximum: MAX_SEEDS, default: 5, description: 'students (and controls) per arm; the maximum when sequential' }),
  seed: Type.Integer({ minimum: 0, maximum: MAX_FIRST_SEED, default: 1, description: 'first seed; runs use seed, seed+1, ...' }),
  epochs: Type.Integer({ minimum: 1, maximum: MAX_EPOCHS, default: 5, description: 'passes over the data per student' }),
  batchSize: Type.Integer({ minimum: 1, maximum: MAX_BATCH_SIZE, default: 64, description: 'rows per step' }),
  optimizer: Enum(['adam', 'adamw', 'sgd'] as const, { default: 'adam', description: 'transfer needs an adaptive optimizer: plain SGD barely moves it' }),
  lr: Type.Number({ exclusiveMinimum: 0, maximum: MAX_LR, default: 0.001, description: 'learning rate' }),
  weightDecay: Type.Number({ minimum: 0, default: 0, description: 'L2 (adam, sgd) or decoupled (adamw) weight decay' }),
  crossInit: Type.Boolean({ default: false, description: 'also train fresh-init students on the candidate (overt vs subliminal transfer)' }),
  maxRows: Type.Integer({ minimum: 0, maximum: MAX_ROWS, default: 0, description: 'use at most this many candidate rows (0 = all)' }),
  adapter: Type.Optional(AdapterConfigSchema),
  sequential: Type.Boolean({ default: true, description: "train seeds in stages of firstSeeds and stop early when the decision is clear (group-sequential, O'Brien-Fleming alpha spending; the false-fail rate stays at policy.alpha); seeds is then the maximum" }),
  firstSeeds: Type.Integer({ minimum: 2, maximum: 100, default: 3, description: 'seeds per arm at the first look of a sequential audit, and the step between looks' }),
  positiveControl: Type.Boolean({ default: true, description: "also train positive-control students on the teacher's own outputs over the candidate's output slice (task.outputs), at full precision, on the candidate inputs (text: its next-token distributions on the candidate rows, tested against students trained on the base's); if they show no transfer, a pass becomes inconclusive" }),
  workers: Type.Integer({ minimum: 0, maximum: 64, default: 0, description: 'probe runs trained at once, one worker thread each (0 = one per core, 1 = serial); the report does not depend on it' }),
});
export type TrainConfig = Static<typeof TrainConfigSchema>;

/** audit.yaml `policy:` is the statistics' own policy schema (src/stats/schema.ts). */
export type PolicyConfig = AuditPolicy;

export const auditConfigSchema = Section({
  teacher: Type.Optional(Type.String({ description: 'candidate teacher model (ONNX file or model folder); with train.backend openai, optional: a folder whose tokenizer counts the training tokens of the plan' })),
  base: Type.Optional(Type.String({ description: 'the init the teacher was trained from; probe students start here (not used with train.backend openai: train.service.model)' })),
  data: Type.String({ description: 'teacher-made dataset (JSONL, CSV, Parquet)' }),
  baseline: Type.Optional(Type.String({ description: 'clean baseline dataset; default: made by `base` on the candidate inputs' })),
  filters: Type.Array(Type.String(), { default: [], description: 'content-filter packs (names or YAML paths), run first and reported' }),
  filterField: Type.Optional(Type.String({ description: 'field the text filters read' })),
  maxRowChars: Type.Integer({ minimum: 1, maximum: 1_073_741_824, default: 1_048_576, description: 'rows whose filtered text is longer are excluded (counted as too long) before any filter rule runs' }),
  task: TaskConfigSchema,
  generate: Type.Optional(GenerateConfigSchema),
  probes: Type.Array(ProbeConfigSchema, { minItems: 1 }),
  train: withDefault(TrainConfigSchema, {}),
  policy: withDefault(AuditPolicySchema, {}),
  screen: Type.Boolean({ default: true, description: 'first-order gradient screen: cos(descent direction at the base, teacher - base)' }),
  skipBadRows: Type.Boolean({ default: false, description: 'unreadable rows become counted, listed exclusions instead of an error' }),
  saveModels: Type.Boolean({ default: false, description: 'write every trained student, control and cross-init model to <out>/models/ as ONNX' }),
  out: Type.String({ default: 'out', description: 'output folder for the reports' }),
  cache: Type.Optional(Type.String({ description: 'folder of trained probe runs reused across audits: a run with the same graph, weights, data, recipe and seed is read, not trained again (training is deterministic); the report is the same either way' })),
  formats: Type.Array(Enum(REPORT_FORMATS), { default: [...REPORT_FORMATS], description: 'report formats to write' }),
}, {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://audit-dataset.dev/schemas/audit.schema.json',
  title: 'audit-dataset audit.yaml',
});
export type AuditConfig = Static<typeof auditConfigSchema>;

/** An audit config whose task is a logits task (the tensor path's functions take this). */
export type LogitsAuditConfig = AuditConfig & { task: LogitsTaskConfig };
export type TextAuditConfig = AuditConfig & { task: TextTaskConfig };

/** Teacher and base as local model paths: required (and checked present by load.ts) with train.backend local. */
export function localModelPaths(config: AuditConfig): { teacher: string; base: string } {
  if (config.teacher === undefined || config.base === undefined) throw new RangeError('teacher and base are required with train.backend local');
  return { teacher: config.teacher, base: config.base };
}
