/**
 * THE table of task kinds (`task.kind` in audit.yaml). An entry says which config fields the kind
 * takes (TASK_FIELDS, validated in config/load.ts) and prepares an audit: reads teacher and base,
 * turns rows into the datasets students train on (the backend turns those into batches and picks
 * the loss from the job's task), and scores any model on the probes. The orchestrator (audit.ts)
 * only trains arms, runs statistics and writes the report. Adding a kind = one entry + its test.
 */
import type { AuditConfig, LogitsAuditConfig, TaskKind } from '../config/schema.js';
import { TASK_FIELDS } from '../config/schema.js';
import type { ExclusionKind } from '../data/excluded.js';
import type { ProgressListener } from '../events.js';
import type { ModelProto } from '../onnx/proto.js';
import type { AuditReport, DataSummary, FilterSummary, GradientScreen, RowAttribution, ServiceRecord } from '../report/schema.js';
import type { LogitsStudentTask, RemoteStudent, StudentData, StudentJob, StudentResult, TrainerBackend, Weights } from './backend.js';
import { loadAuditData } from './datasets.js';
import { loadModelPair } from './models.js';
import { loadProbeSets, scoreModel, type ProbeScores, type ProbeSet } from './probeSets.js';
import { gradientScreen } from './screen.js';
import type { ExcludedRow, TensorSet } from './tensorData.js';
import { logitsPositiveControl, positiveControlSet } from './positiveControl.js';
import { prepareTextAudit } from './textTask.js';

export type Arm = 'student' | 'control' | 'crossInit' | 'positive' | 'positiveBaseline';

/** What a student job needs from the task: its kind, loss settings and dataset. */
export type JobData = StudentJob extends infer J ? (J extends StudentJob ? Pick<J, 'kind' | 'task' | 'data'> : never) : never;

/** An audit after its task kind has read models, data and probes. */
export interface PreparedAudit {
  teacher: ModelProto;
  /** The students' architecture (and the base's weights as initializers). */
  base: ModelProto;
  baseWeights: Weights;
  teacherWeights: Weights;
  /** The data one arm's run at `seed` trains on. */
  jobData(arm: Arm, seed: number): Promise<JobData>;
  /** True when the kind can train the positive-control arm (jobData('positive')). */
  positiveControl: boolean;
  /** What the positive-control students learn, in words. */
  positiveControlSignal?: string;
  /** Logits tasks: the slice of the teacher's outputs the positive control learns (the candidate's task.outputs). */
  positiveControlOutputs?: [number, number];
  /**
   * When set, the positive control has its own controls (jobData('positiveBaseline'): the same
   * kind of signal from the base, described here) and is tested against them, not the audit's
   * controls: text controls train on sampled tokens, the positive control on distributions, and a
   * distribution keeps a student nearer its source than samples do whatever the teacher.
   */
  positiveControlBaseline?: string;
  /**
   * Every control seed trains on its own independently drawn clean dataset (a generated text
   * baseline): the test then counts the candidate's one draw (stats drawAwareTest).
   */
  controlsDrawBaselines?: boolean;
  /** The loaded probes (kind, metric, files, the teacher's reference). */
  probeSets: ProbeSet[];
  /** Probe scores of the base graph with `weights` (its own without). */
  score(weights?: Weights): Promise<ProbeScores>;
  scoreTeacher(): Promise<ProbeScores>;
  /** The first-order gradient screen, where the kind and backend support it. */
  screen?(): Promise<GradientScreen>;
  filters: FilterSummary | null;
  data: DataSummary;
  attribution?: RowAttribution;
  /** Task settings recorded beside config.train in the report's reproducibility block. */
  trainRecord: Record<string, unknown>;
  /** Every candidate/baseline row not used, with its reasons. */
  excluded: ExcludedRow[];
  close?(): Promise<void>;
  /** Scores of a run whose student is not local weights (a service's fine-tuned model, trained.remote). */
  scoreTrained?(trained: StudentResult): Promise<ProbeScores>;
  /** The report's models block, where it is not the local graphs' (service audits). */
  models?: AuditReport['models'];
  /** Model files hashed into the report (default: teacher and base's graphs). */
  modelInputs?: { role: string; path: string }[];
  /** reproducibility.service, given the runs trained (service audits). */
  serviceRecord?(runs: { arm: Arm; seed: number; remote: RemoteStudent }[]): ServiceRecord;
}

export interface TaskKindEntry {
  fields: (typeof TASK_FIELDS)[TaskKind];
  prepare(config: AuditConfig, backend: TrainerBackend, emit: ProgressListener): Promise<PreparedAudit>;
}

export const TASK_KINDS: Readonly<Record<TaskKind, TaskKindEntry>> = {
  logits: { fields: TASK_FIELDS.logits, prepare: (config, backend, emit) => prepareLogitsAudit(config as LogitsAuditConfig, backend, emit) },
  text: { fields: TASK_FIELDS.text, prepare: prepareTextAudit },
};

/** Tensor rows in, a slice of the output vector out: KL (or MSE) to the teacher's outputs. */
async function prepareLogitsAudit(config: LogitsAuditConfig, backend: TrainerBackend, emit: ProgressListener): Promise<PreparedAudit> {
  emit({ kind: 'stage', stage: 'models', message: 'reading teacher and base' });
  const models = await loadModelPair(config, backend, emit);
  const data = await loadAuditData(config, models, backend, emit);
  const probeSets = await loadProbeSets(config, models, backend);
  const task: LogitsStudentTask = { slice: config.task.outputs, loss: config.task.loss, targetType: data.targetType };
  // The positive control's dataset (the teacher's own outputs on the task's slice, on the candidate
  // inputs), made once when first asked for, trained by the candidate's own task.
  let positive: ReturnType<typeof positiveControlSet> | undefined;
  const positiveSpec = logitsPositiveControl(config.task.outputs, models.outputWidth, data.targetType);
  const studentData = (s: TensorSet): StudentData => ({ inputs: s.inputs, targets: s.targets, rows: s.rows, inputWidth: models.inputWidth, targetWidth: s.targetWidth });
  return {
    teacher: models.teacher,
    base: models.base,
    baseWeights: models.baseWeights,
    teacherWeights: models.teacherWeights,
    probeSets,
    positiveControl: true,
    positiveControlSignal: positiveSpec.signal,
    positiveControlOutputs: config.task.outputs,
    jobData: async (arm) => {
      if (arm !== 'positive') return { kind: 'logits', task, data: studentData(arm === 'control' ? data.baseline : data.candidate) };
      positive ??= positiveControlSet(backend, models, data.candidate, task);
      return { kind: 'logits', task, data: studentData(await positive) };
    },
    score: (weights) => scoreModel(backend, probeSets, models.base, weights, models.baseWeights),
    scoreTeacher: () => scoreModel(backend, probeSets, models.teacher, undefined, models.teacherWeights),
    ...(backend.gradient
      ? {
          screen: () =>
            gradientScreen(backend, {
              model: models.base,
              baseWeights: models.baseWeights,
              teacherWeights: models.teacherWeights,
              candidate: studentData(data.candidate),
              baseline: studentData(data.baseline),
              task,
            }),
        }
      : {}),
    filters: data.filtering?.summary ?? null,
    data: {
      candidate: {
        file: config.data,
        rowsIn: data.candidateRowsIn,
        rowsUsed: data.candidate.rows,
        excluded: excludedCounts(data.candidateExcluded),
        targetType: data.targetType,
        targetTypeDetected: config.task.targetType === undefined,
      },
      baseline: config.baseline ? { source: 'given', file: config.baseline, rows: data.baseline.rows } : { source: 'generated-by-base', rows: data.baseline.rows },
    },
    attribution: data.attribution,
    trainRecord: { loss: config.task.loss, targetType: data.targetType },
    excluded: [...data.candidateExcluded, ...data.baselineExcluded],
  };
}

type ExcludedCounts = DataSummary['candidate']['excluded'];

/** Where each kind of excluded row is counted in report.json (data.candidate.excluded). */
const EXCLUDED_COUNT: Record<ExclusionKind, keyof ExcludedCounts> = {
  filter: 'filtered',
  'non-finite': 'nonFinite',
  'bad-row': 'badRows',
  'row-limit': 'beyondMaxRows',
  // Excluded by the content-filter stage before any rule ran (maxRowChars): counted with the filtered rows.
  'too-long': 'filtered',
  'empty-completion': 'emptyCompletion',
  'no-completion-tokens': 'noCompletionTokens',
  'logprobs-malformed': 'logprobsMalformed',
  'logprobs-misaligned': 'logprobsMisaligned',
  'logprobs-unknown-token': 'logprobsUnknownToken',
  'logprobs-invalid-value': 'logprobsInvalidValue',
  'logprobs-duplicate-token': 'logprobsDuplicateToken',
  'logprobs-bad-k': 'logprobsBadK',
};

const LOGPROBS_COUNTS = { logprobsMalformed: 0, logprobsMisaligned: 0, logprobsUnknownToken: 0, logprobsInvalidValue: 0, logprobsDuplicateToken: 0, logprobsBadK: 0 };

/**
 * The report's exclusion counts of a candidate file; text-only counts appear when `text` is set,
 * the logprobs ones when `logprobs` is (task.targets: logprobs).
 */
export function excludedCounts(rows: readonly ExcludedRow[], text = false, logprobs = false): ExcludedCounts {
  const counts: ExcludedCounts = {
    filtered: 0,
    nonFinite: 0,
    badRows: 0,
    beyondMaxRows: 0,
    ...(text ? { emptyCompletion: 0, noCompletionTokens: 0 } : {}),
    ...(logprobs ? LOGPROBS_COUNTS : {}),
  };
  for (const row of rows) counts[EXCLUDED_COUNT[row.kind]] = (counts[EXCLUDED_COUNT[row.kind]] ?? 0) + 1;
  return counts;
}
