/**
 * The filter engine: streams rows (or batches of rows) through rules, sends each row to the kept or excluded sink as it
 * goes, and counts. Invariant: rowsKept + rowsExcluded === rowsIn (bad rows count as excluded).
 */
import { AuditInputError } from '../errors.js';
import type { ProgressListener } from '../events.js';
import { completionOf, type TextFields } from '../data/text.js';
import type { ExcludedRow } from '../data/excluded.js';
import { isBadRow, type BadRow, type Row, type RowOrBad } from '../data/types.js';
import type { Rule, RuleKind } from './rule.js';

export interface RuleExample {
  line: number;
  text: string;
  reasons: string[];
}

export interface RuleStats {
  kind: RuleKind;
  excluded: number;
  reasons: Record<string, number>;
  examples: RuleExample[];
}

export interface FilterReport {
  file?: string;
  field: string;
  rules: { name: string; kind: RuleKind }[];
  rowsIn: number;
  rowsKept: number;
  rowsExcluded: number;
  badRows: number;
  /** Rows excluded because their text is longer than `maxRowChars` (no rule ran on them). */
  rowsTooLong: number;
  maxRowChars: number;
  perRule: Record<string, RuleStats>;
  /** First bad rows (line and reason), when skipped. */
  badRowExamples: { line: number; reason: string }[];
}

export type { ExcludedRow };

export type Sink<T> = (item: T) => void | Promise<void> | undefined;

export interface FilterOptions {
  /** Names the source in errors and the report. */
  file?: string;
  fields?: TextFields;
  /** A row whose text cannot be found becomes an excluded bad row instead of an error. */
  skipBadRows?: boolean;
  onKept?: Sink<Row>;
  onExcluded?: Sink<ExcludedRow>;
  onProgress?: ProgressListener;
  /** Examples kept per rule (default 5). */
  maxExamples?: number;
  /** Rows whose text is longer are excluded, counted as too long, before any rule runs (default 1 MiB of characters). */
  maxRowChars?: number;
}

/** 1 MiB of characters: far above any training row, small enough that every rule stays fast on it. */
export const DEFAULT_MAX_ROW_CHARS = 1 << 20;

const EXAMPLE_CHARS = 200;
const PROGRESS_EVERY = 100_000;

export async function runFilters(
  rows: AsyncIterable<RowOrBad | RowOrBad[]> | Iterable<RowOrBad | RowOrBad[]>, rules: Rule[], opts: FilterOptions = {}): Promise<FilterReport> {
  const file = opts.file ?? '<rows>';
  const fields = opts.fields ?? {};
  const maxExamples = opts.maxExamples ?? 5;
  const maxRowChars = opts.maxRowChars ?? DEFAULT_MAX_ROW_CHARS;
  const stateless = rules.filter((r) => !r.stateful);
  const stateful = rules.filter((r) => r.stateful);
  const report: FilterReport = {
    ...(opts.file ? { file: opts.file } : {}),
    field: fields.field ?? 'completion',
    rules: rules.map((r) => ({ name: r.name, kind: r.kind })),
    rowsIn: 0,
    rowsKept: 0,
    rowsExcluded: 0,
    badRows: 0,
    rowsTooLong: 0,
    maxRowChars,
    perRule: {},
    badRowExamples: [],
  };
  const stats: RuleStats[] = rules.map((r) => {
    const s: RuleStats = { kind: r.kind, excluded: 0, reasons: {}, examples: [] };
    report.perRule[r.name] = s;
    return s;
  });
  const statsOf = new Map(rules.map((r, i) => [r, stats[i]!]));
  const { onKept, onExcluded, onProgress } = opts;

  const excludeBad = (bad: BadRow): Promise<void> | void | undefined => {
    report.badRows++;
    report.rowsExcluded++;
    if (report.badRowExamples.length < 20) report.badRowExamples.push({ line: bad.line, reason: bad.reason });
    return onExcluded?.({ file, line: bad.line, kind: 'bad-row', reasons: [`bad row: ${bad.reason}`], bad });
  };

  /** One row through the rules; returns a promise only when a sink must be awaited. */
  const handle = (item: RowOrBad): Promise<void> | void | undefined => {
    report.rowsIn++;
    if (onProgress && report.rowsIn % PROGRESS_EVERY === 0) {
      onProgress({ kind: 'progress', stage: 'filter', done: report.rowsIn, total: 0, message: `${report.rowsIn} rows` });
    }
    if (isBadRow(item)) return excludeBad(item);
    let text: string;
    try {
      text = completionOf(item, fields, file);
    } catch (e) {
      if (!opts.skipBadRows || !(e instanceof AuditInputError)) throw e;
      return excludeBad({ bad: true, line: item.line, reason: e.message.replace(/^.*?:\d+: /, ''), raw: item.raw ?? JSON.stringify(item.value) });
    }
    if (text.length > maxRowChars) {
      report.rowsTooLong++;
      report.rowsExcluded++;
      return onExcluded?.({ file, line: item.line, kind: 'too-long', reasons: [`too long: ${text.length} characters (maxRowChars ${maxRowChars})`], row: item });
    }
    // Stateless rules all run (every reason is reported); stateful ones only on rows still kept.
    let reasons: string[] | null = null;
    let hitRules: string[] | null = null;
    for (let r = 0; r < stateless.length; r++) {
      const rule = stateless[r]!;
      const found = rule.check(text, item);
      if (found.length === 0) continue;
      record(statsOf.get(rule)!, item.line, text, found, maxExamples);
      (reasons ??= []).push(...found);
      (hitRules ??= []).push(rule.name);
    }
    if (reasons === null) {
      for (const rule of stateful) {
        const found = rule.check(text, item);
        if (found.length === 0) continue;
        record(statsOf.get(rule)!, item.line, text, found, maxExamples);
        reasons = [...found];
        hitRules = [rule.name];
        break;
      }
    }
    if (reasons === null) {
      report.rowsKept++;
      return onKept?.(item);
    }
    report.rowsExcluded++;
    return onExcluded?.({ file, line: item.line, kind: 'filter', reasons, rules: hitRules!, row: item });
  };

  // Sources may yield rows or batches of rows (a batch is looped without an await per row).
  for await (const entry of rows as AsyncIterable<RowOrBad | RowOrBad[]>) {
    if (Array.isArray(entry)) {
      for (let i = 0; i < entry.length; i++) {
        const p = handle(entry[i]!);
        if (p) await p;
      }
    } else {
      const p = handle(entry);
      if (p) await p;
    }
  }
  return report;
}

function record(s: RuleStats, line: number, text: string, found: readonly string[], maxExamples: number): void {
  s.excluded++;
  for (const reason of found) s.reasons[reason] = (s.reasons[reason] ?? 0) + 1;
  if (s.examples.length < maxExamples) {
    s.examples.push({ line, text: text.length > EXAMPLE_CHARS ? `${text.slice(0, EXAMPLE_CHARS)}…` : text, reasons: [...found] });
  }
}
