import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditInputError } from '../../src/errors.js';
import { renderJson, writeReports, type ReportFormat } from '../../src/report/index.js';
import { sampleFindings, sampleReport } from './sample.js';
import { useTempDir } from '../helpers/files.js';

const tmp = useTempDir('report-test-');

describe('writeReports', () => {
  it('writes all five files into a new nested folder and returns their paths', async () => {
    const out = tmp.file('a', 'b');
    const paths = await writeReports(sampleReport(), out, sampleFindings());
    expect(paths).toEqual(['report.json', 'report.md', 'report.html', 'junit.xml', 'findings.sarif'].map((f) => join(out, f)));
    expect(readFileSync(paths[0]!, 'utf8')).toBe(renderJson(sampleReport()));
    expect(JSON.parse(readFileSync(paths[4]!, 'utf8')).runs[0].results).toHaveLength(4);
  });

  it('writes only the formats asked for', async () => {
    const out = tmp.file('some');
    const paths = await writeReports(sampleReport(), out, [], ['md', 'junit']);
    expect(paths).toEqual([join(out, 'report.md'), join(out, 'junit.xml')]);
  });

  it('rejects an unknown format as a user error, writing nothing', async () => {
    const out = tmp.file('bad');
    await expect(writeReports(sampleReport(), out, [], ['json', 'pdf' as ReportFormat])).rejects.toBeInstanceOf(AuditInputError);
    expect(() => readFileSync(join(out, 'report.json'))).toThrow();
  });
});
