/**
 * Writes an audit's outputs: the reports (writers per format) and excluded.jsonl, the list of
 * every row not trained on with its reasons (nothing is dropped silently).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { writeReports, type RowFinding } from '../report/index.js';
import type { AuditReport } from '../report/schema.js';
import type { ReportFormat } from '../config/schema.js';
import type { ExcludedRow } from './tensorData.js';

export function findingsOf(excluded: readonly ExcludedRow[], report?: AuditReport): RowFinding[] {
  const attributed: RowFinding[] = (report?.attribution?.top ?? []).map((row, rank) => ({
    file: report!.data.candidate.file,
    line: row.line,
    ruleId: 'attributed-row',
    message: `rank ${rank + 1} of ${report!.attribution!.rows} rows by ${report!.attribution!.metric}: ${row.score.toPrecision(3)}`,
    level: 'note',
  }));
  return [...excludedFindings(excluded), ...attributed];
}

function excludedFindings(excluded: readonly ExcludedRow[]): RowFinding[] {
  return excluded.map((row) => ({
    file: row.file,
    line: row.line,
    ruleId: row.rules?.[0] ?? (row.reasons[0]!.startsWith('bad row') ? 'bad-row' : row.reasons[0]!.startsWith('non-finite') ? 'non-finite' : 'excluded'),
    message: row.reasons.join('; '),
    level: row.reasons[0]!.startsWith('bad row') ? 'error' : 'warning',
  }));
}

export async function writeAuditOutputs(report: AuditReport, excluded: readonly ExcludedRow[], outDir: string, formats: readonly ReportFormat[]): Promise<string[]> {
  const written = await writeReports(report, outDir, findingsOf(excluded, report), formats);
  await mkdir(outDir, { recursive: true });
  const excludedFile = path.join(outDir, 'excluded.jsonl');
  await writeFile(excludedFile, excluded.map((r) => JSON.stringify({ file: r.file, line: r.line, reasons: r.reasons, ...(r.rules ? { rules: r.rules } : {}) })).join('\n') + (excluded.length ? '\n' : ''));
  return [...written, excludedFile];
}
