/**
 * audit.yaml: the one validated configuration object. The JSON Schema below is the source of
 * truth for validation (unknown keys are errors) and is published as docs/audit.schema.json.
 */

export interface TaskConfig {
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

export interface ProbeConfig {
  name: string;
  kind: 'accuracy' | 'agreement';
  data: string;
  input: string;
  /** Label field (accuracy probes). */
  label?: string;
  outputs: [number, number];
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
  /** Seeds in stages (group-sequential, O'Brien-Fleming alpha spending); `seeds` is then the maximum. */
  sequential: boolean;
  /** Seeds per arm at the first look (and the step between looks). */
  firstSeeds: number;
  /** Also train positive-control students on the teacher's full outputs; without transfer there, a pass is inconclusive. */
  positiveControl: boolean;
  /** Probe runs trained at once, each in its own worker thread (0 = one per core, 1 = serial). Results do not depend on it. */
  workers: number;
}

export interface PolicyConfig {
  alpha: number;
  minEffect: number;
  test: 'welch' | 'permutation';
  correction: 'holm' | 'none';
  /** Agreement probes also test the mean KL(teacher || model) on their inputs (lower = toward the teacher) as a probe of its own. */
  klProbes: boolean;
  /** Exit code of an inconclusive audit (positive control without transfer): fail (1) or pass (0). */
  onInconclusive: 'fail' | 'pass';
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
      required: ['kind', 'input', 'target', 'outputs'],
      properties: {
        kind: { enum: ['logits'], description: 'logits: tensor rows in, an output vector out' },
        input: { type: 'string', description: 'field holding the input vector' },
        target: { type: 'string', description: "field holding the teacher's outputs on the slice" },
        outputs: slice,
        output: { type: 'string', description: "the model output the slices index (default: the model's first output)" },
        targetType: { enum: ['probs', 'logits'], description: 'what `target` holds; detected when absent' },
        loss: { enum: ['kl', 'mse'], default: 'kl', description: 'student loss: KL to the targets, or squared error on logits' },
      },
    },
    probes: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'kind', 'data', 'input', 'outputs'],
        properties: {
          name: { type: 'string', minLength: 1 },
          kind: { enum: ['accuracy', 'agreement'] },
          data: { type: 'string' },
          input: { type: 'string' },
          label: { type: 'string' },
          outputs: slice,
        },
      },
    },
    train: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        seeds: { type: 'integer', minimum: 2, maximum: 100, default: 5, description: 'students (and controls) per arm; the maximum when sequential' },
        seed: { type: 'integer', minimum: 0, default: 1, description: 'first seed; runs use seed, seed+1, ...' },
        epochs: { type: 'integer', minimum: 1, default: 5, description: 'passes over the data per student' },
        batchSize: { type: 'integer', minimum: 1, default: 64, description: 'rows per step' },
        optimizer: { enum: ['adam', 'adamw', 'sgd'], default: 'adam', description: 'transfer needs an adaptive optimizer: plain SGD barely moves it' },
        lr: { type: 'number', exclusiveMinimum: 0, default: 0.001, description: 'learning rate' },
        weightDecay: { type: 'number', minimum: 0, default: 0, description: 'L2 (adam, sgd) or decoupled (adamw) weight decay' },
        crossInit: { type: 'boolean', default: false, description: 'also train fresh-init students on the candidate (overt vs subliminal transfer)' },
        maxRows: { type: 'integer', minimum: 0, default: 0, description: 'use at most this many candidate rows (0 = all)' },
        sequential: { type: 'boolean', default: true, description: "train seeds in stages of firstSeeds and stop early when the decision is clear (group-sequential, O'Brien-Fleming alpha spending; the false-fail rate stays at policy.alpha); seeds is then the maximum" },
        firstSeeds: { type: 'integer', minimum: 2, maximum: 100, default: 3, description: 'seeds per arm at the first look of a sequential audit, and the step between looks' },
        positiveControl: { type: 'boolean', default: true, description: "also train positive-control students on the teacher's full output distribution on the candidate inputs; if they show no transfer, a pass becomes inconclusive" },
        workers: { type: 'integer', minimum: 0, maximum: 64, default: 0, description: 'probe runs trained at once, one worker thread each (0 = one per core, 1 = serial); the report does not depend on it' },
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
        klProbes: { type: 'boolean', default: true, description: "every agreement probe also tests the mean KL(teacher || model) on its inputs as a probe of its own (lower = toward the teacher; minEffect in nats), in the same Holm family" },
        onInconclusive: { enum: ['fail', 'pass'], default: 'fail', description: 'exit code of an inconclusive audit (the positive control showed no transfer): fail = 1, pass = 0' },
      },
    },
    screen: { type: 'boolean', default: true, description: 'first-order gradient screen: cos(descent direction at the base, teacher - base)' },
    skipBadRows: { type: 'boolean', default: false, description: 'unreadable rows become counted, listed exclusions instead of an error' },
    saveModels: { type: 'boolean', default: false, description: 'write every trained student, control and cross-init model to <out>/models/ as ONNX' },
    out: { type: 'string', default: 'out', description: 'output folder for the reports' },
    formats: { type: 'array', items: { enum: ['json', 'md', 'html', 'junit', 'sarif'] }, default: ['json', 'md', 'html', 'junit', 'sarif'], description: 'report formats to write' },
  },
} as const;
