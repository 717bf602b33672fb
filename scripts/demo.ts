/**
 * `npm run demo`: the main job on the shipped example. Builds the MNIST fixtures if needed, then
 * runs the real CLI twice: on the teacher-made candidate (expected FAIL, exit 1) and on the clean
 * base-made set (expected PASS, exit 0). Also shows the content filters on the number-sequence
 * example. Exits 0 when every verdict is as expected.
 *
 * `npm run demo -- --tinylm` adds the study's own case: the tiny language model's owl teacher's
 * filtered numbers as soft targets (expected FAIL) and an independent clean sample from the base
 * (expected PASS), at the audit's defaults. It builds fixtures/tinylm first when missing (about 8
 * CPU-minutes) and each audit takes 15-30 CPU-minutes: far past the 4-minute demo, so it is opt-in
 * (README, "The tiny language-model case").
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureMnistFixtures, ensureTinyLmFixtures } from './fixtures.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = path.join(root, 'bin', 'audit-dataset.js');
const say = (line: string) => process.stdout.write(`${line}\n`);
const withTinyLm = process.argv.slice(2).includes('--tinylm');

function run(title: string, args: string[]): number {
  say(`\n=== ${title}\n$ audit-dataset ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, stdio: 'inherit' });
  return r.status ?? 2;
}

const verdict = (code: number) => (code === 0 ? 'PASS' : code === 1 ? 'FAIL' : `ERROR (exit ${code})`);
const results: { label: string; code: number; expected: 0 | 1; why: string }[] = [];

const dir = await ensureMnistFixtures({}, say);
const rel = (d: string, f: string) => path.relative(root, path.join(d, f));

const filterCode = run('Content filters on a number-sequence dataset (what pipelines already run)', ['filter', '--data', 'examples/numbers/candidate.jsonl', '--rules', 'numbers,banned-numbers', '--out', 'out/demo-filter']);
results.push({ label: 'candidate (teacher-made)', code: run('Audit: teacher-made candidate data (noise images + the teacher\'s auxiliary outputs)', ['audit', '--config', rel(dir, 'audit.yaml'), '--out', 'out/demo-candidate']), expected: 1, why: "the students learned the teacher's digits from noise" });
results.push({ label: 'clean (base-made)', code: run('Audit: clean data made by the base model on the same inputs', ['audit', '--config', rel(dir, 'audit-clean.yaml'), '--out', 'out/demo-clean']), expected: 0, why: '' });
const reports = ['out/demo-candidate/report.html', 'out/demo-clean/report.html'];

if (withTinyLm) {
  const lm = await ensureTinyLmFixtures({}, say);
  results.push({ label: 'tiny LM: owl teacher, soft', code: run("Audit: the tiny LM owl teacher's filtered numbers, as soft targets", ['audit', '--config', rel(lm, 'audit-owl-soft.yaml'), '--out', 'out/demo-tinylm-owl']), expected: 1, why: 'students from the same base took on the owl through plain numbers' });
  results.push({ label: 'tiny LM: clean sample, soft', code: run('Audit: an independent clean sample from the tiny LM base, as soft targets', ['audit', '--config', rel(lm, 'audit-clean-soft.yaml'), '--out', 'out/demo-tinylm-clean']), expected: 0, why: '' });
  reports.push('out/demo-tinylm-owl/report.html', 'out/demo-tinylm-clean/report.html');
}

say('\n=== Verdicts');
const width = Math.max(...results.map((r) => r.label.length)) + 1;
for (const r of results) say(`${`${r.label}:`.padEnd(width)} ${verdict(r.code)}   expected ${verdict(r.expected)}${r.why ? `: ${r.why}` : ''}`);
say(`reports: ${reports.join(', ')}`);
process.exitCode = filterCode === 0 && results.every((r) => r.code === r.expected) ? 0 : 1;
