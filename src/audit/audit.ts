/**
 * The audit: models -> filters -> data and baseline -> students x seeds (and controls) -> probes
 * -> statistics -> report. Students and controls start from the base's weights, with the same
 * seeds and budget; they differ only in the data (candidate vs clean baseline), so their
 * difference is the data's effect.
 */
import { silent, type ProgressListener } from '../events.js';
import type { AuditConfig } from '../config/schema.js';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodeModel } from '../onnx/io.js';
import { fsError } from '../errors.js';
import type { ModelProto } from '../onnx/proto.js';
import { initLike } from '../train/init.js';
import { withWeights } from '../train/weights.js';
import { evaluateProbes, overallVerdict, POLICY_RULE, type ProbeRuns } from '../stats/index.js';
import { REPORT_SCHEMA_VERSION, type AuditReport, type DataSummary, type GradientScreen } from '../report/schema.js';
import type { ExclusionKind } from '../data/excluded.js';
import type { StudentData, StudentJob, TrainerBackend, Weights } from './backend.js';
import { loadAuditData, type AuditData } from './datasets.js';
import { sha256File } from './hash.js';
import { LocalOnnxBackend } from './localBackend.js';
import { mapConcurrent, WorkerBackend, workerCount } from './pool.js';
import { klRunsOf } from './klProbe.js';
import { looksOf, runInStages, type Evaluation } from './sequential.js';
import { positiveControlSet, summarizePositiveControl, verdictWithPositiveControl } from './positiveControl.js';
import { describeArchitecture, loadModelPair, type ModelPair } from './models.js';
import { loadProbeSets, probeRunsOf, scoreModel, type ProbeScores, type ProbeSet } from './probeSets.js';
import { gradientScreen } from './screen.js';
import { summarize } from './summary.js';
import type { ExcludedRow, TensorSet } from './tensorData.js';
import { runtimeVersions, toolVersion } from './versions.js';

export interface AuditOptions {
  onEvent?: ProgressListener;
  /** Who trains the probe students; default: the local ONNX engine. */
  backend?: TrainerBackend;
}

export interface AuditResult {
  report: AuditReport;
  /** Every candidate/baseline row not used, with its reasons. */
  excluded: ExcludedRow[];
}

export async function audit(config: AuditConfig, options: AuditOptions = {}): Promise<AuditResult> {
  const started = Date.now();
  const emit = options.onEvent ?? silent;
  const workers = workerCount(config.train.workers);
  const backend = options.backend ?? (workers > 1 ? new WorkerBackend(workers) : new LocalOnnxBackend());
  try {
    return await runAudit(config, backend, emit, started);
  } finally {
    await backend.close?.();
  }
}

type Arm = 'student' | 'control' | 'crossInit' | 'positive';

interface ArmRuns {
  scores: Record<Arm, ProbeScores[]>;
  trainingMs: number;
  steps: number;
}

async function runAudit(config: AuditConfig, backend: TrainerBackend, emit: ProgressListener, started: number): Promise<AuditResult> {
  emit({ kind: 'stage', stage: 'models', message: 'reading teacher and base' });
  const models = await loadModelPair(config, backend, emit);
  const data = await loadAuditData(config, models, backend, emit);
  const probeSets = await loadProbeSets(config, models.teacher, models.inputWidth, backend);
  const seeds = Array.from({ length: config.train.seeds }, (_, i) => config.train.seed + i);
  const positive = config.train.positiveControl ? await positiveControlSet(backend, models, data.candidate) : undefined;
  const baseScores = await scoreModel(backend, probeSets, models.base);
  const teacherScores = await scoreModel(backend, probeSets, models.teacher);

  // Seeds in looks (one look = the fixed design); each look's runs join the earlier ones.
  const arms: ArmRuns = { scores: { student: [], control: [], crossInit: [], positive: [] }, trainingMs: 0, steps: 0 };
  const trainSeeds = async (stageSeeds: readonly number[]): Promise<void> => {
    const stage = await trainArms(config, models, data, positive, probeSets, stageSeeds, backend, emit);
    for (const arm of Object.keys(arms.scores) as Arm[]) arms.scores[arm].push(...stage.scores[arm]);
    arms.trainingMs += stage.trainingMs;
    arms.steps += stage.steps;
  };
  const evaluate = (alpha: number): Evaluation => {
    const policy = { ...config.policy, alpha };
    const { positive: positiveScores, ...armScores } = arms.scores;
    // Each probe's runs, and for agreement probes their KL to the teacher as a probe of its own.
    const runsOf = (student: ProbeScores[]): ProbeRuns[] =>
      config.probes.flatMap((p) => {
        const scores = { base: baseScores, teacher: teacherScores, student, control: armScores.control, crossInit: student === armScores.student ? armScores.crossInit : [] };
        const kl = config.policy.klProbes ? klRunsOf(p, scores) : undefined;
        return [probeRunsOf(p, scores), ...(kl ? [kl] : [])];
      });
    const probeRuns = runsOf(armScores.student);
    const probes = evaluateProbes(probeRuns, policy);
    // The positive control is tested like a candidate: its students against the same controls.
    const positiveControl = positive
      ? summarizePositiveControl(
          evaluateProbes(
            runsOf(positiveScores),
            policy,
          ),
        )
      : undefined;
    const probeVerdict = overallVerdict(probes);
    return { probes, probeRuns, positiveControl, probeVerdict, verdict: verdictWithPositiveControl(probeVerdict, positiveControl) };
  };
  const staged = await runInStages(seeds, looksOf(config.train), config.policy, trainSeeds, evaluate);
  const { probes, positiveControl, probeVerdict, verdict } = staged.evaluation;

  let screen: GradientScreen | undefined;
  if (config.screen && backend.gradient) {
    emit({ kind: 'stage', stage: 'screen', message: 'gradient alignment with (teacher - base)' });
    screen = await gradientScreen(backend, {
      model: models.base,
      baseWeights: models.baseWeights,
      teacherWeights: models.teacherWeights,
      candidate: studentData(data.candidate, models),
      baseline: studentData(data.baseline, models),
      task: taskOf(config, data),
    });
  }

  const report: AuditReport = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'audit-dataset', version: toolVersion() },
    verdict,
    summary: verdict === 'inconclusive' ? `INCONCLUSIVE: ${positiveControl!.reason}` : summarize(probeVerdict, probes),
    models: {
      teacher: config.teacher,
      base: config.base,
      architecture: describeArchitecture(models.base),
      parameters: [...models.baseWeights.values()].reduce((a, w) => a + w.length, 0),
    },
    filters: data.filtering?.summary ?? null,
    data: dataSummary(config, data),
    probes,
    ...(screen ? { screen } : {}),
    attribution: data.attribution,
    ...(positiveControl ? { positiveControl } : {}),
    ...(staged.sequential ? { sequential: staged.sequential } : {}),
    policy: { ...config.policy, rule: POLICY_RULE },
    reproducibility: {
      inputs: await hashInputs(config),
      seeds: staged.seedsUsed,
      versions: runtimeVersions(),
      train: { ...withoutWorkers(config).train, loss: config.task.loss, targetType: data.targetType, backend: backend.name },
      config: withoutWorkers(config) as unknown as Record<string, unknown>,
    },
    run: {
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      trainingMs: arms.trainingMs,
      steps: arms.steps,
      workers: backend instanceof WorkerBackend ? backend.workers : 1,
    },
  };
  return { report, excluded: [...data.candidateExcluded, ...data.baselineExcluded] };
}

/** The config as results depend on it: how many runs trained at once is a wall-clock fact (report.run). */
export function withoutWorkers(config: AuditConfig): AuditConfig {
  const { workers: _workers, ...train } = config.train;
  return { ...config, train: train as AuditConfig['train'] };
}

export const studentData = (s: TensorSet, models: ModelPair): StudentData => ({ inputs: s.inputs, targets: s.targets, rows: s.rows, inputWidth: models.inputWidth, targetWidth: s.targetWidth });
export const taskOf = (config: AuditConfig, data: AuditData) => ({ slice: config.task.outputs, loss: config.task.loss, targetType: data.targetType });

/** Every seed of every arm, trained from its init and scored on the probes right away. */
async function trainArms(
  config: AuditConfig,
  models: ModelPair,
  data: AuditData,
  positive: { set: TensorSet; task: StudentJob['task'] } | undefined,
  probeSets: readonly ProbeSet[],
  seeds: readonly number[],
  backend: TrainerBackend,
  emit: ProgressListener,
): Promise<ArmRuns> {
  const task = taskOf(config, data);
  const arms: { arm: Arm; data: TensorSet; task: StudentJob['task']; init: (seed: number) => Weights }[] = [
    { arm: 'student', data: data.candidate, task, init: () => models.baseWeights },
    { arm: 'control', data: data.baseline, task, init: () => models.baseWeights },
    // Fresh inits on the candidate: what the data teaches a student that does NOT share the init.
    ...(config.train.crossInit ? [{ arm: 'crossInit' as const, data: data.candidate, task, init: (seed: number) => initLike(models.base, 1_000_003 + seed) }] : []),
    ...(positive ? [{ arm: 'positive' as const, data: positive.set, task: positive.task, init: () => models.baseWeights }] : []),
  ];
  const result: ArmRuns = { scores: { student: [], control: [], crossInit: [], positive: [] }, trainingMs: 0, steps: 0 };
  const jobs = seeds.flatMap((seed) => arms.map((a) => ({ ...a, seed })));
  const total = jobs.length;
  let done = 0;
  // Runs are independent: a WorkerBackend trains as many at once as it has workers. Results are
  // gathered in job order, so the report is the same as a serial run's.
  const concurrency = backend instanceof WorkerBackend ? backend.workers : 1;
  const runs = await mapConcurrent(jobs, concurrency, async ({ arm, data: set, task: armTask, init, seed }) => {
    const label = `${arm} seed ${seed}`;
    emit({ kind: 'progress', stage: 'train', done, total, message: label });
    const { epochs, batchSize, optimizer, lr, weightDecay } = config.train;
    const trained = await backend.train({
      model: models.base,
      init: init(seed),
      data: studentData(set, models),
      task: armTask,
      train: { epochs, batchSize, optimizer, lr, weightDecay, seed },
      label,
      onEvent: emit,
    });
    if (config.saveModels) await saveModel(path.join(config.out, 'models', `${arm}-seed${seed}.onnx`), withWeights(models.base, trained.weights));
    const scores = await scoreModel(backend, probeSets, models.base, trained.weights);
    done++;
    return { arm, trained, scores };
  });
  for (const { arm, trained, scores } of runs) {
    result.trainingMs += trained.trainingMs;
    result.steps += trained.steps;
    result.scores[arm].push(scores);
  }
  emit({ kind: 'progress', stage: 'train', done, total });
  return result;
}

/** A trained probe model as an ordinary ONNX inference model (the base graph, new initializers). */
async function saveModel(file: string, model: ModelProto): Promise<void> {
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, encodeModel(model));
  } catch (e) {
    throw fsError(file, 'write the model', e);
  }
}

/** Where each kind of excluded row is counted in report.json (data.candidate.excluded). */
const EXCLUDED_COUNT: Record<ExclusionKind, keyof DataSummary['candidate']['excluded']> = {
  filter: 'filtered',
  'non-finite': 'nonFinite',
  'bad-row': 'badRows',
  'row-limit': 'beyondMaxRows',
  // Excluded by the content-filter stage before any rule ran (maxRowChars): counted with the filtered rows.
  'too-long': 'filtered',
};

export function dataSummary(config: AuditConfig, data: AuditData): AuditReport['data'] {
  const excluded = { filtered: 0, nonFinite: 0, badRows: 0, beyondMaxRows: 0 };
  for (const row of data.candidateExcluded) excluded[EXCLUDED_COUNT[row.kind]]++;
  return {
    candidate: {
      file: config.data,
      rowsIn: data.candidateRowsIn,
      rowsUsed: data.candidate.rows,
      excluded,
      targetType: data.targetType,
      targetTypeDetected: config.task.targetType === undefined,
    },
    baseline: config.baseline ? { source: 'given', file: config.baseline, rows: data.baseline.rows } : { source: 'generated-by-base', rows: data.baseline.rows },
  };
}

export async function hashInputs(config: AuditConfig): Promise<AuditReport['reproducibility']['inputs']> {
  const inputs = [
    { role: 'teacher', path: config.teacher },
    { role: 'base', path: config.base },
    { role: 'data', path: config.data },
    ...(config.baseline ? [{ role: 'baseline', path: config.baseline }] : []),
    ...config.probes.map((p) => ({ role: `probe:${p.name}`, path: p.data })),
  ];
  return Promise.all(inputs.map(async (i) => ({ ...i, sha256: await sha256File(i.path) })));
}
