/**
 * report.json: the audit's versioned result. Everything a pipeline acts on is here; the
 * Markdown, HTML, JUnit and SARIF writers only render it. Bump REPORT_SCHEMA_VERSION on any
 * breaking change (docs/report.schema.json documents it).
 */
export const REPORT_SCHEMA_VERSION = '1.0.0';

import type { ProbeResult, RunStats, Verdict } from '../stats/result.js';

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
    /** Text tasks add emptyCompletion and noCompletionTokens (prompt fills maxLength, or the completion adds no token). */
    excluded: { filtered: number; nonFinite: number; badRows: number; beyondMaxRows: number; emptyCompletion?: number; noCompletionTokens?: number };
    /** probs | logits (logits tasks); tokens | logprobs (text tasks). */
    targetType: 'probs' | 'logits' | 'tokens' | 'logprobs';
    targetTypeDetected: boolean;
    /** Text tasks: the training length, rows cut to it, rows whose prompt boundary did not align, loss-bearing tokens. */
    text?: { maxLength: number; truncated: number; misaligned: number; lossTokens: number };
  };
  /** A generated text baseline is sampled per control seed: rows is the fewest, rowsPerSeed each seed's. */
  baseline: { source: 'given' | 'generated-by-base'; file?: string; rows: number; rowsPerSeed?: number[]; generate?: { temperature: number; topP: number; maxNewTokens: number } };
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

export interface AuditReport {
  schemaVersion: string;
  tool: { name: 'audit-dataset'; version: string };
  verdict: Verdict;
  /** One line: what was found. */
  summary: string;
  models: { teacher: string; base: string; architecture: string; parameters: number };
  filters: FilterSummary | null;
  data: DataSummary;
  probes: ProbeResult[];
  screen?: GradientScreen;
  attribution?: RowAttribution;
  policy: { alpha: number; minEffect: number; test: 'welch' | 'permutation'; correction: 'holm' | 'none'; rule: string };
  reproducibility: {
    inputs: { role: string; path: string; sha256: string }[];
    seeds: number[];
    versions: Record<string, string>;
    train: Record<string, unknown>;
    config: Record<string, unknown>;
  };
  /** Wall-clock facts: the only part that differs between two runs with the same seeds. */
  run: { startedAt: string; durationMs: number; trainingMs: number; steps: number };
}
