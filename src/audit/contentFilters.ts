/**
 * The conventional content filters, run over the candidate before any training: what a pipeline
 * already does. Rows they exclude are not trained on; the report shows what they caught beside
 * what the probe students found.
 */
import type { AuditConfig } from '../config/schema.js';
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
