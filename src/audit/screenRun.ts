/**
 * A screen-only run (`audit-dataset screen`): everything that needs no training, in seconds:
 * content filters, the per-row attribution and the first-order gradient screen. The report has
 * the audit's formats, `mode: 'screen'`, verdict `screen` and no probes: it is a first look for a
 * pipeline, not a verdict on the data.
 */
import type { AuditConfig } from '../config/schema.js';
import { silent, type ProgressListener } from '../events.js';
import { POLICY_RULE } from '../stats/index.js';
import { REPORT_SCHEMA_VERSION, type AuditReport, type GradientScreen } from '../report/schema.js';
import { dataSummary, hashInputs, studentData, taskOf, withoutWorkers, type AuditResult } from './audit.js';
import type { TrainerBackend } from './backend.js';
import { loadAuditData } from './datasets.js';
import { LocalOnnxBackend } from './localBackend.js';
import { describeArchitecture, loadModelPair } from './models.js';
import { gradientScreen } from './screen.js';
import { runtimeVersions, toolVersion } from './versions.js';

export async function screenOnly(config: AuditConfig, options: { onEvent?: ProgressListener; backend?: TrainerBackend } = {}): Promise<AuditResult> {
  const started = Date.now();
  const emit = options.onEvent ?? silent;
  const backend = options.backend ?? new LocalOnnxBackend();
  try {
    emit({ kind: 'stage', stage: 'models', message: 'reading teacher and base' });
    const models = await loadModelPair(config, backend, emit);
    const data = await loadAuditData(config, models, backend, emit);
    let screen: GradientScreen | undefined;
    if (backend.gradient) {
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
    const filtered = data.filtering?.summary.rowsExcluded ?? 0;
    const parts = [
      `${filtered} of ${data.candidateRowsIn} rows rejected by content filters`,
      `row attribution mean ${data.attribution.mean.toPrecision(3)} (top 10% of rows carry ${(100 * data.attribution.top10Share).toFixed(0)}%)`,
      ...(screen ? [`gradient screen cosine ${screen.candidateCosine.toPrecision(3)} (baseline ${screen.baselineCosine.toPrecision(3)})`] : []),
    ];
    const report: AuditReport = {
      schemaVersion: REPORT_SCHEMA_VERSION,
      tool: { name: 'audit-dataset', version: toolVersion() },
      mode: 'screen',
      verdict: 'screen',
      summary: `SCREEN (no probe students trained, no verdict): ${parts.join('; ')}`,
      models: {
        teacher: config.teacher,
        base: config.base,
        architecture: describeArchitecture(models.base),
        parameters: [...models.baseWeights.values()].reduce((a, w) => a + w.length, 0),
      },
      filters: data.filtering?.summary ?? null,
      data: dataSummary(config, data),
      probes: [],
      ...(screen ? { screen } : {}),
      attribution: data.attribution,
      policy: { ...config.policy, rule: POLICY_RULE },
      reproducibility: {
        inputs: await hashInputs(config),
        seeds: [],
        versions: runtimeVersions(),
        train: { ...withoutWorkers(config).train, loss: config.task.loss, targetType: data.targetType, backend: backend.name },
        config: withoutWorkers(config) as unknown as Record<string, unknown>,
      },
      run: { startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, trainingMs: 0, steps: 0, workers: 0 },
    };
    return { report, excluded: [...data.candidateExcluded, ...data.baselineExcluded] };
  } finally {
    await backend.close?.();
  }
}
