/**
 * The conventional content filters, run over the candidate before any training: what a pipeline
 * already does. Rows they exclude are not trained on; the report shows what they caught beside
 * what the probe students found.
 */
import path from 'node:path';
import type { AuditConfig, TextAuditConfig } from '../config/schema.js';
import { readItems } from '../data/read.js';
import type { Row, RowOrBad } from '../data/types.js';
import type { ProgressListener } from '../events.js';
import { filterFile } from '../filters/filter-file.js';
import type { FilterSummary } from '../report/schema.js';

export interface ContentFiltering {
  summary: FilterSummary;
  /** Source line -> reasons, for every excluded row. */
  excludedReasons: Map<number, string[]>;
  /** Source line -> names of the rules that excluded it. */
  excludedRules: Map<number, string[]>;
}

export async function runContentFilters(config: AuditConfig): Promise<ContentFiltering> {
  const excludedReasons = new Map<number, string[]>();
  const excludedRules = new Map<number, string[]>();
  const { report } = await filterFile(config.data, config.filters, {
    ...(config.filterField ? { field: config.filterField } : {}),
    skipBadRows: config.skipBadRows,
    ...(config.maxRowChars !== undefined ? { maxRowChars: config.maxRowChars } : {}),
    onExcluded: (row) => {
      // Bad rows are counted by the tensor reader under their own kind.
      // Rows too long to check are excluded like filtered ones: never trained on unchecked.
      if (row.kind !== 'filter' && row.kind !== 'too-long') return;
      excludedReasons.set(row.line, row.reasons);
      excludedRules.set(row.line, row.rules ?? []);
    },
  });
  return {
    summary: {
      rules: report.rules.map((r) => r.name),
      rowsIn: report.rowsIn,
      rowsKept: report.rowsKept,
      rowsExcluded: report.rowsExcluded,
      perRule: Object.fromEntries(Object.entries(report.perRule).map(([name, s]) => [name, { excluded: s.excluded, reasons: s.reasons, examples: s.examples }])),
    },
    excludedReasons,
    excludedRules,
  };
}

/** Reader option: the filters' reasons and rules for a line they excluded. */
export type FilterScreen = (row: Row) => { reasons: string[]; rules: string[] } | undefined;

/** A text audit's candidate after the content filters, and what its other datasets are read with. */
export interface FilteredTextCandidate {
  filtering: ContentFiltering | null;
  /** The fields the filters read (also on the base's generated baseline). */
  filterFields: { field: string; promptField: string; messagesField: string };
  /** Reads a text dataset (prompt and completion columns kept as strings). */
  read: (file: string) => AsyncGenerator<RowOrBad>;
  /** Spread into the candidate reader's options: `screen` when filters ran. */
  screening: { screen?: FilterScreen };
}

/** Text audits (local or service): runs the content filters over the candidate, with their stage events. */
export async function filterTextCandidate(config: TextAuditConfig, emit: ProgressListener): Promise<FilteredTextCandidate> {
  const filterFields = { field: config.filterField ?? config.task.completion, promptField: config.task.prompt, messagesField: config.task.messages };
  const stringColumns = [config.task.prompt, config.task.completion];
  emit({ kind: 'stage', stage: 'filters', message: config.filters.length ? `content filters: ${config.filters.join(', ')}` : 'no content filters configured' });
  const filtering = config.filters.length ? await runContentFilters({ ...config, filterField: filterFields.field }) : null;
  emit({ kind: 'stage', stage: 'data', message: `reading ${path.basename(config.data)}` });
  const screen: FilterScreen | undefined = filtering
    ? (row) => {
        const reasons = filtering.excludedReasons.get(row.line);
        return reasons ? { reasons, rules: filtering.excludedRules.get(row.line) ?? [] } : undefined;
      }
    : undefined;
  return {
    filtering,
    filterFields,
    read: (file) => readItems(file, { skipBadRows: config.skipBadRows, stringColumns }),
    screening: screen ? { screen } : {},
  };
}
