/**
 * The continuous, trait-agnostic statistic: for every agreement probe, the mean KL(teacher ||
 * model) over its held-out inputs (the teacher's and the model's softmax over the probe's slice)
 * becomes a probe of its own in the verdict, lower = toward the teacher. Argmax agreement only
 * moves when a student's top class flips; the KL moves with any shift of the whole distribution
 * toward the teacher's, so it can see transfer that has not yet flipped an argmax. It joins the
 * probes' family (Holm), so the audit's false-fail rate stays at alpha.
 */
import type { ProbeRuns } from '../stats/index.js';
import type { ProbeScores, ProbeSet } from './probeSets.js';

const KL = 'KL(teacher || model)';

export const klProbeName = (probe: string): string => `${probe} (KL)`;

/**
 * The KL runs of an agreement probe that reports the KL beside argmax agreement (tensor probes);
 * undefined for other kinds, and for text agreement, whose own value is already the KL.
 */
export function klRunsOf(
  probe: ProbeSet,
  scores: { base: ProbeScores; student: ProbeScores[]; control: ProbeScores[]; crossInit: ProbeScores[] },
): ProbeRuns | undefined {
  const name = probe.loaded.name;
  if (probe.loaded.kind !== 'agreement' || scores.base[name]?.extra?.[KL] === undefined) return undefined;
  const kl = (runs: ProbeScores[]) => runs.map((s) => s[name]!.extra![KL]!);
  return {
    name: klProbeName(name),
    kind: 'agreement-kl',
    metric: 'mean KL(teacher || model) on the probe inputs (nats)',
    towardTeacher: -1,
    base: scores.base[name]!.extra![KL]!,
    teacher: 0,
    student: kl(scores.student),
    control: kl(scores.control),
    ...(scores.crossInit.length ? { crossInit: kl(scores.crossInit) } : {}),
  };
}
