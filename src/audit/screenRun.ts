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
import { hashInputs, modelsSummary, withoutWorkers, type AuditResult } from './audit.js';
import type { TrainerBackend } from './backend.js';
import { LocalOnnxBackend } from './localBackend.js';
import { TASK_KINDS } from './tasks.js';
import { runtimeVersions, toolVersion } from './versions.js';

export async function screenOnly(config: AuditConfig, options: { onEvent?: ProgressListener; backend?: TrainerBackend } = {}): Promise<AuditResult> {
  const started = Date.now();
  const emit = options.onEvent ?? silent;
  const backend = options.backend ?? new LocalOnnxBackend();
  try {
    // The task kind reads models, data and probes as for an audit; nothing is trained.
    const prepared = await TASK_KINDS[config.task.kind].prepare(config, backend, emit);
    try {
      let screen: GradientScreen | undefined;
      if (prepared.screen) {
        emit({ kind: 'stage', stage: 'screen', message: 'gradient alignment with (teacher - base)' });
        screen = await prepared.screen();
      }
      const filtered = prepared.filters?.rowsExcluded ?? 0;
      const attribution = prepared.attribution;
      const parts = [
        `${filtered} of ${prepared.data.candidate.rowsIn} rows rejected by content filters`,
        ...(attribution ? [`row attribution mean ${attribution.mean.toPrecision(3)} (top 10% of rows carry ${(100 * attribution.top10Share).toFixed(0)}%)`] : []),
        ...(screen ? [`gradient screen cosine ${screen.candidateCosine.toPrecision(3)} (baseline ${screen.baselineCosine.toPrecision(3)})`] : []),
      ];
      const report: AuditReport = {
        schemaVersion: REPORT_SCHEMA_VERSION,
        tool: { name: 'audit-dataset', version: toolVersion() },
        mode: 'screen',
        verdict: 'screen',
        summary: `SCREEN (no probe students trained, no verdict): ${parts.join('; ')}`,
        models: modelsSummary(config, prepared),
        filters: prepared.filters,
        data: prepared.data,
        probes: [],
        ...(screen ? { screen } : {}),
        ...(attribution ? { attribution } : {}),
        policy: { ...config.policy, rule: POLICY_RULE },
        reproducibility: {
          inputs: await hashInputs(config, prepared),
          seeds: [],
          versions: runtimeVersions(),
          train: { ...withoutWorkers(config).train, ...prepared.trainRecord, backend: backend.name },
          config: withoutWorkers(config) as unknown as Record<string, unknown>,
        },
        run: { startedAt: new Date(started).toISOString(), durationMs: Date.now() - started, trainingMs: 0, steps: 0, workers: 0 },
      };
      return { report, excluded: prepared.excluded };
    } finally {
      await prepared.close?.();
    }
  } finally {
    await backend.close?.();
  }
}
