/**
 * Measures the audit's DEFAULTS on MNIST-like cases of other widths, depths and auxiliary-logit
 * counts: for each variant, the teacher-made candidate (should FAIL), the base-made clean set
 * (should PASS) and another init's teacher data (should PASS), each with its positive control
 * (a PASS whose positive control shows no transfer is INCONCLUSIVE). Writes docs/measurements/variants.{json,md}.
 * The positive control learns the teacher's own outputs over the candidate's slice (the aux
 * logits), the data's own channel (src/audit/positiveControl.ts).
 * Run: npx tsx scripts/study-variants.ts [--workers N] [names...]   (about 2 minutes per variant)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildMnistCase } from '../test/fixtures/mnist-case.js';
import { loadAuditConfig } from '../src/config/index.js';
import { audit } from '../src/audit/audit.js';
import { overallVerdict } from '../src/stats/index.js';
import { replay } from './lib/replay.js';

interface Variant {
  name: string;
  hidden: number[];
  aux: number;
  noiseRows: number;
}

const VARIANTS: Variant[] = [
  { name: '256-256 aux3', hidden: [256, 256], aux: 3, noiseRows: 12_000 },
  { name: '128 aux3', hidden: [128], aux: 3, noiseRows: 12_000 },
  { name: '512-256-128 aux3', hidden: [512, 256, 128], aux: 3, noiseRows: 12_000 },
  { name: '512-256-128 aux10', hidden: [512, 256, 128], aux: 10, noiseRows: 12_000 },
  { name: '256-256 aux10', hidden: [256, 256], aux: 10, noiseRows: 12_000 },
  { name: '64-64 aux2', hidden: [64, 64], aux: 2, noiseRows: 12_000 },
  { name: '256-256 aux3 6k rows', hidden: [256, 256], aux: 3, noiseRows: 6_000 },
];

const args = process.argv.slice(2);
const workersAt = args.indexOf('--workers');
// --workers N: training threads per audit (default 0: one per core); results do not depend on it.
const workers = workersAt >= 0 ? Number(args.splice(workersAt, 2)[1]) : 0;
const wanted = args;
const results: Record<string, unknown>[] = [];
const lines = [
  '| variant | teacher acc | data | verdict | digits: control -> student (delta, p) | agreement delta (p) | teacher-update: control -> student (delta, p) | positive control: digits delta (p) | screen cos | attribution mean | audit s |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];
// The gate's power features, each decided from the same runs (scripts/lib/replay.ts): the verdict
// of the fixed design (5 seeds) without and with the positive control, with argmax probes only
// (no KL probe), and with seeds in stages (looks of train.firstSeeds).
const powerLines = [
  '| variant | data | probes alone (fixed, 5 seeds) | + positive control = verdict | argmax probes only (no KL): probes / with positive control | sequential: verdict, seeds used (looks) | KL probe delta (p) | positive control digits delta (p), agreement KL delta (p) |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
];
const unknown = wanted.filter((n) => !VARIANTS.some((v) => v.name === n));
if (unknown.length) throw new Error(`unknown variant(s): ${unknown.join(', ')}; known: ${VARIANTS.map((v) => v.name).join(', ')}`);
// Variants run in the order named (all, in the table's order, when none are named).
const chosen = wanted.length === 0 ? VARIANTS : wanted.map((n) => VARIANTS.find((v) => v.name === n)!);
// Every variant named: the full study goes to docs/measurements/; a subset to out/.
const outDir = VARIANTS.every((v) => chosen.includes(v)) ? 'docs/measurements' : 'out';
// Written after every audit, so a long run interrupted keeps what it measured.
const save = async () => {
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, 'variants.json'), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(path.join(outDir, 'variants.md'), `${lines.join('\n')}\n`);
  await writeFile(path.join(outDir, 'variants-power.md'), `${powerLines.join('\n')}\n`);
};
for (const v of chosen) {
  const dir = path.join(os.tmpdir(), 'audit-variants', v.name.replace(/\W+/g, '_'));
  const built = await buildMnistCase({ dir, hidden: v.hidden, aux: v.aux, noiseRows: v.noiseRows });
  for (const [label, file] of [['candidate', 'audit.yaml'], ['clean', 'audit-clean.yaml'], ['other-init', 'audit-other.yaml']] as const) {
    const config = await loadAuditConfig({ file: path.join(dir, file), overrides: { screen: true, train: { sequential: false, workers } } });
    const t0 = performance.now();
    const { report } = await audit(config);
    const seconds = (performance.now() - t0) / 1000;
    const [digits, agree] = report.probes;
    const update = report.probes.find((x) => x.name === 'teacher-update');
    const row = {
      variant: v.name,
      data: label,
      teacherAccuracy: built.teacherAccuracy,
      baseAccuracy: built.baseAccuracy,
      verdict: report.verdict,
      digits: { control: digits!.control.mean, student: digits!.student.mean, delta: digits!.delta, p: digits!.pValueRaw },
      agreement: { delta: agree!.delta, p: agree!.pValueRaw },
      teacherUpdate: update ? { control: update.control.mean, student: update.student.mean, delta: update.delta, p: update.pValueRaw, verdict: update.verdict } : null,
      positiveControl: report.positiveControl ? { detected: report.positiveControl.detected, digits: { delta: report.positiveControl.probes[0]!.delta, p: report.positiveControl.probes[0]!.pValue } } : null,
      screen: report.screen?.candidateCosine ?? null,
      attributionMean: report.attribution?.mean ?? null,
      summary: report.summary,
      seconds,
    };
    results.push(row);
    const f = (x: number) => x.toFixed(3);
    const pc = report.positiveControl?.probes[0];
    const p = (x: number) => (x < 0.001 ? x.toExponential(1) : x.toFixed(3));
    const line = `| ${v.name} | ${f(built.teacherAccuracy)} (base ${f(built.baseAccuracy)}) | ${label} | ${report.verdict.toUpperCase()} | ${f(digits!.control.mean)} -> ${f(digits!.student.mean)} (${digits!.delta >= 0 ? '+' : ''}${f(digits!.delta)}, ${p(digits!.pValueRaw)}) | ${agree!.delta >= 0 ? '+' : ''}${f(agree!.delta)} (${p(agree!.pValueRaw)}) | ${update ? `${f(update.control.mean)} -> ${f(update.student.mean)} (${update.delta >= 0 ? '+' : ''}${f(update.delta)}, ${p(update.pValueRaw)})` : '-'} | ${pc ? `${pc.delta >= 0 ? '+' : ''}${f(pc.delta)} (${p(pc.pValue)})` : '-'} | ${report.screen ? report.screen.candidateCosine.toExponential(1) : '-'} | ${report.attribution ? report.attribution.mean.toExponential(1) : '-'} | ${seconds.toFixed(0)} |`;
    lines.push(line);
    process.stdout.write(`${line}\n`);
    const probesAlone = overallVerdict(report.probes);
    const argmax = await replay(report, config, { sequential: false, kl: false });
    const argmaxProbes = overallVerdict(report.probes.filter((x) => !x.name.endsWith(' (KL)')));
    const staged = await replay(report, config, { sequential: true, kl: true });
    const kl = report.probes.find((x) => x.name.endsWith(' (KL)'));
    const pcKl = report.positiveControl?.probes.find((x) => x.name.endsWith(' (KL)'));
    const signed = (x: number) => `${x >= 0 ? '+' : ''}${f(x)}`;
    const powerLine = `| ${v.name} | ${label} | ${probesAlone.toUpperCase()} | ${report.verdict.toUpperCase()} | ${argmaxProbes.toUpperCase()} / ${argmax.verdict.toUpperCase()} | ${staged.verdict.toUpperCase()}, ${staged.seedsUsed} (${staged.looks}) | ${kl ? `${signed(kl.delta)} (${p(kl.pValueRaw)})` : '-'} | ${pc ? `${signed(pc.delta)} (${p(pc.pValue)})` : '-'}${pcKl ? `, ${signed(pcKl.delta)} (${p(pcKl.pValue)})` : ''} |`;
    powerLines.push(powerLine);
    Object.assign(row, { probesAlone, argmaxOnly: { probes: argmaxProbes, verdict: argmax.verdict }, sequential: staged, kl: kl ? { delta: kl.delta, p: kl.pValueRaw } : null });
    process.stdout.write(`${powerLine}\n`);
    await save();
  }
}
await save();

