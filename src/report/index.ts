/** The report writers, and writeReports() that puts every format into one folder. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditInputError } from '../errors.js';
import type { RowFinding } from './findings.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { renderSarif } from './sarif.js';
import type { AuditReport } from './schema.js';

export type ReportFormat = 'json' | 'md' | 'html' | 'junit' | 'sarif';

export const REPORT_FORMATS: readonly ReportFormat[] = ['json', 'md', 'html', 'junit', 'sarif'];

/** File name of each format inside the output folder. */
export const REPORT_FILES: Record<ReportFormat, string> = {
  json: 'report.json',
  md: 'report.md',
  html: 'report.html',
  junit: 'junit.xml',
  sarif: 'findings.sarif',
};

function render(format: ReportFormat, report: AuditReport, findings: RowFinding[]): string {
  switch (format) {
    case 'json':
      return renderJson(report);
    case 'md':
      return renderMarkdown(report);
    case 'html':
      return renderHtml(report);
    case 'junit':
      return renderJunit(report);
    case 'sarif':
      return renderSarif(report, findings);
  }
}

/** Writes the chosen formats into outDir (created if missing); returns the paths written, in format order. */
export async function writeReports(
  report: AuditReport,
  outDir: string,
  findings: RowFinding[] = [],
  formats: readonly ReportFormat[] = REPORT_FORMATS,
): Promise<string[]> {
  for (const f of formats) {
    // Formats come from CLI flags too; a typo must not silently write nothing.
    if (!(f in REPORT_FILES)) throw new AuditInputError(`unknown report format "${String(f)}" (expected ${REPORT_FORMATS.join(', ')})`);
  }
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  for (const f of [...new Set(formats)]) {
    const path = join(outDir, REPORT_FILES[f]);
    await writeFile(path, render(f, report, findings), 'utf8');
    written.push(path);
  }
  return written;
}

export type { RowFinding } from './findings.js';
export { renderHtml } from './html.js';
export { renderJson } from './json.js';
export { renderJunit } from './junit.js';
export { renderMarkdown, renderSummary } from './markdown.js';
export { renderSarif, TRAIT_TRANSFER_RULE } from './sarif.js';
export * from './schema.js';
