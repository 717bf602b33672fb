/**
 * The GitHub Action's pure parts (action.yml runs dist/cli/github-action-run.js, which calls these): reading
 * the inputs, the job-summary Markdown, the step outputs, the step's pass/fail decision under
 * fail-on, and a SARIF log made ready for code scanning (paths relative to the repository).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AuditInputError } from '../errors.js';
import { renderMarkdown } from '../report/markdown.js';
import type { AuditReport } from '../report/schema.js';

export const FAIL_ON = ['fail', 'inconclusive', 'never'] as const;
export type FailOn = (typeof FAIL_ON)[number];

export interface ActionInputs {
  config: string;
  /** Extra flags for `audit-dataset audit`, already split into words. */
  args: string[];
  failOn: FailOn;
  /** Report folder (absolute). */
  out: string;
  artifactName: string;
  /** The run cache folder (absolute) that action.yml restores and saves with actions/cache; absent: none. */
  runCache?: string;
}

/** The action's inputs from the environment action.yml sets (INPUT_CONFIG, INPUT_ARGS, ...). */
export function readInputs(env: Record<string, string | undefined>, cwd: string): ActionInputs {
  const get = (name: string, fallback: string) => (env[`INPUT_${name}`] ?? '').trim() || fallback;
  const failOn = get('FAIL_ON', 'fail');
  if (!(FAIL_ON as readonly string[]).includes(failOn)) throw new AuditInputError(`fail-on: '${failOn}' is not one of ${FAIL_ON.join(', ')}`);
  return {
    config: get('CONFIG', 'audit.yaml'),
    args: splitArgs(get('ARGS', '')),
    failOn: failOn as FailOn,
    out: path.resolve(cwd, get('OUT', 'audit-report')),
    artifactName: get('ARTIFACT_NAME', 'audit-dataset-report'),
    ...(get('RUN_CACHE_DIR', '') ? { runCache: path.resolve(cwd, get('RUN_CACHE_DIR', '')) } : {}),
  };
}

/** Splits a flags string the way a POSIX shell would for plain words, '…' and "…" (no expansion). */
export function splitArgs(text: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && (text[i + 1] === '"' || text[i + 1] === '\\')) word += text[++i]!;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      word ??= '';
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text[++i]!;
    } else word = (word ?? '') + c;
  }
  if (quote) throw new AuditInputError(`args: unclosed ${quote} in: ${text}`);
  if (word !== null) words.push(word);
  return words;
}

/** Does the step fail? Errors (no report) always do; verdicts per fail-on. */
export function stepFails(verdict: string, failOn: FailOn): boolean {
  if (verdict === 'error') return true;
  if (failOn === 'never') return false;
  if (failOn === 'inconclusive') return verdict === 'fail' || verdict === 'inconclusive';
  return verdict === 'fail';
}

/** The job summary: the verdict, its one-line summary and the probe table, as report.md has them. */
export function jobSummary(report: AuditReport, opts: { failOn: FailOn; artifactName: string | null; reportDir: string }): string {
  const md = renderMarkdown(report);
  const probes = section(md, 'Probes');
  const head = md.slice(0, md.indexOf('\n## ')).trim();
  const filters = report.filters ? `Content filters: ${report.filters.rowsExcluded} of ${report.filters.rowsIn} rows excluded (${report.filters.rules.join(', ')}); they do not gate the verdict.` : '';
  const outcome = stepFails(report.verdict, opts.failOn)
    ? `This step fails (fail-on: \`${opts.failOn}\`).`
    : `This step passes (fail-on: \`${opts.failOn}\`).`;
  const where = opts.artifactName
    ? `Full report (HTML, Markdown, JSON, JUnit, SARIF): the \`${opts.artifactName}\` artifact of this run.`
    : `Full report: \`${opts.reportDir}\`.`;
  return [head.replace(/^# /, '## '), '', probes.replace(/^## Probes/, '### Probes').trim(), '', filters, '', `${outcome} ${where}`, ''].filter((l, i, a) => l !== '' || a[i - 1] !== '').join('\n');
}

/** The summary for a run that produced no report (bad input, an internal error). */
export function errorSummary(exitCode: number, message: string): string {
  return [`## audit-dataset: ERROR (exit ${exitCode})`, '', 'The audit did not run to a verdict:', '', '```', message.trim() || '(no message)', '```', ''].join('\n');
}

/** One `## Title` section of a Markdown document, up to the next `## ` heading. */
function section(md: string, title: string): string {
  const start = md.indexOf(`\n## ${title}\n`);
  if (start < 0) return '';
  const end = md.indexOf('\n## ', start + 1);
  return md.slice(start + 1, end < 0 ? undefined : end);
}

/** Lines for $GITHUB_OUTPUT; multi-line values use the heredoc form with a delimiter not in the value. */
export function outputLines(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => {
      if (!v.includes('\n')) return `${k}=${v}\n`;
      let delim = 'AUDIT_DATASET_EOF';
      while (v.includes(delim)) delim += '_';
      return `${k}<<${delim}\n${v}\n${delim}\n`;
    })
    .join('');
}

/** GitHub accepts at most 25,000 results per run; we keep every probe result and cap row findings well below. */
export const MAX_ROW_RESULTS = 5000;

interface SarifLog {
  runs: { results: { ruleId?: string; locations?: { physicalLocation?: { artifactLocation?: { uri?: string } } }[] }[]; properties?: Record<string, unknown> }[];
}

/**
 * findings.sarif made ready for github/codeql-action/upload-sarif: file:// URIs inside the
 * workspace become paths relative to it (code scanning places results by repository path), and
 * row findings beyond MAX_ROW_RESULTS are dropped with the count kept in the run's properties.
 */
export function codeScanningSarif(sarifText: string, workspace: string): string {
  const log = JSON.parse(sarifText) as SarifLog;
  const root = path.resolve(workspace);
  for (const run of log.runs) {
    const probeResults = run.results.filter((r) => r.ruleId === 'trait-transfer');
    const rowResults = run.results.filter((r) => r.ruleId !== 'trait-transfer');
    if (rowResults.length > MAX_ROW_RESULTS) {
      run.properties = { ...run.properties, rowResultsTotal: rowResults.length, rowResultsShown: MAX_ROW_RESULTS };
    }
    run.results = [...probeResults, ...rowResults.slice(0, MAX_ROW_RESULTS)];
    for (const result of run.results) {
      for (const loc of result.locations ?? []) {
        const art = loc.physicalLocation?.artifactLocation;
        if (!art?.uri?.startsWith('file://')) continue;
        const file = fileURLToPath(art.uri);
        const rel = path.relative(root, file);
        if (!rel.startsWith('..') && !path.isAbsolute(rel)) art.uri = rel.split(path.sep).map(encodeURIComponent).join('/');
      }
    }
  }
  return `${JSON.stringify(log, null, 2)}\n`;
}
