/**
 * The audit: filters -> baseline -> students x seeds (and controls) -> probes -> stats -> report.
 * Students and controls start from the base's weights, with the same seeds and budget; they
 * differ only in the data (candidate vs clean baseline), so their difference is the data's effect.
 */
import path from 'node:path';
import { AuditInputError, UnsupportedModelError } from '../errors.js';
import { silent, type ProgressListener } from '../events.js';
import type { AuditConfig, ProbeConfig } from '../config/schema.js';
import { readModel } from '../onnx/io.js';
import { compareArchitectures, fingerprint } from '../onnx/fingerprint.js';
import { unsupportedOps } from '../autodiff/index.js';
import type { ModelProto } from '../onnx/proto.js';
import { initLike } from '../train/init.js';
import { readWeights } from '../train/weights.js';
import { accuracy, agreement } from '../probes/index.js';
import { evaluateProbe, overallVerdict, POLICY_RULE, type ProbeRuns } from '../stats/index.js';
import { REPORT_SCHEMA_VERSION, type AuditReport, type FilterSummary, type GradientScreen, type ProbeResult } from '../report/schema.js';
import type { TrainerBackend, Weights, StudentData } from './backend.js';
import { LocalOnnxBackend } from './localBackend.js';
import { detectTargetType, readTensorSet, type ExcludedRow, type TensorSet } from './tensorData.js';
import { runContentFilters } from './contentFilters.js';
import { gradientScreen } from './screen.js';
import { attributeRows } from './attribution.js';
import { sha256File } from './hash.js';
import { runtimeVersions, toolVersion } from './versions.js';

export interface AuditOptions {
  onEvent?: ProgressListener;
  backend?: TrainerBackend;
}

export interface AuditResult {
  report: AuditReport;
  /** Every candidate/baseline row not used, with its reasons. */
  excluded: ExcludedRow[];
}

interface ProbeSet {
  config: ProbeConfig;
  set: TensorSet;
  teacherOutputs: Float32Array;
}

function softmaxRows(values: Float32Array, width: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let o = 0; o < values.length; o += width) {
    let max = -Infinity;
    for (let j = 0; j < width; j++) max = Math.max(max, values[o + j]!);
    let sum = 0;
    for (let j = 0; j < width; j++) sum += (out[o + j] = Math.exp(values[o + j]! - max));
    for (let j = 0; j < width; j++) out[o + j]! /= sum;
  }
  return out;
}

function sliceColumns(values: Float32Array, width: number, [start, end]: readonly [number, number]): Float32Array {
  const rows = values.length / width;
  const k = end - start;
  const out = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) out.set(values.subarray(r * width + start, r * width + end), r * k);
  return out;
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

async function runAudit(config: AuditConfig, backend: TrainerBackend, emit: ProgressListener, started: number): Promise<AuditResult> {
  // --- models -------------------------------------------------------------------------------
  emit({ kind: 'stage', stage: 'models', message: 'reading teacher and base' });
  const [teacher, base] = await Promise.all([readModel(config.teacher), readModel(config.base)]);
  const cmp = compareArchitectures(teacher, base, ['teacher', 'base']);
  if (!cmp.same) {
    throw new AuditInputError(`${config.teacher} and ${config.base} differ in architecture: ${cmp.firstDifference}`, { file: config.teacher });
  }
  const unsupported = unsupportedOps(base);
  if (unsupported.length > 0) {
    const u = unsupported[0]!;
    throw new UnsupportedModelError(`${config.base}: unsupported op ${u.opType} at node ${u.node}: no gradient rule`, { file: config.base, node: u.node });
  }
  const { inputWidth, outputWidth } = await backend.shape(base);
  const baseWeights = readWeights(base);
  const teacherWeights = readWeights(teacher);
  const slice = config.task.outputs;
  if (slice[1] > outputWidth) {
    throw new AuditInputError(`task.outputs [${slice.join(', ')}] is outside the model's ${outputWidth} outputs (${config.base})`);
  }
  for (const p of config.probes) {
    if (p.outputs[1] > outputWidth) throw new AuditInputError(`probe ${p.name}: outputs [${p.outputs.join(', ')}] is outside the model's ${outputWidth} outputs (${config.base})`);
  }
  const targetWidth = slice[1] - slice[0];

  // --- data ---------------------------------------------------------------------------------
  emit({ kind: 'stage', stage: 'filters', message: config.filters.length ? `content filters: ${config.filters.join(', ')}` : 'no content filters configured' });
  const filtering = config.filters.length ? await runContentFilters(config) : null;
  emit({ kind: 'stage', stage: 'data', message: `reading ${path.basename(config.data)}` });
  const candidate = await readTensorSet(config.data, {
    input: config.task.input,
    inputWidth,
    target: config.task.target,
    targetWidth,
    skipBadRows: config.skipBadRows,
    maxRows: config.train.maxRows,
    ...(filtering
      ? {
          screenRow: (row) => {
            const reasons = filtering.excludedReasons.get(row.line);
            return reasons ? { reasons, rules: filtering.excludedRules.get(row.line) ?? [] } : undefined;
          },
        }
      : {}),
  });
  const minRows = 2 * config.train.batchSize;
  if (candidate.set.rows < minRows) {
    throw new AuditInputError(
      `${config.data}: ${candidate.set.rows} usable rows; ${config.train.seeds} seeds at batchSize ${config.train.batchSize} need at least ${minRows} (two batches, so seeds differ in data order)`,
      { file: config.data },
    );
  }
  const detected = detectTargetType(candidate.set.targets, targetWidth);
  const targetType = config.task.targetType ?? detected;
  if (targetType === 'probs' && detected === 'logits') {
    throw new AuditInputError(`${config.data}: task.targetType is probs, but field '${config.task.target}' holds rows that are not probability distributions`, { file: config.data });
  }

  // What the base itself outputs on the candidate inputs: the clean baseline's targets (unless a
  // baseline is given) and the reference of the per-row attribution.
  const { outputs: baseOnCandidate, width } = await backend.predict(base, undefined, candidate.set.inputs, candidate.set.rows);
  const baseSlice = sliceColumns(baseOnCandidate, width, slice);
  const attribution = attributeRows(candidate.set.targets, baseSlice, targetWidth, targetType, candidate.set.lines);
  let baseline: TensorSet;
  let baselineExcluded: ExcludedRow[] = [];
  if (config.baseline) {
    const read = await readTensorSet(config.baseline, { input: config.task.input, inputWidth, target: config.task.target, targetWidth, skipBadRows: config.skipBadRows, maxRows: config.train.maxRows });
    baseline = read.set;
    baselineExcluded = read.excluded;
    if (baseline.rows < minRows) throw new AuditInputError(`${config.baseline}: ${baseline.rows} usable rows; need at least ${minRows}`, { file: config.baseline });
  } else {
    emit({ kind: 'stage', stage: 'baseline', message: 'clean baseline: the base model on the candidate inputs' });
    baseline = { ...candidate.set, file: '(generated by base)', targets: targetType === 'probs' ? softmaxRows(baseSlice, targetWidth) : baseSlice };
  }

  // --- probes: base and teacher -------------------------------------------------------------
  const probeSets: ProbeSet[] = [];
  for (const p of config.probes) {
    const { set } = await readTensorSet(p.data, {
      input: p.input,
      inputWidth,
      ...(p.kind === 'accuracy' ? { label: p.label!, labelCount: p.outputs[1] - p.outputs[0] } : {}),
      skipBadRows: config.skipBadRows,
    });
    if (set.rows === 0) throw new AuditInputError(`${p.data}: probe ${p.name} has no usable rows`, { file: p.data });
    const { outputs } = await backend.predict(teacher, undefined, set.inputs, set.rows);
    probeSets.push({ config: p, set, teacherOutputs: outputs });
  }
  const score = async (weights: Weights | undefined, model: ModelProto = base) => {
    const values: Record<string, { value: number; kl?: number }> = {};
    for (const ps of probeSets) {
      const { outputs, width } = await backend.predict(model, weights, ps.set.inputs, ps.set.rows);
      if (ps.config.kind === 'accuracy') values[ps.config.name] = { value: accuracy(outputs, width, ps.config.outputs, ps.set.labels) };
      else {
        const a = agreement(outputs, ps.teacherOutputs, width, ps.config.outputs);
        values[ps.config.name] = { value: a.agreement, kl: a.kl };
      }
    }
    return values;
  };
  const baseScores = await score(undefined, base);
  const teacherScores = await score(undefined, teacher);

  // --- students and controls ----------------------------------------------------------------
  const asData = (s: TensorSet): StudentData => ({ inputs: s.inputs, targets: s.targets, rows: s.rows, inputWidth, targetWidth });
  const task = { slice, loss: config.task.loss, targetType } as const;
  const seeds = Array.from({ length: config.train.seeds }, (_, i) => config.train.seed + i);
  const runs = { student: [] as Record<string, { value: number; kl?: number }>[], control: [] as typeof baseScores[], crossInit: [] as typeof baseScores[] };
  let trainingMs = 0;
  let steps = 0;
  const arms: { arm: keyof typeof runs; data: TensorSet; init: (seed: number) => Weights }[] = [
    { arm: 'student', data: candidate.set, init: () => baseWeights },
    { arm: 'control', data: baseline, init: () => baseWeights },
    ...(config.train.crossInit ? [{ arm: 'crossInit' as const, data: candidate.set, init: (seed: number) => initLike(base, 1_000_003 + seed) }] : []),
  ];
  const totalRuns = seeds.length * arms.length;
  let done = 0;
  for (const seed of seeds) {
    for (const { arm, data, init } of arms) {
      const label = `${arm} seed ${seed}`;
      emit({ kind: 'progress', stage: 'train', done, total: totalRuns, message: label });
      const result = await backend.train({
        model: base,
        init: init(seed),
        data: asData(data),
        task,
        train: { epochs: config.train.epochs, batchSize: config.train.batchSize, optimizer: config.train.optimizer, lr: config.train.lr, weightDecay: config.train.weightDecay, seed },
        label,
        onEvent: emit,
      });
      trainingMs += result.trainingMs;
      steps += result.steps;
      runs[arm].push(await score(result.weights));
      done++;
    }
  }
  emit({ kind: 'progress', stage: 'train', done, total: totalRuns });

  // --- first-order screen -------------------------------------------------------------------
  let screen: GradientScreen | undefined;
  if (config.screen && backend.gradient) {
    emit({ kind: 'stage', stage: 'screen', message: 'gradient alignment with (teacher - base)' });
    screen = await gradientScreen(backend, { model: base, baseWeights, teacherWeights, candidate: asData(candidate.set), baseline: asData(baseline), task });
  }

  // --- statistics ---------------------------------------------------------------------------
  const policy = config.policy;
  const probes: ProbeResult[] = probeSets.map(({ config: p }) => {
    const pick = (xs: typeof baseScores[]) => xs.map((s) => s[p.name]!.value);
    const isAgreement = p.kind === 'agreement';
    const probeRuns: ProbeRuns = {
      name: p.name,
      kind: p.kind,
      metric: isAgreement ? 'agreement with teacher (argmax)' : 'accuracy',
      ...(isAgreement ? { towardTeacher: 1 as const } : {}),
      base: baseScores[p.name]!.value,
      teacher: isAgreement ? 1 : teacherScores[p.name]!.value,
      student: pick(runs.student),
      control: pick(runs.control),
      ...(runs.crossInit.length ? { crossInit: pick(runs.crossInit) } : {}),
      ...(isAgreement
        ? {
            extra: {
              'KL(teacher || model)': {
                base: baseScores[p.name]!.kl!,
                teacher: 0,
                control: mean(runs.control.map((s) => s[p.name]!.kl!)),
                student: mean(runs.student.map((s) => s[p.name]!.kl!)),
              },
            },
          }
        : {}),
    };
    return evaluateProbe(probeRuns, policy);
  });
  const verdict = overallVerdict(probes);

  // --- report -------------------------------------------------------------------------------
  const excluded = [...candidate.excluded, ...baselineExcluded];
  const count = (pred: (r: ExcludedRow) => boolean) => candidate.excluded.filter(pred).length;
  const filters: FilterSummary | null = filtering?.summary ?? null;
  const inputs = [
    { role: 'teacher', path: config.teacher },
    { role: 'base', path: config.base },
    { role: 'data', path: config.data },
    ...(config.baseline ? [{ role: 'baseline', path: config.baseline }] : []),
    ...config.probes.map((p) => ({ role: `probe:${p.name}`, path: p.data })),
  ];
  const report: AuditReport = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'audit-dataset', version: toolVersion() },
    verdict,
    summary: summarize(verdict, probes),
    models: {
      teacher: config.teacher,
      base: config.base,
      architecture: describeArchitecture(base),
      parameters: [...baseWeights.values()].reduce((a, w) => a + w.length, 0),
    },
    filters,
    data: {
      candidate: {
        file: config.data,
        rowsIn: candidate.rowsIn,
        rowsUsed: candidate.set.rows,
        excluded: {
          filtered: count((r) => filtering?.excludedReasons.has(r.line) ?? false),
          nonFinite: count((r) => r.reasons[0]!.startsWith('non-finite')),
          badRows: count((r) => r.reasons[0]!.startsWith('bad row')),
          beyondMaxRows: count((r) => r.reasons[0] === 'beyond maxRows'),
        },
        targetType,
        targetTypeDetected: config.task.targetType === undefined,
      },
      baseline: config.baseline ? { source: 'given', file: config.baseline, rows: baseline.rows } : { source: 'generated-by-base', rows: baseline.rows },
    },
    probes,
    ...(screen ? { screen } : {}),
    attribution,
    policy: { ...policy, rule: POLICY_RULE },
    reproducibility: {
      inputs: await Promise.all(inputs.map(async (i) => ({ ...i, sha256: await sha256File(i.path) }))),
      seeds,
      versions: runtimeVersions(),
      train: { ...config.train, loss: config.task.loss, targetType, backend: backend.name },
      config: config as unknown as Record<string, unknown>,
    },
    run: { startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, trainingMs, steps },
  };
  return { report, excluded };
}

/** "Gemm x3, Relu x2 (sha256 1a2b3c4d5e6f)": the op histogram and the fingerprint hash. */
function describeArchitecture(model: ModelProto): string {
  const fp = fingerprint(model);
  const counts = new Map<string, number>();
  for (const op of fp.ops) counts.set(op.opType, (counts.get(op.opType) ?? 0) + 1);
  return `${[...counts].map(([op, n]) => `${op} x${n}`).join(', ')} (sha256 ${fp.hash.slice(0, 12)})`;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

const num = (x: number) => (Math.abs(x) >= 0.001 || x === 0 ? x.toFixed(3) : x.toExponential(1));

function summarize(verdict: 'pass' | 'fail', probes: readonly ProbeResult[]): string {
  const describe = (p: ProbeResult) =>
    `${p.name} ${p.delta >= 0 ? '+' : ''}${num(p.delta)} (p=${num(p.pValue)}${p.transferRatio !== null ? `, ${Math.round(p.transferRatio * 100)}% of the teacher's shift` : ''})`;
  if (verdict === 'fail') {
    const failed = probes.filter((p) => p.verdict === 'fail');
    return `FAIL: ${failed.length} of ${probes.length} probes show transfer toward the teacher beyond clean controls: ${failed.map(describe).join('; ')}`;
  }
  const largest = [...probes].sort((a, b) => b.delta * b.towardTeacher - a.delta * a.towardTeacher)[0];
  return `PASS: no probe shows transfer toward the teacher beyond clean controls${largest ? ` (largest shift: ${describe(largest)})` : ''}`;
}
