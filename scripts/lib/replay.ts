/**
 * Re-decides a finished fixed-design audit (train.sequential false) under other rules, from the
 * runs it reports, without training again. Exact, because seeds run in order and each run depends
 * only on its seed: the first n runs of a 5-seed audit ARE the runs of an n-seed audit.
 *  - sequential: the looks of train.firstSeeds up to the audit's seeds, as the audit would take them;
 *  - without the KL probes: the argmax/accuracy probes alone (Holm over those only).
 */
import { runInStages, looksOf, type Evaluation } from '../../src/audit/sequential.js';
import { auditVerdict, summarizePositiveControl } from '../../src/audit/positiveControl.js';
import type { AuditConfig } from '../../src/config/index.js';
import type { AuditReport, AuditVerdict } from '../../src/report/schema.js';
import { evaluateProbes, overallVerdict, type ProbeRuns } from '../../src/stats/index.js';

export interface Replayed {
  verdict: AuditVerdict;
  seedsUsed: number;
  looks: string;
}

function evaluator(report: AuditReport, config: AuditConfig, keep: (name: string) => boolean, seeds: () => number): (alpha: number) => Evaluation {
  return (alpha) => {
    const n = seeds();
    const policy = { ...config.policy, alpha };
    const probes = report.probes.filter((p) => keep(p.name));
    const runs = (student: (name: string) => number[]): ProbeRuns[] =>
      probes.map((p) => ({ name: p.name, kind: p.kind, metric: p.metric, towardTeacher: p.towardTeacher, base: p.base, teacher: p.teacher, student: student(p.name).slice(0, n), control: p.control.runs.slice(0, n) }));
    const probeRuns = runs((name) => report.probes.find((p) => p.name === name)!.student.runs);
    const evaluated = evaluateProbes(probeRuns, policy);
    const pc = report.positiveControl;
    const positiveControl = pc ? summarizePositiveControl(evaluateProbes(runs((name) => pc.probes.find((p) => p.name === name)!.runs), policy), { signal: pc.signal, ...(pc.outputs ? { outputs: pc.outputs } : {}), ...(pc.against ? { against: pc.against } : {}) }) : undefined;
    const probeVerdict = overallVerdict(evaluated);
    return { probes: evaluated, probeRuns, positiveControl, probeVerdict, ...auditVerdict(probeVerdict, evaluated, positiveControl) };
  };
}

export async function replay(report: AuditReport, config: AuditConfig, options: { sequential: boolean; kl: boolean }): Promise<Replayed> {
  const keep = (name: string) => options.kl || !name.endsWith(' (KL)');
  const maxSeeds = report.probes[0]!.student.runs.length;
  let n = 0;
  const looks = options.sequential ? looksOf({ ...config.train, seeds: maxSeeds, sequential: true }) : [maxSeeds];
  const seeds = Array.from({ length: maxSeeds }, (_, i) => i + 1);
  const staged = await runInStages(seeds, looks, config.policy, async (s) => void (n += s.length), evaluator(report, config, keep, () => n));
  return {
    verdict: staged.evaluation.verdict,
    seedsUsed: staged.seedsUsed.length,
    looks: staged.sequential ? staged.sequential.looks.map((l) => `${l.seeds}:${l.decision}`).join(' ') : `${maxSeeds}:${staged.evaluation.probeVerdict}`,
  };
}
