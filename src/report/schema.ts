/**
 * report.json: the audit's versioned result. Everything a pipeline acts on is here; the
 * Markdown, HTML, JUnit and SARIF writers only render it. Bump REPORT_SCHEMA_VERSION on any
 * breaking change (docs/report.schema.json documents it).
 */
export const REPORT_SCHEMA_VERSION = '1.0.0';

import type { ProbeResult, RunStats, Verdict } from '../stats/result.js';

/**
 * The audit's verdict: a probe passes or fails; the audit is also `inconclusive` when it passed
 * but its positive control showed it could not have detected transfer (see PositiveControl);
 * `screen` for a screen-only run (`audit-dataset screen`: no training, no verdict on the data).
 */
export type AuditVerdict = Verdict | 'inconclusive' | 'screen';

// The per-probe result shapes are made by src/stats (which sits below report): defined there.
export type { ProbeResult, RunStats, Verdict };

export interface FilterRuleSummary {
  excluded: number;
  reasons: Record<string, number>;
  examples: { line: number; text: string; reasons: string[] }[];
}

export interface FilterSummary {
  rules: string[];
  rowsIn: number;
  rowsKept: number;
  rowsExcluded: number;
  perRule: Record<string, FilterRuleSummary>;
}

export interface DataSummary {
  candidate: {
    file: string;
    rowsIn: number;
    rowsUsed: number;
    /** Every row not used, by why. Rows are listed in excluded.jsonl beside the report. */
    excluded: { filtered: number; nonFinite: number; badRows: number; beyondMaxRows: number };
    targetType: 'probs' | 'logits';
    targetTypeDetected: boolean;
  };
  baseline: { source: 'given' | 'generated-by-base'; file?: string; rows: number };
}

/** First-order screen (the theorem): cosine between the data's loss gradient at the base and (teacher - base). */
export interface GradientScreen {
  candidateCosine: number;
  baselineCosine: number;
  /** Per-parameter-tensor cosines for the candidate data. */
  perParameter: Record<string, number>;
}

/**
 * Which candidate rows carry the signal: each row scored by how far the teacher's target is from
 * what the base itself outputs on that input. Base-made data scores 0 everywhere.
 */
export interface RowAttribution {
  metric: string;
  rows: number;
  mean: number;
  /** Share of the summed score carried by the top 10% of rows (0.1 when spread evenly). */
  top10Share: number;
  /** Highest-scoring rows, source line and score, highest first (at most 20). */
  top: { line: number; score: number }[];
}

/**
 * Students trained with the audit's recipe on the strongest signal the teacher gives on the
 * candidate's inputs, tested against the same controls on the same probes: can this audit see
 * transfer at all?
 */
export interface PositiveControl {
  /** What the positive-control students learned. */
  signal: string;
  /** Some probe moved toward the teacher significantly (it would FAIL the gate). */
  detected: boolean;
  probes: { name: string; mean: number; runs: number[]; delta: number; deltaCi: [number, number]; pValue: number; transfer: boolean }[];
  /** One line in plain words. */
  reason: string;
}

/** Seeds in stages: the looks taken, their boundaries and what each decided. */
export interface SequentialSummary {
  /** The alpha-spending function, in words. */
  spending: string;
  /** The early-pass (futility) rule, in words. */
  futility: string;
  maxSeeds: number;
  seedsUsed: number;
  stoppedEarly: boolean;
  looks: {
    seeds: number;
    fraction: number;
    alphaSpent: number;
    /** Critical value of the cumulative z-statistic. */
    boundary: number;
    /** A probe fails at this look when its (Holm-adjusted) one-sided p is below this. */
    nominalAlpha: number;
    decision: 'fail' | 'pass' | 'continue';
  }[];
}

export interface AuditReport {
  schemaVersion: string;
  tool: { name: 'audit-dataset'; version: string };
  /** `screen`: a screen-only run (filters, row attribution, gradient screen; no probes trained). Absent for a full audit. */
  mode?: 'screen';
  verdict: AuditVerdict;
  /** One line: what was found. */
  summary: string;
  models: { teacher: string; base: string; architecture: string; parameters: number };
  filters: FilterSummary | null;
  data: DataSummary;
  probes: ProbeResult[];
  screen?: GradientScreen;
  attribution?: RowAttribution;
  positiveControl?: PositiveControl;
  sequential?: SequentialSummary;
  policy: { alpha: number; minEffect: number; test: 'welch' | 'permutation'; correction: 'holm' | 'none'; onInconclusive?: 'fail' | 'pass'; rule: string };
  reproducibility: {
    inputs: { role: string; path: string; sha256: string }[];
    seeds: number[];
    versions: Record<string, string>;
    train: Record<string, unknown>;
    config: Record<string, unknown>;
  };
  /** Wall-clock facts: the only part that differs between two runs with the same seeds. */
  run: {
    startedAt: string;
    durationMs: number;
    trainingMs: number;
    steps: number;
    /** Probe runs trained at once (train.workers resolved); results do not depend on it. */
    workers?: number;
  };
}
