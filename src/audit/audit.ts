/**
 * The audit: models -> filters -> data and baseline -> students x seeds (and controls) -> probes
 * -> statistics -> report. Students and controls start from the base's weights, with the same
 * seeds and budget; they differ only in the data (candidate vs clean baseline), so their
 * difference is the data's effect.
 */
import { silent, type ProgressListener } from '../events.js';
import { localModelPaths, type AuditConfig, type TextAuditConfig } from '../config/schema.js';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { modelFileOf } from '../models/folder.js';
import { encodeModel } from '../onnx/io.js';
import { AuditInputError, fsError } from '../errors.js';
import type { ModelProto } from '../onnx/proto.js';
import { initLike } from '../train/init.js';
import { withWeights } from '../train/weights.js';
import { evaluateProbes, overallVerdict, POLICY_RULE, type ProbeRuns } from '../stats/index.js';
import { REPORT_SCHEMA_VERSION, type AuditReport, type GradientScreen, type PositiveControl } from '../report/schema.js';
import type { RemoteStudent, TrainerBackend, Weights } from './backend.js';
import { prepareServiceAudit } from './serviceTask.js';
import { ServiceBackend } from './serviceBackend.js';
import { sha256File } from './hash.js';
import { LocalOnnxBackend } from './localBackend.js';
import { mapConcurrent, WorkerBackend, workerCount } from './pool.js';
import { CachingBackend } from './runCache.js';
import { klRunsOf } from './klProbe.js';
import { looksOf, runInStages, type Evaluation } from './sequential.js';
import { auditVerdict, summarizePositiveControl } from './positiveControl.js';
import { describeArchitecture } from './models.js';
import { probeRunsOf, type ProbeScores } from './probeSets.js';
import { summarize } from './summary.js';
import { TASK_KINDS, type Arm, type PreparedAudit } from './tasks.js';
import type { ExcludedRow } from './tensorData.js';
import { runtimeVersions, toolVersion } from './versions.js';

export interface AuditOptions {
  onEvent?: ProgressListener;
  /** Who trains the probe students; default: the local ONNX engine (train.backend openai: the service). */
  backend?: TrainerBackend;
  /** train.backend openai: launch the plan's jobs without train.service.maxTrainingTokens (the user agreed). */
  yes?: boolean;
  /** Aborts a service audit: its running jobs are cancelled. */
  signal?: AbortSignal;
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
  // Worker threads train logits and text jobs; text jobs' data (token rows, baselines) and scoring stay on this thread.
  const trainer =
    options.backend ??
    (config.train.backend === 'openai'
      ? ServiceBackend.fromConfig(config, { yes: options.yes ?? false, onEvent: emit, ...(options.signal ? { signal: options.signal } : {}) })
      : workers > 1
        ? new WorkerBackend(workers)
        : new LocalOnnxBackend());
  // Service runs live on the service (its own resume state): only local runs are cached.
  const backend = config.cache && config.train.backend !== 'openai' ? new CachingBackend(trainer, config.cache, emit) : trainer;
  try {
    return await runAudit(config, backend, emit, started);
  } finally {
    await backend.close?.();
  }
}

interface ArmRuns {
  scores: Record<Arm, ProbeScores[]>;
  trainingMs: number;
  steps: number;
  /** Runs trained by a service: their jobs and fine-tuned models. */
  remote: { arm: Arm; seed: number; remote: RemoteStudent }[];
}

async function runAudit(config: AuditConfig, backend: TrainerBackend, emit: ProgressListener, started: number): Promise<AuditResult> {
  const prepared = config.train.backend === 'openai' ? await prepareServiceAudit(config as TextAuditConfig, backend, emit) : await TASK_KINDS[config.task.kind].prepare(config, backend, emit);
  try {
    return await reportAudit(config, prepared, backend, emit, started);
  } finally {
    await prepared.close?.();
  }
}

async function reportAudit(config: AuditConfig, prepared: PreparedAudit, backend: TrainerBackend, emit: ProgressListener, started: number): Promise<AuditResult> {
  if (prepared.controlsDrawBaselines && config.policy.test === 'permutation') {
    throw new AuditInputError("policy.test: permutation assumes exchangeable runs, but each control trains on its own generated baseline and every student on the one candidate; use welch (it counts the candidate's draw) or give a baseline file");
  }
  const seeds = Array.from({ length: config.train.seeds }, (_, i) => config.train.seed + i);
  const baseScores = await prepared.score();
  const teacherScores = await prepared.scoreTeacher();

  // Seeds in looks (one look = the fixed design); each look's runs join the earlier ones.
  const arms: ArmRuns = { scores: { student: [], control: [], crossInit: [], positive: [], positiveBaseline: [] }, trainingMs: 0, steps: 0, remote: [] };
  // The positive control, once it has shown transfer at a look, is decided: its test there used a
  // stricter alpha than any later look's, so more of its runs could only cost time (a five-seed
  // audit that goes to its last look saves two runs of each positive-control arm: 4 of 20 in text).
  let positiveDecided: PositiveControl | undefined;
  const trainSeeds = async (stageSeeds: readonly number[]): Promise<void> => {
    const stage = await trainArms(config, prepared, stageSeeds, backend, emit, { positive: positiveDecided === undefined });
    for (const arm of Object.keys(arms.scores) as Arm[]) arms.scores[arm].push(...stage.scores[arm]);
    arms.remote.push(...stage.remote);
    arms.trainingMs += stage.trainingMs;
    arms.steps += stage.steps;
  };
  const evaluate = (alpha: number): Evaluation => {
    const policy = { ...config.policy, alpha };
    const { positive: positiveScores, positiveBaseline, ...armScores } = arms.scores;
    // Each probe's runs, and for tensor agreement probes their KL to the teacher as a probe of its own.
    const runsOf = (student: ProbeScores[], control = armScores.control): ProbeRuns[] =>
      prepared.probeSets.flatMap((ps) => {
        const scores = { base: baseScores, teacher: teacherScores, student, control, crossInit: student === armScores.student ? armScores.crossInit : [] };
        const kl = config.policy.klProbes ? klRunsOf(ps, scores) : undefined;
        const runs = [probeRunsOf(ps, scores), ...(kl ? [kl] : [])];
        // Candidate students against controls on their own drawn baselines: the test counts the candidate's draw.
        return student === armScores.student && prepared.controlsDrawBaselines ? runs.map((r) => ({ ...r, candidateDraw: true })) : runs;
      });
    const probeRuns = runsOf(armScores.student);
    const probes = evaluateProbes(probeRuns, policy);
    // The positive control is tested like a candidate: its students against the same controls, or its own.
    let positiveControl =
      positiveDecided ??
      (positiveScores.length > 0
        ? summarizePositiveControl(
            evaluateProbes(runsOf(positiveScores, prepared.positiveControlBaseline ? positiveBaseline : armScores.control), policy),
            {
              signal: prepared.positiveControlSignal ?? 'the teacher\'s strongest signal on the candidate inputs',
              ...(prepared.positiveControlOutputs ? { outputs: prepared.positiveControlOutputs } : {}),
              ...(prepared.positiveControlBaseline ? { against: prepared.positiveControlBaseline } : {}),
            },
          )
        : undefined);
    if (positiveControl?.detected && !positiveDecided && seeds.length > positiveScores.length) {
      positiveControl = positiveDecided = { ...positiveControl, seedsUsed: positiveScores.length, reason: `${positiveControl.reason} (decided at the look of ${positiveScores.length} seeds; no more positive-control runs were trained)` };
    }
    const probeVerdict = overallVerdict(probes);
    return { probes, probeRuns, positiveControl, probeVerdict, ...auditVerdict(probeVerdict, probes, positiveControl) };
  };
  const staged = await runInStages(seeds, looksOf(config.train), config.policy, trainSeeds, evaluate);
  const { probes, positiveControl, probeVerdict, verdict, inconclusiveReason } = staged.evaluation;
  if (backend instanceof CachingBackend) {
    const { hits, misses } = backend.stats;
    emit({ kind: 'info', stage: 'train', message: `run cache ${config.cache}: ${hits} of ${hits + misses} probe runs read, ${misses} trained and stored` });
  }

  let screen: GradientScreen | undefined;
  if (config.screen && prepared.screen) {
    emit({ kind: 'stage', stage: 'screen', message: 'gradient alignment with (teacher - base)' });
    screen = await prepared.screen();
  }

  const report: AuditReport = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'audit-dataset', version: toolVersion() },
    verdict,
    summary: verdict === 'inconclusive' ? `INCONCLUSIVE: ${inconclusiveReason}` : summarize(probeVerdict, probes),
    models: prepared.models ?? modelsSummary(config, prepared),
    filters: prepared.filters,
    data: prepared.data,
    probes,
    ...(screen ? { screen } : {}),
    attribution: prepared.attribution,
    ...(positiveControl ? { positiveControl } : {}),
    ...(staged.sequential ? { sequential: staged.sequential } : {}),
    policy: { ...config.policy, rule: POLICY_RULE },
    reproducibility: {
      inputs: await hashInputs(config, prepared),
      seeds: staged.seedsUsed,
      versions: runtimeVersions(),
      train: { ...withoutWorkers(config).train, ...prepared.trainRecord, backend: backend.name },
      config: withoutWorkers(config) as unknown as Record<string, unknown>,
      ...(prepared.serviceRecord ? { service: prepared.serviceRecord(arms.remote) } : {}),
    },
    run: {
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      trainingMs: arms.trainingMs,
      steps: arms.steps,
      workers: backend.workers ?? 1,
      ...(backend instanceof CachingBackend ? { cachedRuns: backend.stats.hits } : {}),
    },
  };
  return { report, excluded: prepared.excluded };
}

/** The report's models block: what was audited and the students' architecture. */
export function modelsSummary(config: AuditConfig, prepared: PreparedAudit): AuditReport['models'] {
  const { teacher, base } = localModelPaths(config);
  return {
    teacher,
    base,
    architecture: describeArchitecture(prepared.base),
    parameters: [...prepared.baseWeights.values()].reduce((a, w) => a + w.length, 0),
  };
}

/** The config as results depend on it: how many runs trained at once is a wall-clock fact (report.run). */
export function withoutWorkers(config: AuditConfig): AuditConfig {
  const { workers: _workers, ...train } = config.train;
  // Where runs are cached is a fact of this machine too: a cached audit reports what a fresh one does.
  const { cache: _cache, ...rest } = config;
  return { ...rest, train: train as AuditConfig['train'] };
}

/** Every seed of every arm, trained from its init and scored on the probes right away. */
async function trainArms(
  config: AuditConfig,
  prepared: PreparedAudit,
  seeds: readonly number[],
  backend: TrainerBackend,
  emit: ProgressListener,
  include: { positive: boolean },
): Promise<ArmRuns> {
  const arms: { arm: Arm; init: (seed: number) => Weights }[] = [
    { arm: 'student', init: () => prepared.baseWeights },
    { arm: 'control', init: () => prepared.baseWeights },
    // Fresh inits on the candidate: what the data teaches a student that does NOT share the init.
    ...(config.train.crossInit ? [{ arm: 'crossInit' as const, init: (seed: number) => initLike(prepared.base, 1_000_003 + seed) }] : []),
    // The positive control, where the task kind has one: the teacher's strongest signal on the candidate's inputs.
    ...(include.positive && config.train.positiveControl && prepared.positiveControl ? [{ arm: 'positive' as const, init: () => prepared.baseWeights }] : []),
    ...(include.positive && config.train.positiveControl && prepared.positiveControl && prepared.positiveControlBaseline ? [{ arm: 'positiveBaseline' as const, init: () => prepared.baseWeights }] : []),
  ];
  const result: ArmRuns = { scores: { student: [], control: [], crossInit: [], positive: [], positiveBaseline: [] }, trainingMs: 0, steps: 0, remote: [] };
  const jobs = seeds.flatMap((seed) => arms.map((a) => ({ ...a, seed })));
  const total = jobs.length;
  let done = 0;
  // Runs are independent: a WorkerBackend trains as many at once as it has workers. Results are
  // gathered in job order, so the report is the same as a serial run's.
  const concurrency = backend.concurrency ?? backend.workers ?? 1;
  const runs = await mapConcurrent(jobs, concurrency, async ({ arm, init, seed }) => {
    const label = `${arm} seed ${seed}`;
    emit({ kind: 'progress', stage: 'train', done, total, message: label });
    const { epochs, batchSize, optimizer, lr, weightDecay } = config.train;
    const trained = await backend.train({
      ...(await prepared.jobData(arm, seed)),
      model: prepared.base,
      init: init(seed),
      train: { epochs, batchSize, optimizer, lr, weightDecay, seed },
      label,
      onEvent: emit,
    });
    if (config.saveModels && !trained.remote) await saveModel(path.join(config.out, 'models', `${arm}-seed${seed}.onnx`), withWeights(prepared.base, trained.weights));
    const scores = prepared.scoreTrained ? await prepared.scoreTrained(trained) : await prepared.score(trained.weights);
    done++;
    return { arm, seed, trained, scores };
  });
  for (const { arm, seed, trained, scores } of runs) {
    result.trainingMs += trained.trainingMs;
    result.steps += trained.steps;
    result.scores[arm].push(scores);
    if (trained.remote) result.remote.push({ arm, seed, remote: trained.remote });
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

export async function hashInputs(config: AuditConfig, prepared: PreparedAudit): Promise<AuditReport['reproducibility']['inputs']> {
  const models = prepared.modelInputs ?? [
    // A model folder is hashed by its graph (tokenizers are checked equal between teacher and base).
    { role: 'teacher', path: modelFileOf(localModelPaths(config).teacher) },
    { role: 'base', path: modelFileOf(localModelPaths(config).base) },
  ];
  const inputs = [
    ...models,
    { role: 'data', path: config.data },
    ...(config.baseline ? [{ role: 'baseline', path: config.baseline }] : []),
    ...prepared.probeSets.flatMap((ps) => ps.loaded.files.map((file) => ({ role: `probe:${ps.loaded.name}`, path: file }))),
  ];
  return Promise.all(inputs.map(async (i) => ({ ...i, sha256: await sha256File(i.path) })));
}
