/**
 * Dose-response check of the row attribution (SCIENCE.md, "Detection ideas"): drop the candidate
 * rows whose targets differ most from the base's own outputs (top k% by KL(target || base)) and
 * re-audit; compare with dropping the same number of random rows. If the attribution finds the
 * rows that carry the signal, transfer falls faster with the top rows removed.
 * Run: npx tsx scripts/study-dose-response.ts   (about 3 minutes) -> docs/measurements/dose-response.md
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ensureMnistFixtures } from './fixtures.js';
import { loadAuditConfig } from '../src/config/index.js';
import { localModelPaths } from '../src/config/schema.js';
import { audit } from '../src/audit/audit.js';
import { LocalOnnxBackend } from '../src/audit/localBackend.js';
import { rowScores } from '../src/audit/attribution.js';
import { readTensorSet } from '../src/audit/tensorData.js';
import { readModel } from '../src/onnx/io.js';
import { sliceColumns } from '../src/rows.js';
import { Random } from '../src/random.js';

const dir = await ensureMnistFixtures();
const config = await loadAuditConfig({ file: path.join(dir, 'audit.yaml') });
if (config.task.kind !== 'logits') throw new Error('the dose-response study audits a logits task');
const [start, end] = config.task.outputs;
const width = end - start;
const { set } = await readTensorSet(config.data, { input: 'pixels', inputWidth: 784, target: 'aux', targetWidth: width });
const backend = new LocalOnnxBackend();
const base = await readModel(localModelPaths(config).base);
const { outputs, width: outWidth } = await backend.predict(base, undefined, set.inputs, set.rows);
await backend.close();
const scores = rowScores(set.targets, sliceColumns(outputs, outWidth, [start, end]), width, 'probs');
const byScore = Array.from({ length: set.rows }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
const lines = (await readFile(config.data, 'utf8')).split('\n');

const outDir = path.join(dir, 'dose-response');
await mkdir(outDir, { recursive: true });
const table = ['| rows dropped | by | rows left | digits delta | p (raw) | verdict |', '| --- | --- | --- | --- | --- | --- |'];
for (const share of [0, 0.1, 0.3, 0.5]) {
  for (const by of share === 0 ? ['none'] : ['top attribution', 'random']) {
    const n = Math.round(share * set.rows);
    const dropped = new Set(by === 'random' ? Array.from(new Random(99).permutation(set.rows)).slice(0, n) : byScore.slice(0, n));
    const kept = Array.from({ length: set.rows }, (_, i) => i).filter((i) => !dropped.has(i)).map((i) => lines[set.lines[i]! - 1]);
    const file = path.join(outDir, `candidate-${by.replace(' ', '-')}-${share}.jsonl`);
    await writeFile(file, `${kept.join('\n')}\n`);
    const { report } = await audit({ ...config, data: file, screen: false });
    const digits = report.probes.find((p) => p.name === 'digits')!;
    const row = `| ${Math.round(share * 100)}% | ${by} | ${kept.length} | ${digits.delta >= 0 ? '+' : ''}${digits.delta.toFixed(3)} | ${digits.pValueRaw.toExponential(1)} | ${report.verdict.toUpperCase()} |`;
    table.push(row);
    process.stdout.write(`${row}\n`);
  }
}
await mkdir('docs/measurements', { recursive: true });
await writeFile('docs/measurements/dose-response.md', `${table.join('\n')}\n`);
