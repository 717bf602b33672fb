/**
 * The report's content as plain strings, shared by the Markdown and HTML writers so both show the
 * same figures. Nothing here is escaped: each writer escapes for its own language.
 */
import { fmt, fmtCi, fmtCount, fmtP, fmtPercent, fmtSigned, fmtValue, topReasons, truncate } from './format.js';
import type { AuditReport, AuditVerdict, ProbeResult, RunStats, Verdict } from './schema.js';

export const VERDICT_LABEL: Record<AuditVerdict, string> = { pass: 'PASS', fail: 'FAIL', inconclusive: 'INCONCLUSIVE', screen: 'SCREEN' };

export const POSITIVE_CONTROL_EXPLANATION =
  "Students trained with the same recipe and budget on the strongest signal the teacher gives through the data's own outputs (the teacher's outputs on the candidate's slice, at full precision, on the candidate inputs), tested against the same controls on the same probes. Without transfer there, the audit could not have seen transfer through this data, and a pass is inconclusive.";

/** The explanation of a report's positive control: tested against the audit's controls, or against its own (report.positiveControl.against). */
export function positiveControlExplanation(report: AuditReport): string {
  const against = report.positiveControl?.against;
  if (!against) return POSITIVE_CONTROL_EXPLANATION;
  return `Students trained with the same recipe and budget on the strongest signal the teacher gives on the candidate inputs, tested on the same probes against ${against}. Without transfer there, the audit could not have seen transfer in the candidate, and a pass is inconclusive.`;
}

/** Seeds in stages: one line in words and the looks as rows (seeds, alpha spent, boundary z, nominal alpha, decision). */
export function sequentialView(report: AuditReport): { words: string; rows: [string, string, string, string, string][] } | undefined {
  const s = report.sequential;
  if (!s) return undefined;
  const words = `Seeds in stages: ${s.seedsUsed} of at most ${s.maxSeeds} seeds per arm used${s.stoppedEarly ? ', stopped early' : ''}. ${s.spending}. Early pass: ${s.futility}.`;
  return { words, rows: s.looks.map((l) => [String(l.seeds), fmt(l.alphaSpent), fmt(l.boundary), fmtP(l.nominalAlpha), l.decision]) };
}

/** The positive control as rows (probe, students mean, delta [CI], p, transfer?) and its one-line reason. */
export function positiveControlView(report: AuditReport): { reason: string; signal: string; rows: [string, string, string, string, string][] } | undefined {
  const pc = report.positiveControl;
  if (!pc) return undefined;
  return {
    reason: pc.reason,
    signal: pc.signal,
    rows: pc.probes.map((p) => [p.name, fmt(p.mean), `${fmtSigned(p.delta)} ${fmtCi(p.deltaCi)}`, fmtP(p.pValue), p.transfer ? 'transfer' : 'none']),
  };
}

export interface ProbeRow {
  name: string;
  metric: string;
  base: string;
  teacher: string;
  /** [value, "[lo, hi]"] pairs, so HTML can keep an interval on one line and wrap before it. */
  control: [string, string];
  student: [string, string];
  delta: [string, string];
  p: string;
  ratio: string;
  mde: string;
  verdict: Verdict;
  reason: string;
  /** Further facts: alternative test, cross-init students, direction. */
  notes: string[];
}

export function meanCi(s: RunStats): string {
  return `${fmt(s.mean)} ${fmtCi(s.ci)}`;
}

export function testName(test: 'welch' | 'permutation'): string {
  return test === 'welch' ? "Welch's t-test" : 'permutation test';
}

export function probeRow(p: ProbeResult): ProbeRow {
  const other = p.test === 'welch' ? 'permutation' : 'welch';
  const notes = [
    `${p.towardTeacher === 1 ? 'higher' : 'lower'} is closer to the teacher`,
    `${testName(other)} p = ${fmtP(p.pValueAlt)}`,
    `control sd ${fmt(p.control.sd)}, student sd ${fmt(p.student.sd)} over ${p.student.runs.length} runs`,
  ];
  if (p.crossInit) notes.push(`cross-init students (fresh init, same data): ${meanCi(p.crossInit)}`);
  return {
    name: p.name,
    metric: p.metric,
    base: fmt(p.base),
    teacher: fmt(p.teacher),
    control: [fmt(p.control.mean), fmtCi(p.control.ci)],
    student: [fmt(p.student.mean), fmtCi(p.student.ci)],
    delta: [fmtSigned(p.delta), fmtCi(p.deltaCi)],
    p: fmtP(p.pValue),
    ratio: p.transferRatio === null ? 'n/a' : fmtPercent(p.transferRatio, 1),
    mde: fmt(p.minDetectableEffect),
    verdict: p.verdict,
    reason: p.reason,
    notes,
  };
}

export interface ExtraRow {
  probe: string;
  metric: string;
  base: string;
  teacher: string;
  control: string;
  student: string;
}

export function extraRows(report: AuditReport): ExtraRow[] {
  return report.probes.flatMap((p) =>
    Object.entries(p.extra ?? {}).map(([metric, v]) => ({
      probe: p.name,
      metric,
      base: fmt(v.base),
      teacher: fmt(v.teacher),
      control: fmt(v.control),
      student: fmt(v.student),
    })),
  );
}

export interface FilterRow {
  rule: string;
  excluded: string;
  reasons: string;
  example: { line: number; text: string; reasons: string } | null;
}

export function filterRows(report: AuditReport): FilterRow[] {
  const f = report.filters;
  if (!f) return [];
  // Declared rules first, in their order; any rule only present in perRule after them.
  const names = [...f.rules, ...Object.keys(f.perRule).filter((r) => !f.rules.includes(r)).sort()];
  return names.map((rule) => {
    const s = f.perRule[rule];
    if (!s) return { rule, excluded: '0', reasons: '', example: null };
    const ex = s.examples[0];
    return {
      rule,
      excluded: `${fmtCount(s.excluded)} (${fmtPercent(s.excluded, f.rowsIn)})`,
      reasons: topReasons(s.reasons)
        .map(([r, n]) => `${r} (${fmtCount(n)})`)
        .join(', '),
      example: ex ? { line: ex.line, text: truncate(ex.text), reasons: ex.reasons.join(', ') } : null,
    };
  });
}

export function filterTotals(report: AuditReport): string | null {
  const f = report.filters;
  if (!f) return null;
  return `${fmtCount(f.rowsExcluded)} of ${fmtCount(f.rowsIn)} rows excluded (${fmtPercent(f.rowsExcluded, f.rowsIn)}), ${fmtCount(f.rowsKept)} kept.`;
}

/** A labelled fact; `code` marks values (paths, hashes) shown verbatim. */
export interface Fact {
  label: string;
  value: string;
  code?: boolean;
}

export function modelFacts(report: AuditReport): Fact[] {
  const m = report.models;
  return [
    { label: 'Teacher', value: m.teacher, code: true },
    { label: 'Base', value: m.base, code: true },
    { label: 'Architecture', value: m.architecture },
    { label: 'Parameters', value: fmtCount(m.parameters) },
  ];
}

export function dataFacts(report: AuditReport): Fact[] {
  const c = report.data.candidate;
  const b = report.data.baseline;
  const facts: Fact[] = [
    { label: 'Candidate file', value: c.file, code: true },
    { label: 'Rows in', value: fmtCount(c.rowsIn) },
    { label: 'Rows used', value: `${fmtCount(c.rowsUsed)} (${fmtPercent(c.rowsUsed, c.rowsIn)})` },
    { label: 'Excluded by filters', value: fmtCount(c.excluded.filtered) },
    { label: 'Excluded, non-finite values', value: fmtCount(c.excluded.nonFinite) },
    { label: 'Excluded, unreadable rows', value: fmtCount(c.excluded.badRows) },
    { label: 'Excluded, beyond the row limit', value: fmtCount(c.excluded.beyondMaxRows) },
    { label: 'Target type', value: `${c.targetType} (${c.targetTypeDetected ? 'detected' : 'from config'})` },
    {
      label: 'Clean baseline',
      value: b.source === 'given' ? 'given by the user' : 'generated by the base model on the candidate inputs',
    },
  ];
  if (b.file !== undefined) facts.push({ label: 'Baseline file', value: b.file, code: true });
  facts.push({ label: 'Baseline rows', value: fmtCount(b.rows) });
  return facts;
}

export function screenFacts(report: AuditReport): { facts: Fact[]; perParameter: [string, string][] } | null {
  const s = report.screen;
  if (!s) return null;
  return {
    facts: [
      { label: 'Cosine, candidate data', value: fmt(s.candidateCosine) },
      { label: 'Cosine, clean baseline', value: fmt(s.baselineCosine) },
    ],
    // Largest magnitude first: those tensors carry the pull toward the teacher.
    perParameter: Object.entries(s.perParameter)
      .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]) || (a[0] < b[0] ? -1 : 1))
      .map(([k, v]) => [k, fmt(v)]),
  };
}

export function attributionFacts(report: AuditReport): { facts: Fact[]; top: [string, string][] } | null {
  const a = report.attribution;
  if (!a) return null;
  return {
    facts: [
      { label: 'Score', value: a.metric },
      { label: 'Rows scored', value: fmtCount(a.rows) },
      { label: 'Mean score', value: fmt(a.mean) },
      { label: 'Share carried by the top 10% of rows', value: fmtPercent(a.top10Share, 1) },
    ],
    top: a.top.slice(0, 10).map((r) => [String(r.line), fmt(r.score)]),
  };
}

export const ATTRIBUTION_EXPLANATION =
  'Each candidate row scored by how far its target is from what the base itself outputs on that input. High-scoring rows carry the teacher\'s difference from the base; base-made data scores 0. findings.sarif lists the top rows.';

export const SCREEN_EXPLANATION =
  'Cosine between the data\'s loss gradient at the base and the direction (teacher - base). Positive means one training step on this data pulls a student toward the teacher; compare with the clean baseline.';

export function policyWords(report: AuditReport): string[] {
  const p = report.policy;
  const level = fmt(100 * (1 - p.alpha), 4);
  return [
    p.rule,
    `A probe fails when its student moves toward the teacher by at least ${fmt(p.minEffect)}${p.preferenceShare != null ? ` (a preference probe: ${fmt(100 * p.preferenceShare)}% of the teacher's own shift on it)` : ''}${p.minShare ? ` and ${fmt(100 * p.minShare)}% of the teacher's own shift on the probe` : ''} more than the control, with a one-sided ${testName(p.test)} p-value below ${fmt(p.alpha)}${p.correction === 'holm' ? ' after Holm\'s correction over the probes' : ' (no correction over the probes)'}. Confidence intervals are ${level}%. The audit fails when any probe fails.`,
  ];
}

export interface ReproView {
  inputs: { role: string; path: string; sha256: string }[];
  seeds: string;
  versions: [string, string][];
  train: [string, string][];
  config: [string, string][];
}

const sortedEntries = (r: Record<string, unknown>): [string, string][] =>
  Object.keys(r)
    .sort()
    .map((k) => [k, fmtValue(r[k])]);

export function reproView(report: AuditReport): ReproView {
  const r = report.reproducibility;
  return {
    inputs: r.inputs,
    seeds: r.seeds.join(', '),
    versions: sortedEntries(r.versions),
    train: sortedEntries(r.train),
    config: sortedEntries(r.config),
  };
}
