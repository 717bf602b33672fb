/**
 * audit.yaml: the one validated configuration object. The JSON Schema below is the source of
 * truth for validation (unknown keys are errors) and is published as docs/audit.schema.json.
 * Probe items come from the probe-kind table (each kind's fields).
 */
import { probeItemSchema } from '../probes/index.js';

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

/** LoRA adapters: only they train; students are saved merged. */
export interface AdapterConfig {
  kind: 'lora';
  rank: number;
  alpha: number;
  /** Regular expressions over parameter names choosing the MatMul weights that get adapters. */
  targets: string[];
}

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

export interface TrainConfig {
  seeds: number;
  /** First seed; runs use seed, seed+1, ... */
  seed: number;
  epochs: number;
  batchSize: number;
  optimizer: 'adam' | 'adamw' | 'sgd';
  lr: number;
  weightDecay: number;
  /** Also train fresh-init students on the candidate data (separates overt from subliminal transfer). */
  crossInit: boolean;
  /** Use at most this many candidate rows (0 = all). */
  maxRows: number;
  /** LoRA adapters instead of full fine-tuning (text models). */
  adapter?: AdapterConfig;
}

export interface PolicyConfig {
  alpha: number;
  minEffect: number;
  test: 'welch' | 'permutation';
  correction: 'holm' | 'none';
}

export type ReportFormat = 'json' | 'md' | 'html' | 'junit' | 'sarif';

export interface AuditConfig {
  teacher: string;
  base: string;
  data: string;
  baseline?: string;
  filters: string[];
  /** Field the text filters read (text rows); ignored for tensor rows without text. */
  filterField?: string;
  task: TaskConfig;
  /** Sampling of the generated text baseline (text tasks without `baseline`). */
  generate?: GenerateConfig;
  probes: ProbeConfig[];
  train: TrainConfig;
  policy: PolicyConfig;
  /** First-order gradient screen: cos(grad of the data loss at the base, teacher - base). */
  screen: boolean;
  skipBadRows: boolean;
  /** Write every trained student, control and cross-init model to out/models/ as ONNX. */
  saveModels: boolean;
  out: string;
  formats: ReportFormat[];
}

/** An audit config whose task is a logits task (the tensor path's functions take this). */
export type LogitsAuditConfig = AuditConfig & { task: LogitsTaskConfig };
export type TextAuditConfig = AuditConfig & { task: TextTaskConfig };

const slice = {
  type: 'array',
  items: { type: 'integer', minimum: 0 },
  minItems: 2,
  maxItems: 2,
  description: 'half-open slice [start, end) of the output vector',
} as const;

export const auditConfigSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://audit-dataset.dev/schemas/audit.schema.json',
  title: 'audit-dataset audit.yaml',
  type: 'object',
  additionalProperties: false,
  required: ['teacher', 'base', 'data', 'task', 'probes'],
  properties: {
    teacher: { type: 'string', description: 'candidate teacher model (ONNX file)' },
    base: { type: 'string', description: 'the init the teacher was trained from; probe students start here' },
    data: { type: 'string', description: 'teacher-made dataset (JSONL, CSV, Parquet)' },
    baseline: { type: 'string', description: 'clean baseline dataset; default: made by `base` on the candidate inputs' },
    filters: { type: 'array', items: { type: 'string' }, default: [], description: 'content-filter packs (names or YAML paths), run first and reported' },
    filterField: { type: 'string', description: 'field the text filters read' },
    task: {
      type: 'object',
      additionalProperties: false,
      required: ['kind'],
      properties: {
        kind: { enum: ['logits', 'text'], description: 'logits: tensor rows in, an output vector out; text: a language model folder, prompt/completion rows' },
        input: { type: 'string', description: 'field holding the input vector' },
        target: { type: 'string', description: "field holding the teacher's outputs on the slice" },
        outputs: slice,
        output: { type: 'string', description: "the model output the slices index (default: the model's first output)" },
        targetType: { enum: ['probs', 'logits'], description: 'what `target` holds; detected when absent' },
        loss: { enum: ['kl', 'mse'], description: 'student loss: KL to the targets (default), or squared error on logits' },
        prompt: { type: 'string', description: 'text: field of the prompt (default prompt)' },
        completion: { type: 'string', description: 'text: field of the completion (default completion)' },
        messages: { type: 'string', description: 'text: field of chat rows (default messages)' },
        targets: { enum: ['tokens', 'logprobs'], description: "text: train on the completion tokens (default), or on the rows' top-k logprobs" },
        logprobs: { type: 'string', description: "text: field holding OpenAI's chat-completions logprobs object (default logprobs)" },
        maxLength: { type: 'integer', minimum: 2, description: "text: longest training sequence in tokens (default: the tokenizer's model_max_length, at most n_positions)" },
        overLength: { enum: ['truncate', 'error'], description: 'text: over-long rows are cut and counted (default), or stop the audit' },
      },
    },
    generate: {
      type: 'object',
      additionalProperties: false,
      description: "text: sampling of the base's baseline completions",
      properties: {
        temperature: { type: 'number', minimum: 0, description: 'sampling temperature (default 1; 0 = greedy)' },
        topP: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'nucleus sampling mass (default 1)' },
        maxNewTokens: { type: 'integer', minimum: 1, description: 'longest generated completion (default 64)' },
      },
    },
    probes: {
      type: 'array',
      minItems: 1,
      description: 'probes: each names a kind (or a pack that does) and the fields of that kind',
      items: probeItemSchema(),
    },
    train: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        seeds: { type: 'integer', minimum: 2, maximum: 100, default: 5, description: 'students (and controls) per arm' },
        seed: { type: 'integer', minimum: 0, default: 1, description: 'first seed; runs use seed, seed+1, ...' },
        epochs: { type: 'integer', minimum: 1, default: 5, description: 'passes over the data per student' },
        batchSize: { type: 'integer', minimum: 1, default: 64, description: 'rows per step' },
        optimizer: { enum: ['adam', 'adamw', 'sgd'], default: 'adam', description: 'transfer needs an adaptive optimizer: plain SGD barely moves it' },
        lr: { type: 'number', exclusiveMinimum: 0, default: 0.001, description: 'learning rate' },
        weightDecay: { type: 'number', minimum: 0, default: 0, description: 'L2 (adam, sgd) or decoupled (adamw) weight decay' },
        crossInit: { type: 'boolean', default: false, description: 'also train fresh-init students on the candidate (overt vs subliminal transfer)' },
        maxRows: { type: 'integer', minimum: 0, default: 0, description: 'use at most this many candidate rows (0 = all)' },
        adapter: {
          type: 'object',
          additionalProperties: false,
          required: ['kind', 'rank'],
          description: 'LoRA adapters on chosen MatMul weights; only they train',
          properties: {
            kind: { enum: ['lora'] },
            rank: { type: 'integer', minimum: 1, description: 'adapter rank r' },
            alpha: { type: 'number', exclusiveMinimum: 0, description: 'scale alpha (the update is alpha/r * A B; default = rank)' },
            targets: { type: 'array', items: { type: 'string' }, description: 'regular expressions over parameter names (default: every 2-D MatMul weight)' },
          },
        },
      },
    },
    policy: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        alpha: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.01, description: 'significance level of the one-sided test' },
        minEffect: { type: 'number', minimum: 0, default: 0.02, description: 'smallest shift toward the teacher (probe units) that fails the gate' },
        test: { enum: ['welch', 'permutation'], default: 'welch', description: "Welch's t-test or the exact permutation test over seeds" },
        correction: { enum: ['holm', 'none'], default: 'holm', description: "Holm's correction of the p-values over the probes (family-wise error at alpha)" },
      },
    },
    screen: { type: 'boolean', default: true, description: 'first-order gradient screen: cos(descent direction at the base, teacher - base)' },
    skipBadRows: { type: 'boolean', default: false, description: 'unreadable rows become counted, listed exclusions instead of an error' },
    saveModels: { type: 'boolean', default: false, description: 'write every trained student, control and cross-init model to <out>/models/ as ONNX' },
    out: { type: 'string', default: 'out', description: 'output folder for the reports' },
    formats: { type: 'array', items: { enum: ['json', 'md', 'html', 'junit', 'sarif'] }, default: ['json', 'md', 'html', 'junit', 'sarif'], description: 'report formats to write' },
  },
} as const;
