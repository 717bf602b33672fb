/** `audit-dataset filter`: run content filters over a dataset, write kept/excluded rows and a report. */
import { AuditInputError } from '../errors.js';
import { DEFAULT_MAX_ROW_CHARS } from '../filters/engine.js';
import { DEFAULT_RULES, filterFile, type FilterFileReport } from '../filters/filter-file.js';
import type { Command } from './command.js';

interface FilterArgs {
  data: string;
  rules: string;
  field?: string;
  'prompt-field'?: string;
  'skip-bad-rows': boolean;
  'numeric-columns'?: string;
  'max-row-chars'?: number;
  out: string;
  json: boolean;
}

export const filterCommand: Command<FilterArgs> = {
  command: 'filter',
  describe: 'Run content filters (number format, banned numbers, PII, keywords, dedup...) over a dataset',
  builder: (y) =>
    y
      .option('data', { type: 'string', demandOption: true, describe: 'Dataset: .jsonl/.ndjson, .csv, .parquet or .json' })
      .option('rules', { type: 'string', default: DEFAULT_RULES, describe: 'Rule packs by name (rules/filters/*.yaml) or path, comma-separated' })
      .option('field', { type: 'string', describe: "Field holding the text to check (default 'completion', or the last assistant message)" })
      .option('prompt-field', { type: 'string', describe: "Field holding the prompt (default 'prompt')" })
      .option('skip-bad-rows', { type: 'boolean', default: false, describe: 'Exclude unreadable rows (counted) instead of failing' })
      .option('numeric-columns', { type: 'string', describe: "CSV: columns whose numeric cells become numbers ('*' = all)" })
      .option('max-row-chars', { type: 'number', describe: `Rows whose text is longer are excluded (counted as too long) before any rule runs (default ${DEFAULT_MAX_ROW_CHARS})` })
      .option('out', { type: 'string', demandOption: true, describe: 'Output directory: kept.jsonl, excluded.jsonl, filter-report.json' })
      .option('json', { type: 'boolean', default: false, describe: 'Print filter-report.json on stdout instead of the table' })
      .example('$0 filter --data candidate.jsonl --rules numbers,banned-numbers --out out/filtered', "the study's number-sequence filters; kept rows in out/filtered/kept.jsonl")
      .example('$0 filter --data chats.jsonl --rules pii,misalignment-keywords --field completion --out out/f --json', 'other packs on a chosen field, the report as JSON') as never,
  handler: async (args) => {
    if (!args.data) throw new AuditInputError('--data: give a dataset file');
    const numeric = args['numeric-columns'];
    const maxRowChars = args['max-row-chars'];
    if (maxRowChars !== undefined && !(Number.isSafeInteger(maxRowChars) && maxRowChars >= 1)) throw new AuditInputError(`--max-row-chars: ${maxRowChars} is not a positive integer`);
    const { report } = await filterFile(args.data, args.rules, {
      ...(args.field ? { field: args.field } : {}),
      ...(args['prompt-field'] ? { promptField: args['prompt-field'] } : {}),
      skipBadRows: args['skip-bad-rows'],
      outDir: args.out,
      ...(maxRowChars !== undefined ? { maxRowChars } : {}),
      ...(numeric ? { numericColumns: numeric === '*' ? '*' : numeric.split(',').map((s) => s.trim()) } : {}),
    });
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : renderFilterTable(report));
    return 0;
  },
};

/** The short summary printed after a run: totals, then one line per rule with its top reasons. */
export function renderFilterTable(report: FilterFileReport): string {
  const pct = (n: number) => (report.rowsIn === 0 ? '0.0' : ((100 * n) / report.rowsIn).toFixed(1));
  const lines = [
    `rows in ${report.rowsIn}, kept ${report.rowsKept} (${pct(report.rowsKept)}%), excluded ${report.rowsExcluded} (${pct(report.rowsExcluded)}%)` +
      (report.badRows > 0 ? `, bad rows ${report.badRows}` : '') +
      (report.rowsTooLong > 0 ? `, too long ${report.rowsTooLong} (> ${report.maxRowChars} chars)` : '') +
      (report.blankLines > 0 ? `, blank lines skipped ${report.blankLines}` : ''),
    '',
  ];
  const rows: [string, string, string][] = [['rule', 'excluded', 'top reasons']];
  for (const [name, s] of Object.entries(report.perRule)) {
    const top = Object.entries(s.reasons)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([r, n]) => `${r} (${n})`)
      .join(', ');
    rows.push([name, String(s.excluded), top || '-']);
  }
  if (report.badRows > 0) rows.push(['(bad rows)', String(report.badRows), report.badRowExamples[0] ? `first at line ${report.badRowExamples[0].line}: ${report.badRowExamples[0].reason}` : '-']);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  for (const [a, b, c] of rows) lines.push(`${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
  return `${lines.join('\n')}\n`;
}
