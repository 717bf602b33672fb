/** Filter a dataset file in-process: read, run rules, optionally write kept/excluded JSONL + report. */
import { excludedLine } from '../data/excluded.js';
import { JsonlWriter } from '../data/jsonl-writer.js';
import { ensureDir, fsError, refuseInputInOutputs, StagedFiles } from '../data/output-dir.js';
import { readItemBatches } from '../data/read.js';
import type { TextFields } from '../data/text.js';
import { newReadStats, type ReadOptions, type ReadStats, type Row } from '../data/types.js';
import { runFilters, type ExcludedRow, type FilterOptions, type FilterReport, type Sink } from './engine.js';
import { loadRules } from './packs.js';
import type { Rule } from './rule.js';

export const DEFAULT_RULES = 'numbers,banned-numbers';
/** The files `filter` writes into its output folder. */
export const FILTER_OUTPUTS = ['kept.jsonl', 'excluded.jsonl', 'filter-report.json'];

/** The engine's options that pass straight through, plus where the results go. */
export interface FilterFileOptions extends TextFields, Pick<FilterOptions, 'skipBadRows' | 'onKept' | 'onExcluded' | 'onProgress' | 'maxRowChars'> {
  /** Write DIR/kept.jsonl, DIR/excluded.jsonl and DIR/filter-report.json. */
  outDir?: string;
  /** Collect kept rows in memory (returned as `kept`). */
  collectKept?: boolean;
  /** CSV reading options. */
  numericColumns?: ReadOptions['numericColumns'];
}

export interface FilterFileReport extends FilterReport {
  blankLines: number;
}

export interface FilterOutcome {
  report: FilterFileReport;
  kept: Row[];
}

/** `ruleSpecs`: pack names / paths (`'numbers,banned-numbers'`, `'my-pack.yaml'`) or built rules. */
export async function filterFile(path: string, ruleSpecs: string | string[] | Rule[] = DEFAULT_RULES, opts: FilterFileOptions = {}): Promise<FilterOutcome> {
  const rules = isRuleList(ruleSpecs) ? ruleSpecs : await loadRules(ruleSpecs);
  const fields: TextFields = {
    ...(opts.field ? { field: opts.field } : {}),
    ...(opts.promptField ? { promptField: opts.promptField } : {}),
    ...(opts.messagesField ? { messagesField: opts.messagesField } : {}),
  };
  const stats: ReadStats = newReadStats();
  // Text fields stay verbatim in CSV ("[1, 2, 3]" is a completion, not an array).
  const stringColumns = [fields.field ?? 'completion', fields.promptField ?? 'prompt'];
  const items = readItemBatches(path, { skipBadRows: opts.skipBadRows, stats, stringColumns, numericColumns: opts.numericColumns });
  const kept: Row[] = [];
  let keptOut: JsonlWriter | null = null;
  let excludedOut: JsonlWriter | null = null;
  // Outputs are written under temporary names and renamed when all are complete: a failed run
  // leaves the folder as it was, never a half-written kept.jsonl beside an old report.
  const staged = opts.outDir ? new StagedFiles(opts.outDir) : null;
  if (opts.outDir && staged) {
    refuseInputInOutputs([path], opts.outDir, FILTER_OUTPUTS);
    await ensureDir(opts.outDir);
    keptOut = new JsonlWriter(staged.path('kept.jsonl'));
    excludedOut = new JsonlWriter(staged.path('excluded.jsonl'));
  }
  const onKept: Sink<Row> = (row) => {
    if (opts.collectKept) kept.push(row);
    const p = keptOut?.writeLine(row.raw ?? JSON.stringify(row.value));
    const q = opts.onKept?.(row);
    return p && q ? Promise.all([p, q]).then(() => undefined) : (p ?? q);
  };
  const onExcluded: Sink<ExcludedRow> = (ex) => {
    const p = excludedOut?.writeLine(excludedLine(ex));
    const q = opts.onExcluded?.(ex);
    return p && q ? Promise.all([p, q]).then(() => undefined) : (p ?? q);
  };
  let full: FilterFileReport;
  try {
    let report: FilterReport;
    try {
      report = await runFilters(items, rules, { file: path, fields, skipBadRows: opts.skipBadRows, onKept, onExcluded, onProgress: opts.onProgress, ...(opts.maxRowChars !== undefined ? { maxRowChars: opts.maxRowChars } : {}) });
    } finally {
      await Promise.all([keptOut?.close(), excludedOut?.close()]);
    }
    full = { ...report, blankLines: stats.blankLines };
    if (staged) {
      await staged.write('filter-report.json', `${JSON.stringify(full, null, 2)}\n`);
      await staged.commit();
    }
  } catch (e) {
    await staged?.discard();
    throw opts.outDir ? fsError(e, opts.outDir, 'write the outputs') : e;
  }
  return { report: full, kept };
}

function isRuleList(x: string | string[] | Rule[]): x is Rule[] {
  return Array.isArray(x) && x.length > 0 && typeof x[0] === 'object';
}
