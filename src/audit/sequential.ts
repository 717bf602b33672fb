/**
 * Seeds in stages (group-sequential design, src/stats/sequential.ts): train the first look's
 * seeds, test at that look's nominal level, stop on a clear FAIL (the boundary) or a clear PASS
 * (futility, once the positive control has shown transfer), else train the next look's seeds.
 * Runs accumulate: a look's runs are the earlier looks' plus its own, and seeds are used in order
 * (seed, seed+1, ...), so the last look of a design that never stops early IS the fixed design.
 */
import type { AuditVerdict, PositiveControl, ProbeResult, SequentialSummary, Verdict } from '../report/schema.js';
import { FUTILITY_RULE, futile, groupSequentialBoundaries, looksFor, SPENDING, type Policy, type ProbeRuns } from '../stats/index.js';

export interface Evaluation {
  probes: ProbeResult[];
  probeRuns: ProbeRuns[];
  positiveControl: PositiveControl | undefined;
  probeVerdict: Verdict;
  verdict: AuditVerdict;
}

export interface StagedResult {
  evaluation: Evaluation;
  seedsUsed: number[];
  sequential: SequentialSummary | undefined;
}

/** Cumulative seeds per look: one look (the fixed design) unless sequential with firstSeeds < seeds. */
export function looksOf(train: { seeds: number; sequential: boolean; firstSeeds: number }): number[] {
  return train.sequential ? looksFor(train.firstSeeds, train.seeds) : [train.seeds];
}

export async function runInStages(
  seeds: readonly number[],
  looks: readonly number[],
  policy: Policy,
  trainSeeds: (seeds: readonly number[]) => Promise<void>,
  evaluate: (alpha: number) => Evaluation,
): Promise<StagedResult> {
  const boundaries = groupSequentialBoundaries(policy.alpha, looks);
  const decisions: SequentialSummary['looks'] = [];
  let trained = 0;
  for (let k = 0; k < boundaries.length; k++) {
    const look = boundaries[k]!;
    await trainSeeds(seeds.slice(trained, look.seeds));
    trained = look.seeds;
    const evaluation = evaluate(look.nominalAlpha);
    const last = k === boundaries.length - 1;
    const decision: 'fail' | 'pass' | 'continue' = last
      ? evaluation.probeVerdict
      : evaluation.probeVerdict === 'fail'
        ? 'fail'
        : futile(evaluation.probeRuns, policy) && (evaluation.positiveControl?.detected ?? true)
          ? 'pass'
          : 'continue';
    decisions.push({ ...look, decision });
    if (decision !== 'continue') {
      const sequential: SequentialSummary | undefined =
        boundaries.length > 1 ? { spending: SPENDING, futility: FUTILITY_RULE, maxSeeds: looks.at(-1)!, seedsUsed: trained, stoppedEarly: !last, looks: decisions } : undefined;
      return { evaluation, seedsUsed: seeds.slice(0, trained), sequential };
    }
  }
  throw new Error('unreachable: the last look always decides');
}
