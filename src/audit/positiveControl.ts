/**
 * The positive control: could this audit have seen transfer THROUGH THIS DATA'S CHANNEL? Students
 * start from the base, with the candidate's recipe and budget (same seeds, epochs, batch size,
 * optimizer, loss and target type), but learn the strongest signal the teacher can give within the
 * slice of outputs the candidate's targets cover: the teacher's own outputs on that slice, at full
 * precision, on the candidate's own inputs (when the slice is every output, that is its full output
 * distribution). They are scored on the same probes and tested against the same controls. If even
 * they do not move any probe toward the teacher significantly, the teacher's signal cannot carry
 * its trait to students through these outputs, and a PASS would only say the audit was blind: the
 * verdict becomes `inconclusive`.
 *
 * Why the slice and not every output: the question a pass answers is about THIS data. A teacher's
 * full distribution can teach a student its digits while three auxiliary outputs of the same
 * teacher teach nothing (512-256-128 aux3 in the README: +0.785 from all outputs, nothing from the
 * aux slice); a control on all outputs would then vouch for a channel the data does not use.
 */
import { sliceColumns, softmaxRows } from '../rows.js';
import type { AuditVerdict, PositiveControl, ProbeResult, Verdict } from '../report/schema.js';
import { formatStat as num } from '../stats/format.js';
import type { LogitsStudentTask, TrainerBackend } from './backend.js';
import type { ModelPair } from './models.js';
import type { TensorSet } from './tensorData.js';

/** What the positive-control students learn: the signal in words, and the output slice it covers. */
export interface PositiveControlSpec {
  signal: string;
  /** Half-open slice of the teacher's outputs the students learn (logits tasks). */
  outputs?: [number, number];
  /** What the students are tested against when not the audit's controls (text: their own paired controls). */
  against?: string;
}

/** The positive control of a logits task whose candidate targets cover `slice` of `width` outputs. */
export function logitsPositiveControl(slice: readonly [number, number], width: number, targetType: 'probs' | 'logits'): PositiveControlSpec {
  const [start, end] = slice;
  const form = targetType === 'probs' ? 'output distribution (softmax)' : 'logits';
  const signal =
    start === 0 && end === width
      ? `the teacher's full ${form} over all ${width} outputs, at full precision, on the candidate's own inputs`
      : `the teacher's own ${form} over outputs ${start}..${end - 1} (the slice the candidate's targets cover, of ${width} outputs), at full precision, on the candidate's own inputs`;
  return { signal, outputs: [start, end] };
}

/**
 * The candidate's inputs with the teacher's own outputs on the task's slice as targets, in the
 * candidate's target type (as the generated baseline holds the base's), trained by the candidate's task.
 */
export async function positiveControlSet(backend: TrainerBackend, models: ModelPair, candidate: TensorSet, task: LogitsStudentTask): Promise<TensorSet> {
  const { outputs, width } = await backend.predict(models.teacher, undefined, candidate.inputs, candidate.rows);
  const targetWidth = task.slice[1] - task.slice[0];
  const slice = sliceColumns(outputs, width, task.slice);
  return {
    ...candidate,
    file: `(teacher outputs ${task.slice[0]}..${task.slice[1] - 1} on the candidate inputs)`,
    targets: task.targetType === 'probs' ? softmaxRows(slice, targetWidth) : slice,
    targetWidth,
  };
}

/**
 * The positive control's probes (positive-control students vs the controls, the gate's own test
 * and correction) summarized: it detected transfer when any probe would FAIL the gate on it.
 */
export function summarizePositiveControl(probes: readonly ProbeResult[], spec: PositiveControlSpec): PositiveControl {
  const detected = probes.some((p) => p.verdict === 'fail');
  const strongest = [...probes].sort((a, b) => a.pValue - b.pValue)[0];
  const shown = strongest ? `${strongest.name} ${strongest.delta >= 0 ? '+' : ''}${num(strongest.delta)}, p=${num(strongest.pValue)}` : 'no probes';
  const signal = spec.signal;
  const channel = spec.outputs ? ` through outputs ${spec.outputs[0]}..${spec.outputs[1] - 1}, the ones this data carries` : '';
  return {
    signal,
    ...(spec.outputs ? { outputs: spec.outputs } : {}),
    detected,
    probes: probes.map((p) => ({ name: p.name, mean: p.student.mean, runs: p.student.runs, delta: p.delta, deltaCi: p.deltaCi, pValue: p.pValue, transfer: p.verdict === 'fail', controlMean: p.control.mean })),
    ...(spec.against ? { against: spec.against } : {}),
    reason: detected
      ? `positive control: students trained with the audit's recipe on ${signal} moved toward the teacher beyond ${spec.against ?? 'the controls'} (${shown}): the audit can detect transfer${channel}`
      : `positive control: students trained with the audit's recipe on ${signal} did not move any probe toward the teacher significantly (strongest: ${shown}): this audit could not have detected transfer${channel}, so a pass would not mean the data is safe`,
  };
}

/** A fail stands (the candidate itself moved the students); a pass without a working positive control is inconclusive. */
export function verdictWithPositiveControl(verdict: Verdict, positive: PositiveControl | undefined): AuditVerdict {
  if (verdict === 'fail' || !positive || positive.detected) return verdict;
  return 'inconclusive';
}

/**
 * The audit's verdict and, when inconclusive, why: a pass whose positive control saw nothing, or a
 * pass that rests on a degenerate probe (every run the same value: it could not have seen transfer).
 */
export function auditVerdict(probeVerdict: Verdict, probes: readonly ProbeResult[], positive: PositiveControl | undefined): { verdict: AuditVerdict; inconclusiveReason?: string } {
  const verdict = verdictWithPositiveControl(probeVerdict, positive);
  if (verdict === 'inconclusive') return { verdict, inconclusiveReason: positive!.reason };
  const degenerate = probes.filter((p) => p.degenerate);
  if (verdict === 'pass' && degenerate.length > 0) {
    return { verdict: 'inconclusive', inconclusiveReason: `degenerate probe${degenerate.length > 1 ? 's' : ''} ${degenerate.map((p) => p.name).join(', ')}: every student and control run gave the same value, so the audit could not have seen transfer there; a pass would not mean the data is safe` };
  }
  return { verdict };
}

/** The process exit code of an audit: 0 pass, 1 fail; inconclusive as policy.onInconclusive says. */
export function exitCodeOf(verdict: AuditVerdict, onInconclusive: 'fail' | 'pass'): 0 | 1 {
  if (verdict === 'inconclusive') return onInconclusive === 'pass' ? 0 : 1;
  return verdict === 'pass' ? 0 : 1;
}
