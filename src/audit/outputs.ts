/**
 * Writes an audit's outputs: the reports (writers per format) and excluded.jsonl, the list of
 * every row not trained on with its reasons (nothing is dropped silently).
 */
import path from 'node:path';
import { writeReports, type RowFinding } from '../report/index.js';
import type { AuditReport } from '../report/schema.js';
import type { ReportFormat } from '../report/formats.js';
import { excludedLine, type ExcludedRow, type ExclusionKind } from '../data/excluded.js';
import { JsonlWriter } from '../data/jsonl-writer.js';

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

/** How loudly each kind of excluded row is raised as a SARIF finding. */
const FINDING_LEVEL: Record<ExclusionKind, RowFinding['level']> = {
  'bad-row': 'error',
  'non-finite': 'warning',
  filter: 'warning',
  'row-limit': 'warning',
  'empty-completion': 'warning',
  'no-completion-tokens': 'warning',
};

function excludedFindings(excluded: readonly ExcludedRow[]): RowFinding[] {
  return excluded.map((row) => ({
    file: row.file,
    line: row.line,
    ruleId: row.rules?.[0] ?? (row.kind === 'row-limit' ? 'excluded' : row.kind),
    message: row.reasons.join('; '),
    level: FINDING_LEVEL[row.kind],
  }));
}

export async function writeAuditOutputs(report: AuditReport, excluded: readonly ExcludedRow[], outDir: string, formats: readonly ReportFormat[]): Promise<string[]> {
  const written = await writeReports(report, outDir, findingsOf(excluded, report), formats);
  const excludedFile = path.join(outDir, 'excluded.jsonl');
  const out = new JsonlWriter(excludedFile);
  try {
    for (const row of excluded) await out.writeLine(excludedLine(row));
  } finally {
    await out.close();
  }
  return [...written, excludedFile];
}
