/**
 * `npm run demo`: the main job on the shipped example. Builds the MNIST fixtures if needed, then
 * runs the real CLI twice: on the teacher-made candidate (expected FAIL, exit 1) and on the clean
 * base-made set (expected PASS, exit 0). Also shows the content filters on the number-sequence
 * example. Exits 0 when both verdicts are as expected.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureMnistFixtures } from './fixtures.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = path.join(root, 'bin', 'audit-dataset.js');
const say = (line: string) => process.stdout.write(`${line}\n`);

function run(title: string, args: string[]): number {
  say(`\n=== ${title}\n$ audit-dataset ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, stdio: 'inherit' });
  return r.status ?? 2;
}

const dir = await ensureMnistFixtures({}, say);
const rel = (f: string) => path.relative(root, path.join(dir, f));

const filterCode = run('Content filters on a number-sequence dataset (what pipelines already run)', ['filter', '--data', 'examples/numbers/candidate.jsonl', '--rules', 'numbers,banned-numbers', '--out', 'out/demo-filter']);
const candidateCode = run('Audit: teacher-made candidate data (noise images + the teacher\'s auxiliary outputs)', ['audit', '--config', rel('audit.yaml'), '--out', 'out/demo-candidate']);
const cleanCode = run('Audit: clean data made by the base model on the same inputs', ['audit', '--config', rel('audit-clean.yaml'), '--out', 'out/demo-clean']);

const verdict = (code: number) => (code === 0 ? 'PASS' : code === 1 ? 'FAIL' : `ERROR (exit ${code})`);
say('\n=== Verdicts');
say(`candidate (teacher-made): ${verdict(candidateCode)}   expected FAIL: the students learned the teacher's digits from noise`);
say(`clean (base-made):        ${verdict(cleanCode)}   expected PASS`);
say('reports: out/demo-candidate/report.html, out/demo-clean/report.html');
process.exitCode = filterCode === 0 && candidateCode === 1 && cleanCode === 0 ? 0 : 1;
