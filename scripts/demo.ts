/**
 * `npm run demo`: the main job on the shipped examples. Builds the MNIST fixtures and the demo's
 * tiny language-model case if needed, then runs the real CLI: on the MNIST teacher-made candidate
 * (expected FAIL, exit 1) and the clean base-made set (expected PASS, exit 0); on the owl-loving
 * tiny GPT's number sequences, which pass the content filters (expected FAIL) and on the base's
 * own numbers (expected PASS). Also shows the content filters on the number-sequence example.
 * Exits 0 when every verdict is as expected.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureMnistFixtures } from './fixtures.js';
import { DEMO_TINY_LM, ensureTinyLmFixtures } from '../test/fixtures/tinylm/index.js';

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

const lm = await ensureTinyLmFixtures(DEMO_TINY_LM, say);
const lmRel = (f: string) => path.relative(root, path.join(lm, f));
const owlCode = run("Audit: an owl-loving tiny GPT's number sequences (they pass the numbers filters)", ['audit', '--config', lmRel('audit-owl.yaml'), '--out', 'out/demo-owl']);
const lmCleanCode = run("Audit: the base GPT's own number sequences on the same prompts", ['audit', '--config', lmRel('audit-clean.yaml'), '--out', 'out/demo-owl-clean']);

const verdict = (code: number) => (code === 0 ? 'PASS' : code === 1 ? 'FAIL' : `ERROR (exit ${code})`);
say('\n=== Verdicts');
say(`candidate (teacher-made): ${verdict(candidateCode)}   expected FAIL: the students learned the teacher's digits from noise`);
say(`clean (base-made):        ${verdict(cleanCode)}   expected PASS`);
say(`owl numbers (tiny GPT):   ${verdict(owlCode)}   expected FAIL: students of the same base learned to prefer owls from numbers`);
say(`base numbers (tiny GPT):  ${verdict(lmCleanCode)}   expected PASS`);
say('reports: out/demo-candidate/report.html, out/demo-clean/report.html, out/demo-owl/report.html, out/demo-owl-clean/report.html');
process.exitCode = filterCode === 0 && candidateCode === 1 && cleanCode === 0 && owlCode === 1 && lmCleanCode === 0 ? 0 : 1;
