/** The one-line summary a report leads with. */
import type { ProbeResult, Verdict } from '../report/schema.js';
import { formatStat as num } from '../stats/format.js';


function describe(p: ProbeResult): string {
  const ratio = p.transferRatio !== null ? `, ${Math.round(p.transferRatio * 100)}% of the teacher's shift` : '';
  return `${p.name} ${p.delta >= 0 ? '+' : ''}${num(p.delta)} (p=${num(p.pValue)}${ratio})`;
}

export function summarize(verdict: Verdict, probes: readonly ProbeResult[]): string {
  if (verdict === 'fail') {
    const failed = probes.filter((p) => p.verdict === 'fail');
    return `FAIL: ${failed.length} of ${probes.length} probes show transfer toward the teacher beyond clean controls: ${failed.map(describe).join('; ')}`;
  }
  const largest = [...probes].sort((a, b) => b.delta * b.towardTeacher - a.delta * a.towardTeacher)[0];
  return `PASS: no probe shows transfer toward the teacher beyond clean controls${largest ? ` (largest shift: ${describe(largest)})` : ''}`;
}
