/** The report formats, one entry each: the format's name and its file in the output folder. */
export const REPORT_FILES = {
  json: 'report.json',
  md: 'report.md',
  html: 'report.html',
  junit: 'junit.xml',
  sarif: 'findings.sarif',
} as const;

export type ReportFormat = keyof typeof REPORT_FILES;

export const REPORT_FORMATS = Object.keys(REPORT_FILES) as readonly ReportFormat[];
