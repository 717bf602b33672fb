/**
 * Writes an audit's outputs: the reports (writers per format) and excluded.jsonl, the list of
 * every row not trained on with its reasons (nothing is dropped silently).
 */
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { ensureDir, fsError, lockDir } from '../data/output-dir.js';
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
  'too-long': 'warning',
  'empty-completion': 'warning',
  'no-completion-tokens': 'warning',
  'logprobs-malformed': 'warning',
  'logprobs-misaligned': 'warning',
  'logprobs-unknown-token': 'warning',
  'logprobs-invalid-value': 'warning',
  'logprobs-duplicate-token': 'warning',
  'logprobs-bad-k': 'warning',
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

/**
 * Every output is first written into a staging folder inside outDir, then renamed into place: a run
 * that fails while writing leaves the previous set of files, never a mix of old and new.
 */
export async function writeAuditOutputs(report: AuditReport, excluded: readonly ExcludedRow[], outDir: string, formats: readonly ReportFormat[]): Promise<string[]> {
  await ensureDir(outDir);
  const staging = path.join(outDir, `.staging-${process.pid}-${Date.now().toString(36)}`);
  try {
    const written = await writeReports(report, staging, findingsOf(excluded, report), formats);
    const excludedFile = path.join(staging, 'excluded.jsonl');
    const out = new JsonlWriter(excludedFile);
    try {
      for (const row of excluded) await out.writeLine(excludedLine(row));
    } finally {
      await out.close();
    }
    const finals: string[] = [];
    for (const file of [...written, excludedFile]) {
      const final = path.join(outDir, path.basename(file));
      await rename(file, final);
      finals.push(final);
    }
    return finals;
  } catch (e) {
    throw fsError(e, outDir, 'write the reports');
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Keeps other audits out of `outDir` until the returned release is called (see lockDir). */
export const lockOutDir = lockDir;
