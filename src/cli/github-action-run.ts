/**
 * Entry point of the GitHub Action (action.yml: `node dist/cli/github-action-run.js`). Runs
 * `audit-dataset audit --config C --out OUT --json ARGS`, then writes the job summary to
 * $GITHUB_STEP_SUMMARY, the outputs to $GITHUB_OUTPUT (verdict, exit-code, report-dir,
 * report-json, report-html, sarif, failed) and OUT/code-scanning.sarif, and exits 1 when the
 * step should fail under fail-on (always on an error), else 0. Runs anywhere: without the GitHub
 * variables it only prints.
 */
import { spawn } from 'node:child_process';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuditReport } from '../report/schema.js';
import { codeScanningSarif, errorSummary, jobSummary, outputLines, readInputs, stepFails } from './github-action.js';

const BIN = fileURLToPath(new URL('../../bin/audit-dataset.js', import.meta.url));

/** Runs the CLI; stderr passes through to the log live, and its tail is kept for an error summary. */
function runCli(args: string[]): Promise<{ code: number; stdout: string; stderrTail: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CI: process.env.CI || 'true' } });
    const out: Buffer[] = [];
    let tail = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      process.stderr.write(b);
      tail = (tail + b.toString('utf8')).slice(-4000);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 2, stdout: Buffer.concat(out).toString('utf8'), stderrTail: tail }));
  });
}

async function main(): Promise<number> {
  const env = process.env;
  const inputs = readInputs(env, process.cwd());
  const workspace = env.GITHUB_WORKSPACE || process.cwd();
  const cli = await runCli(['audit', '--config', inputs.config, '--out', inputs.out, '--json', ...(inputs.runCache ? ['--cache', inputs.runCache] : []), ...inputs.args]);
  const outputs: Record<string, string> = { 'exit-code': String(cli.code), 'report-dir': '', 'report-json': '', 'report-html': '', sarif: '' };
  let summary: string;
  let verdict: string;
  if (cli.code === 0 || cli.code === 1) {
    const report = JSON.parse(cli.stdout) as AuditReport;
    verdict = report.verdict;
    const inOut = (f: string) => path.join(inputs.out, f);
    Object.assign(outputs, { 'report-dir': inputs.out, 'report-json': inOut('report.json') });
    const present = async (f: string) => readFile(inOut(f), 'utf8').catch(() => null);
    if ((await present('report.html')) !== null) outputs['report-html'] = inOut('report.html');
    const sarif = await present('findings.sarif');
    if (sarif !== null) {
      await writeFile(inOut('code-scanning.sarif'), codeScanningSarif(sarif, workspace));
      outputs.sarif = inOut('code-scanning.sarif');
    }
    const artifact = (env.INPUT_UPLOAD_ARTIFACT ?? 'true').trim() !== 'false' ? inputs.artifactName : null;
    summary = jobSummary(report, { failOn: inputs.failOn, artifactName: artifact, reportDir: inputs.out });
  } else {
    verdict = 'error';
    const lastLines = cli.stderrTail.trimEnd().split('\n').slice(-5).join('\n');
    summary = errorSummary(cli.code, lastLines);
  }
  const failed = stepFails(verdict, inputs.failOn);
  Object.assign(outputs, { verdict, failed: String(failed) });
  if (env.GITHUB_STEP_SUMMARY) await appendFile(env.GITHUB_STEP_SUMMARY, `${summary}\n`);
  if (env.GITHUB_OUTPUT) await appendFile(env.GITHUB_OUTPUT, outputLines(outputs));
  process.stderr.write(`audit-dataset action: verdict ${verdict}, fail-on ${inputs.failOn}: step ${failed ? 'fails' : 'passes'}\n`);
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`audit-dataset action: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  },
);
