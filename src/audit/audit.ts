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
import type { ModelProto } from '../onnx/proto.js';
import { initLike } from '../train/init.js';
import { withWeights } from '../train/weights.js';
import { evaluateProbes, overallVerdict, POLICY_RULE } from '../stats/index.js';
import { REPORT_SCHEMA_VERSION, type AuditReport, type GradientScreen } from '../report/schema.js';
import type { StudentData, TrainerBackend, Weights } from './backend.js';
import { loadAuditData, type AuditData } from './datasets.js';
import { sha256File } from './hash.js';
import { LocalOnnxBackend } from './localBackend.js';
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
  const backend = options.backend ?? new LocalOnnxBackend();
  try {
    return await runAudit(config, backend, emit, started);
  } finally {
    await backend.close?.();
  }
}

type Arm = 'student' | 'control' | 'crossInit';

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
  const arms = await trainArms(config, models, data, probeSets, seeds, backend, emit);

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

  const baseScores = await scoreModel(backend, probeSets, models.base);
  const teacherScores = await scoreModel(backend, probeSets, models.teacher);
  const probes = evaluateProbes(
    probeSets.map((ps) => probeRunsOf(ps, { base: baseScores, teacher: teacherScores, ...arms.scores })),
    config.policy,
  );
  const verdict = overallVerdict(probes);
  const report: AuditReport = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'audit-dataset', version: toolVersion() },
    verdict,
    summary: summarize(verdict, probes),
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
    policy: { ...config.policy, rule: POLICY_RULE },
    reproducibility: {
      inputs: await hashInputs(config),
      seeds,
      versions: runtimeVersions(),
      train: { ...config.train, loss: config.task.loss, targetType: data.targetType, backend: backend.name },
      config: config as unknown as Record<string, unknown>,
    },
    run: { startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, trainingMs: arms.trainingMs, steps: arms.steps },
  };
  return { report, excluded: [...data.candidateExcluded, ...data.baselineExcluded] };
}

const studentData = (s: TensorSet, models: ModelPair): StudentData => ({ inputs: s.inputs, targets: s.targets, rows: s.rows, inputWidth: models.inputWidth, targetWidth: s.targetWidth });
const taskOf = (config: AuditConfig, data: AuditData) => ({ slice: config.task.outputs, loss: config.task.loss, targetType: data.targetType });

/** Every seed of every arm, trained from its init and scored on the probes right away. */
async function trainArms(
  config: AuditConfig,
  models: ModelPair,
  data: AuditData,
  probeSets: readonly ProbeSet[],
  seeds: readonly number[],
  backend: TrainerBackend,
  emit: ProgressListener,
): Promise<ArmRuns> {
  const arms: { arm: Arm; data: TensorSet; init: (seed: number) => Weights }[] = [
    { arm: 'student', data: data.candidate, init: () => models.baseWeights },
    { arm: 'control', data: data.baseline, init: () => models.baseWeights },
    // Fresh inits on the candidate: what the data teaches a student that does NOT share the init.
    ...(config.train.crossInit ? [{ arm: 'crossInit' as const, data: data.candidate, init: (seed: number) => initLike(models.base, 1_000_003 + seed) }] : []),
  ];
  const result: ArmRuns = { scores: { student: [], control: [], crossInit: [] }, trainingMs: 0, steps: 0 };
  const total = seeds.length * arms.length;
  let done = 0;
  for (const seed of seeds) {
    for (const { arm, data: set, init } of arms) {
      const label = `${arm} seed ${seed}`;
      emit({ kind: 'progress', stage: 'train', done, total, message: label });
      const { epochs, batchSize, optimizer, lr, weightDecay } = config.train;
      const trained = await backend.train({
        model: models.base,
        init: init(seed),
        data: studentData(set, models),
        task: taskOf(config, data),
        train: { epochs, batchSize, optimizer, lr, weightDecay, seed },
        label,
        onEvent: emit,
      });
      result.trainingMs += trained.trainingMs;
      result.steps += trained.steps;
      if (config.saveModels) await saveModel(path.join(config.out, 'models', `${arm}-seed${seed}.onnx`), withWeights(models.base, trained.weights));
      result.scores[arm].push(await scoreModel(backend, probeSets, models.base, trained.weights));
      done++;
    }
  }
  emit({ kind: 'progress', stage: 'train', done, total });
  return result;
}

/** A trained probe model as an ordinary ONNX inference model (the base graph, new initializers). */
async function saveModel(file: string, model: ModelProto): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, encodeModel(model));
}

function dataSummary(config: AuditConfig, data: AuditData): AuditReport['data'] {
  const count = (pred: (r: ExcludedRow) => boolean) => data.candidateExcluded.filter(pred).length;
  return {
    candidate: {
      file: config.data,
      rowsIn: data.candidateRowsIn,
      rowsUsed: data.candidate.rows,
      excluded: {
        filtered: count((r) => r.rules !== undefined),
        nonFinite: count((r) => r.reasons[0]!.startsWith('non-finite')),
        badRows: count((r) => r.reasons[0]!.startsWith('bad row')),
        beyondMaxRows: count((r) => r.reasons[0] === 'beyond maxRows'),
      },
      targetType: data.targetType,
      targetTypeDetected: config.task.targetType === undefined,
    },
    baseline: config.baseline ? { source: 'given', file: config.baseline, rows: data.baseline.rows } : { source: 'generated-by-base', rows: data.baseline.rows },
  };
}

async function hashInputs(config: AuditConfig): Promise<AuditReport['reproducibility']['inputs']> {
  const inputs = [
    { role: 'teacher', path: config.teacher },
    { role: 'base', path: config.base },
    { role: 'data', path: config.data },
    ...(config.baseline ? [{ role: 'baseline', path: config.baseline }] : []),
    ...config.probes.map((p) => ({ role: `probe:${p.name}`, path: p.data })),
  ];
  return Promise.all(inputs.map(async (i) => ({ ...i, sha256: await sha256File(i.path) })));
}
