/**
 * The gate's own error rates (run: npx tsx scripts/study-null.ts [nullAudits] [auditsPerEffect]):
 * many clean-vs-clean audits of a small model (different seeds, independently drawn clean sets)
 * give the observed false-FAIL rate at policy.alpha with its 95% Clopper-Pearson interval, and
 * generated transfer cases by effect size give the detection rate (a power curve). The gate is
 * the default one: alpha 0.01, minEffect 0.02, Welch, Holm, seeds in stages (3 then 5). A second
 * null run with minEffect 0 measures the size of the test alone. Writes
 * docs/measurements/null.{json,md} (src/audit/gateSim.ts does the work).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { gateSimTable, simulateGate, type GateSimRow } from '../src/audit/gateSim.js';

const nullAudits = Number(process.argv[2] ?? 200);
const perEffect = Number(process.argv[3] ?? 40);
const policy = { alpha: 0.01, minEffect: 0.02, test: 'welch' as const, correction: 'holm' as const };
const common = { seeds: 5, firstSeeds: 3, sequential: true, rows: 256, epochs: 2, seed: 11 };
const progress = (effect: number, done: number) => {
  if (done % 20 === 0) process.stdout.write(`effect ${effect}: ${done} audits\n`);
};
const t0 = performance.now();
const gate = await simulateGate({ ...common, audits: nullAudits, effects: [0], policy }, progress);
const size = await simulateGate({ ...common, audits: nullAudits, effects: [0], policy: { ...policy, minEffect: 0 } }, progress);
const curve: GateSimRow[] = await simulateGate({ ...common, audits: perEffect, effects: [0.02, 0.05, 0.1, 0.2, 0.5], policy }, progress);
const md = [
  '**False FAIL rate (clean vs clean), the default gate:**',
  '',
  gateSimTable(gate, policy),
  '',
  '**The test alone (minEffect 0):**',
  '',
  gateSimTable(size, { ...policy, minEffect: 0 }),
  '',
  '**Detection rate by effect size (power curve), the default gate:**',
  '',
  gateSimTable(curve, policy),
  '',
  `(${((performance.now() - t0) / 1000).toFixed(0)} s)`,
].join('\n');
process.stdout.write(`${md}\n`);
await mkdir('docs/measurements', { recursive: true });
await writeFile('docs/measurements/null.json', `${JSON.stringify({ policy, common, gate, size, curve }, null, 2)}\n`);
await writeFile('docs/measurements/null.md', `${md}\n`);
