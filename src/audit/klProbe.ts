/**
 * The continuous, trait-agnostic statistic: for every agreement probe, the mean KL(teacher ||
 * model) over its held-out inputs (the teacher's and the model's softmax over the probe's slice)
 * becomes a probe of its own in the verdict, lower = toward the teacher. Argmax agreement only
 * moves when a student's top class flips; the KL moves with any shift of the whole distribution
 * toward the teacher's, so it can see transfer that has not yet flipped an argmax. It joins the
 * probes' family (Holm), so the audit's false-fail rate stays at alpha.
 */
import type { ProbeConfig } from '../config/schema.js';
import type { ProbeRuns } from '../stats/index.js';
import type { ProbeScores } from './probeSets.js';

export const klProbeName = (probe: string): string => `${probe} (KL)`;

/** The KL runs of an agreement probe (undefined for other kinds). */
export function klRunsOf(
  probe: ProbeConfig,
  scores: { base: ProbeScores; student: ProbeScores[]; control: ProbeScores[]; crossInit: ProbeScores[] },
): ProbeRuns | undefined {
  if (probe.kind !== 'agreement') return undefined;
  const kl = (runs: ProbeScores[]) => runs.map((s) => s[probe.name]!.kl!);
  return {
    name: klProbeName(probe.name),
    kind: 'agreement-kl',
    metric: 'mean KL(teacher || model) on the probe inputs (nats)',
    towardTeacher: -1,
    base: scores.base[probe.name]!.kl!,
    teacher: 0,
    student: kl(scores.student),
    control: kl(scores.control),
    ...(scores.crossInit.length ? { crossInit: kl(scores.crossInit) } : {}),
  };
}
