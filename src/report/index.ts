/** The report writers, and writeReports() that puts every format into one folder. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditInputError, fsError } from '../errors.js';
import type { RowFinding } from './findings.js';
import { renderHtml } from './html.js';
import { renderJson } from './json.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { renderSarif } from './sarif.js';
import type { AuditReport } from './schema.js';
import { REPORT_FILES, REPORT_FORMATS, type ReportFormat } from './formats.js';

/** The writer of each format (file names: formats.ts). */
const RENDERERS: Record<ReportFormat, (report: AuditReport, findings: RowFinding[]) => string> = {
  json: (report) => renderJson(report),
  md: (report) => renderMarkdown(report),
  html: (report) => renderHtml(report),
  junit: (report) => renderJunit(report),
  sarif: (report, findings) => renderSarif(report, findings),
};

/** Writes the chosen formats into outDir (created if missing); returns the paths written, in format order. */
export async function writeReports(
  report: AuditReport,
  outDir: string,
  findings: RowFinding[] = [],
  formats: readonly ReportFormat[] = REPORT_FORMATS,
): Promise<string[]> {
  for (const f of formats) {
    // Formats come from CLI flags too; a typo must not silently write nothing.
    if (!Object.hasOwn(REPORT_FILES, f)) throw new AuditInputError(`unknown report format "${String(f)}" (expected ${REPORT_FORMATS.join(', ')})`);
  }
  await mkdir(outDir, { recursive: true }).catch((e: unknown) => { throw fsError(outDir, 'create the output folder', e); });
  const written: string[] = [];
  for (const f of [...new Set(formats)]) {
    const path = join(outDir, REPORT_FILES[f]);
    await writeFile(path, RENDERERS[f](report, findings), 'utf8').catch((e: unknown) => { throw fsError(path, 'write', e); });
    written.push(path);
  }
  return written;
}

export type { RowFinding } from './findings.js';
export { REPORT_FILES, REPORT_FORMATS, type ReportFormat } from './formats.js';
export { renderHtml } from './html.js';
export { renderJson } from './json.js';
export { renderJunit } from './junit.js';
export { renderMarkdown, renderSummary } from './markdown.js';
export { renderSarif, TRAIT_TRANSFER_RULE } from './sarif.js';
export * from './schema.js';
