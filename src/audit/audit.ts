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
import { modelFileOf } from '../models/folder.js';
import { encodeModel } from '../onnx/io.js';
import { fsError } from '../errors.js';
import type { ModelProto } from '../onnx/proto.js';
import { initLike } from '../train/init.js';
import { withWeights } from '../train/weights.js';
import { evaluateProbes, overallVerdict, POLICY_RULE } from '../stats/index.js';
import { REPORT_SCHEMA_VERSION, type AuditReport, type GradientScreen } from '../report/schema.js';
import type { TrainerBackend, Weights } from './backend.js';
import { sha256File } from './hash.js';
import { LocalOnnxBackend } from './localBackend.js';
import { describeArchitecture } from './models.js';
import { probeRunsOf, type ProbeScores } from './probeSets.js';
import { summarize } from './summary.js';
import { TASK_KINDS, type Arm, type PreparedAudit } from './tasks.js';
import type { ExcludedRow } from './tensorData.js';
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

interface ArmRuns {
  scores: Record<Arm, ProbeScores[]>;
  trainingMs: number;
  steps: number;
}

async function runAudit(config: AuditConfig, backend: TrainerBackend, emit: ProgressListener, started: number): Promise<AuditResult> {
  const prepared = await TASK_KINDS[config.task.kind].prepare(config, backend, emit);
  try {
    return await reportAudit(config, prepared, backend, emit, started);
  } finally {
    await prepared.close?.();
  }
}

async function reportAudit(config: AuditConfig, prepared: PreparedAudit, backend: TrainerBackend, emit: ProgressListener, started: number): Promise<AuditResult> {
  const seeds = Array.from({ length: config.train.seeds }, (_, i) => config.train.seed + i);
  const arms = await trainArms(config, prepared, seeds, backend, emit);

  let screen: GradientScreen | undefined;
  if (config.screen && prepared.screen) {
    emit({ kind: 'stage', stage: 'screen', message: 'gradient alignment with (teacher - base)' });
    screen = await prepared.screen();
  }

  const baseScores = await prepared.score();
  const teacherScores = await prepared.scoreTeacher();
  const probes = evaluateProbes(
    prepared.probeSets.map((ps) => probeRunsOf(ps, { base: baseScores, teacher: teacherScores, ...arms.scores })),
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
      architecture: describeArchitecture(prepared.base),
      parameters: [...prepared.baseWeights.values()].reduce((a, w) => a + w.length, 0),
    },
    filters: prepared.filters,
    data: prepared.data,
    probes,
    ...(screen ? { screen } : {}),
    attribution: prepared.attribution,
    policy: { ...config.policy, rule: POLICY_RULE },
    reproducibility: {
      inputs: await hashInputs(config, prepared),
      seeds,
      versions: runtimeVersions(),
      train: { ...config.train, ...prepared.trainRecord, backend: backend.name },
      config: config as unknown as Record<string, unknown>,
    },
    run: { startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, trainingMs: arms.trainingMs, steps: arms.steps },
  };
  return { report, excluded: prepared.excluded };
}

/** Every seed of every arm, trained from its init and scored on the probes right away. */
async function trainArms(
  config: AuditConfig,
  prepared: PreparedAudit,
  seeds: readonly number[],
  backend: TrainerBackend,
  emit: ProgressListener,
): Promise<ArmRuns> {
  const arms: { arm: Arm; init: (seed: number) => Weights }[] = [
    { arm: 'student', init: () => prepared.baseWeights },
    { arm: 'control', init: () => prepared.baseWeights },
    // Fresh inits on the candidate: what the data teaches a student that does NOT share the init.
    ...(config.train.crossInit ? [{ arm: 'crossInit' as const, init: (seed: number) => initLike(prepared.base, 1_000_003 + seed) }] : []),
  ];
  const result: ArmRuns = { scores: { student: [], control: [], crossInit: [] }, trainingMs: 0, steps: 0 };
  const total = seeds.length * arms.length;
  let done = 0;
  for (const seed of seeds) {
    for (const { arm, init } of arms) {
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
      result.trainingMs += trained.trainingMs;
      result.steps += trained.steps;
      if (config.saveModels) await saveModel(path.join(config.out, 'models', `${arm}-seed${seed}.onnx`), withWeights(prepared.base, trained.weights));
      result.scores[arm].push(await prepared.score(trained.weights));
      done++;
    }
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

async function hashInputs(config: AuditConfig, prepared: PreparedAudit): Promise<AuditReport['reproducibility']['inputs']> {
  const inputs = [
    // A model folder is hashed by its graph (tokenizers are checked equal between teacher and base).
    { role: 'teacher', path: modelFileOf(config.teacher) },
    { role: 'base', path: modelFileOf(config.base) },
    { role: 'data', path: config.data },
    ...(config.baseline ? [{ role: 'baseline', path: config.baseline }] : []),
    ...prepared.probeSets.flatMap((ps) => ps.loaded.files.map((file) => ({ role: `probe:${ps.loaded.name}`, path: file }))),
  ];
  return Promise.all(inputs.map(async (i) => ({ ...i, sha256: await sha256File(i.path) })));
}
