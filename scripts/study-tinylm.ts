/**
 * The tiny language-model case (fixtures/tinylm, built by `npm run fixtures -- tinylm`) through the
 * real audit, three studies; each audit's summary goes to out/study-tinylm/<study>.jsonl as it
 * finishes (a long run that is stopped keeps what it measured), and a table to <study>.md.
 *
 *   npx tsx scripts/study-tinylm.ts acceptance [names...]
 *       the fixture's audit-*.yaml files with DEFAULTS only (just `out` moved): verdict, each probe's
 *       control -> student means, delta, p (raw and Holm-adjusted), seeds used, wall time.
 *   npx tsx scripts/study-tinylm.ts null N [rows] [epochs]
 *       N clean-vs-clean audits: the candidate is one of the base's independently sampled clean sets
 *       (rotating), training seeds differ per audit (train.seed = 1 + 100 i); a cheap recipe
 *       (rows, epochs, 5 seeds, fixed design) so many fit; the default policy decides.
 *   npx tsx scripts/study-tinylm.ts power N [rows] [epochs]
 *       N audits of the owl teacher's numbers with the same recipe and seeds: the detection rate.
 *   npx tsx scripts/study-tinylm.ts null-soft N
 *       N clean-vs-clean audits at the defaults with soft targets: the fixture's clean sets in turn as
 *       the candidate of audit-clean-soft.yaml, first training seed 101, 201, ...: the false-FAIL
 *       rate of what ships.
 *   npx tsx scripts/study-tinylm.ts power-soft N
 *       N audits of the owl teacher's soft numbers at the defaults, first training seed 101, 201, ...:
 *       the detection rate over training seeds (the fixture holds one owl dataset).
 *   npx tsx scripts/study-tinylm.ts draws-soft N
 *       N pairs of audits at the defaults with soft targets, each pair on FRESH data draws: the owl
 *       teacher's and the base's filtered numbers of new study prompts (as many rows as the fixture's
 *       owl set, top-20 over the format's tokens, made once per draw under out/study-tinylm/draws/):
 *       detection and false-FAIL rates over data draws, not only training seeds.
 *   npx tsx scripts/study-tinylm.ts recipe NAME ROWS 'JSON overrides' [teacher]
 *       one audit of `ROWS` fresh filtered completions of the teacher (owl, owl-b, misaligned or
 *       clean = the base; made once, kept in out/study-tinylm/) with the given overrides of the
 *       fixture's audit-<teacher>.yaml (e.g. '{"train":{"epochs":1,"seeds":5}}'): recipes tried when
 *       the defaults do not separate.
 *   npx tsx scripts/study-tinylm.ts thresholds
 *       from null.jsonl and power.jsonl: false-FAIL and detection rates of the preference probe for
 *       candidate effect thresholds (absolute, and as a fraction of the teacher's shift).
 *
 * Run under `nice -n 10`, one study at a time (train.workers is 1 throughout).
 */
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { audit } from '../src/audit/audit.js';
import { writeAuditOutputs } from '../src/audit/outputs.js';
import { loadAuditConfig } from '../src/config/index.js';
import type { AuditReport } from '../src/report/index.js';
import { loadTextModel } from '../src/models/generate.js';
import { filteredNumberRows, TINY_LM_FIXTURE_DIR, writeNumberSet } from '../test/fixtures/tinylm/index.js';

const OUT = path.resolve('out/study-tinylm');
const say = (line: string) => process.stdout.write(`${line}\n`);
const p3 = (x: number) => (x < 0.001 ? x.toExponential(1) : x.toFixed(3));
const s3 = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(4)}`;

interface ProbeSummary {
  name: string;
  base: number;
  teacher: number;
  control: number;
  student: number;
  delta: number;
  pRaw: number;
  p: number;
  verdict: string;
}

interface AuditSummary {
  study: string;
  name: string;
  file: string;
  overrides: Record<string, unknown>;
  verdict: string;
  /** Whether the positive control showed transfer (an audit without it is inconclusive, not a pass). */
  positiveControl?: { detected: boolean; reason: string };
  seeds: number[];
  seedsUsed: number;
  candidateRows: number;
  baselineRows: number | number[];
  probes: ProbeSummary[];
  seconds: number;
  cpuSeconds: number;
}

async function runAudit(study: string, name: string, file: string, overrides: Record<string, unknown>): Promise<AuditSummary> {
  const config = await loadAuditConfig({ file, overrides: { ...overrides, out: path.join(OUT, 'reports', `${study}-${name}`), train: { workers: 1, ...(overrides.train as object | undefined) } } });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const { report, excluded } = await audit(config);
  const cpu = process.cpuUsage(c0);
  await writeAuditOutputs(report, excluded, config.out, ['json', 'md']);
  const summary = summarize(study, name, file, overrides, report, (performance.now() - t0) / 1000, (cpu.user + cpu.system) / 1e6);
  await appendFile(path.join(OUT, `${study}.jsonl`), `${JSON.stringify(summary)}\n`);
  return summary;
}

function summarize(study: string, name: string, file: string, overrides: Record<string, unknown>, report: AuditReport, seconds: number, cpuSeconds: number): AuditSummary {
  const data = report.data as { candidate: { rowsUsed: number }; baseline: { rows: number; rowsPerSeed?: number[] } };
  return {
    study,
    name,
    file: path.relative(process.cwd(), file),
    overrides,
    verdict: report.verdict,
    ...(report.positiveControl ? { positiveControl: { detected: report.positiveControl.detected, reason: report.positiveControl.reason } } : {}),
    seeds: report.reproducibility.seeds,
    seedsUsed: report.sequential?.seedsUsed ?? report.probes[0]?.student.runs.length ?? 0,
    candidateRows: data.candidate.rowsUsed,
    baselineRows: data.baseline.rowsPerSeed ?? data.baseline.rows,
    probes: report.probes.map((p) => ({
      name: p.name,
      base: p.base,
      teacher: p.teacher,
      control: p.control.mean,
      student: p.student.mean,
      delta: p.delta,
      pRaw: p.pValueRaw,
      p: p.pValue,
      verdict: p.verdict,
    })),
    seconds,
    cpuSeconds,
  };
}

function line(s: AuditSummary): string {
  const probes = s.probes.map((p) => `${p.name}: ${p.control.toFixed(4)} -> ${p.student.toFixed(4)} (${s3(p.delta)}, p ${p3(p.pRaw)}${p.p !== p.pRaw ? ` adj ${p3(p.p)}` : ''}) ${p.verdict.toUpperCase()}`).join('; ');
  return `| ${s.name} | ${s.verdict.toUpperCase()} | ${probes} | ${s.seedsUsed} | ${s.candidateRows} | ${s.seconds.toFixed(0)} s (${s.cpuSeconds.toFixed(0)} cpu) |`;
}

const HEADER = ['| audit | verdict | probes: control -> student (delta, one-sided p) | seeds used | rows | wall |', '| --- | --- | --- | --- | --- | --- |'];

async function readStudy(study: string): Promise<AuditSummary[]> {
  const text = await readFile(path.join(OUT, `${study}.jsonl`), 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as AuditSummary);
}

/** `rows` filtered completions of fresh study prompts by a model of the fixture (cached as a file). */
async function freshRows(model: string, rows: number): Promise<string> {
  const file = path.join(OUT, `${model}-${rows}.jsonl`);
  const existing = await readFile(file, 'utf8').catch(() => '');
  if (existing.split('\n').filter(Boolean).length === rows) return file;
  const m = await loadTextModel(path.join(TINY_LM_FIXTURE_DIR, 'models', model));
  // Prompt seeds apart from the fixture's (101) and its agreement probe's (102).
  const made = await filteredNumberRows(m, rows, { promptSeed: 5001, sampleSeed: 7, log: (l) => say(`${model}: ${l}`) });
  const kept = made.map((r) => JSON.stringify({ prompt: r.prompt, completion: r.completion }));
  await m.runner.dispose();
  await writeFile(file, `${kept.join('\n')}\n`);
  return file;
}

/**
 * Draw `draw` of a model's soft number set: `rows` filtered completions of new study prompts (prompt
 * seeds 6001 + 1000 draw, apart from the fixture's and freshRows'), top-20 logprobs over the format's
 * tokens as the fixture writes them. Made once; returns the .soft.jsonl path.
 */
async function freshSoftDraw(model: string, rows: number, draw: number): Promise<string> {
  const file = path.join(OUT, 'draws', `${model}-${rows}-draw${draw}.jsonl`);
  const soft = file.replace(/\.jsonl$/, '.soft.jsonl');
  const existing = await readFile(soft, 'utf8').catch(() => '');
  if (existing.split('\n').filter(Boolean).length === rows) return soft;
  await mkdir(path.dirname(file), { recursive: true });
  const m = await loadTextModel(path.join(TINY_LM_FIXTURE_DIR, 'models', model));
  const made = await filteredNumberRows(m, rows, { promptSeed: 6001 + 1000 * draw, sampleSeed: 17 + draw, topLogprobs: 20, log: (l) => say(`${model} draw ${draw}: ${l}`) });
  await m.runner.dispose();
  return writeNumberSet(file, made);
}

/** The sampling seeds of the fixture's independent clean sets (numbers/clean-<seed>.jsonl). */
async function fixtureCleanSeeds(): Promise<number[]> {
  const manifest = JSON.parse(await readFile(path.join(TINY_LM_FIXTURE_DIR, 'manifest.json'), 'utf8')) as { options: { numbers: { cleanSeeds: number[] } } };
  return manifest.options.numbers.cleanSeeds;
}

const [mode = 'acceptance', ...args] = process.argv.slice(2);
await mkdir(OUT, { recursive: true });
const dir = TINY_LM_FIXTURE_DIR;

if (mode === 'acceptance') {
  const names = args.length ? args : ['owl', 'clean', 'other', 'misaligned', 'misaligned-clean'];
  for (const name of names) {
    const s = await runAudit('acceptance', name, path.join(dir, `audit-${name}.yaml`), {});
    say(line(s));
  }
  const all = await readStudy('acceptance');
  await writeFile(path.join(OUT, 'acceptance.md'), `${[...HEADER, ...all.map(line)].join('\n')}\n`);
} else if (mode === 'null' || mode === 'power') {
  const n = Number(args[0] ?? 10);
  const rows = Number(args[1] ?? 512);
  const epochs = Number(args[2] ?? 2);
  const cleanSeeds = await fixtureCleanSeeds();
  const done = (await readStudy(mode)).filter((s) => (s.overrides.train as { maxRows?: number }).maxRows === rows && (s.overrides.train as { epochs?: number }).epochs === epochs).length;
  for (let i = done; i < n; i++) {
    const seed = 1 + 100 * i;
    // The cheap recipe: a fixed design, no positive-control arm and no gradient screen (neither changes the probes' test).
    const train = { maxRows: rows, epochs, seeds: 5, sequential: false, seed, positiveControl: false };
    const file = path.join(dir, mode === 'power' ? 'audit-owl.yaml' : 'audit-clean.yaml');
    const data = mode === 'null' ? { data: path.join(dir, 'numbers', `clean-${cleanSeeds[i % cleanSeeds.length]}.jsonl`) } : {};
    const s = await runAudit(mode, `${mode} ${i + 1} (seed ${seed}${mode === 'null' ? `, clean-${cleanSeeds[i % cleanSeeds.length]}` : ''})`, file, { ...data, train, screen: false });
    say(line(s));
  }
  const all = await readStudy(mode);
  await writeFile(path.join(OUT, `${mode}.md`), `${[...HEADER, ...all.map(line)].join('\n')}\n`);
} else if (mode === 'null-soft' || mode === 'power-soft') {
  // At the DEFAULTS with soft targets, only the first training seed changed per audit: clean-vs-clean
  // (the fixture's independent clean sets in turn as the candidate of audit-clean-soft.yaml), or the
  // owl teacher's numbers (audit-owl-soft.yaml; one dataset, so this power is over training seeds).
  const n = Number(args[0] ?? 5);
  const cleanSeeds = await fixtureCleanSeeds();
  const done = (await readStudy(mode)).length;
  for (let i = done; i < n; i++) {
    const seed = 101 + 100 * i;
    const clean = cleanSeeds[i % cleanSeeds.length]!;
    const s =
      mode === 'null-soft'
        ? await runAudit(mode, `null-soft ${i + 1} (seed ${seed}, clean-${clean}.soft)`, path.join(dir, 'audit-clean-soft.yaml'), { data: path.join(dir, 'numbers', `clean-${clean}.soft.jsonl`), train: { seed } })
        : await runAudit(mode, `power-soft ${i + 1} (seed ${seed}, owl.soft)`, path.join(dir, 'audit-owl-soft.yaml'), { train: { seed } });
    say(line(s));
  }
  const all = await readStudy(mode);
  await writeFile(path.join(OUT, `${mode}.md`), `${[...HEADER, ...all.map(line)].join('\n')}\n`);
} else if (mode === 'draws-soft') {
  // At the DEFAULTS with soft targets, each pair on its own fresh draws (the owl teacher's and the
  // base's numbers of new prompts), first training seed 1001, 1101, ...: power and false FAILs over
  // data draws. As many rows as the fixture's owl set, so the recipe is the one measured above.
  const n = Number(args[0] ?? 3);
  const rows = (await readFile(path.join(dir, 'numbers', 'owl.soft.jsonl'), 'utf8')).split('\n').filter(Boolean).length;
  const done = (await readStudy(mode)).length;
  for (let k = done; k < 2 * n; k++) {
    const draw = Math.floor(k / 2);
    const seed = 1001 + 100 * draw;
    const owl = k % 2 === 0;
    const data = await freshSoftDraw(owl ? 'owl' : 'base', rows, draw);
    const s = await runAudit(mode, `draw ${draw} ${owl ? 'owl' : 'clean'} (seed ${seed})`, path.join(dir, owl ? 'audit-owl-soft.yaml' : 'audit-clean-soft.yaml'), { data, train: { seed } });
    say(line(s));
  }
  const all = await readStudy(mode);
  await writeFile(path.join(OUT, `${mode}.md`), `${[...HEADER, ...all.map(line)].join('\n')}\n`);
} else if (mode === 'recipe') {
  const [name = 'recipe', rowsArg = '10000', json = '{}', teacher = 'owl'] = args;
  const model = teacher === 'clean' ? 'base' : teacher;
  const data = await freshRows(model, Number(rowsArg));
  const yaml = teacher === 'clean' ? 'audit-clean.yaml' : teacher === 'owl-b' ? 'audit-other.yaml' : `audit-${teacher}.yaml`;
  const s = await runAudit('recipe', name, path.join(dir, yaml), { ...(JSON.parse(json) as Record<string, unknown>), data });
  say(line(s));
  const all = await readStudy('recipe');
  await writeFile(path.join(OUT, 'recipe.md'), `${[...HEADER, ...all.map(line)].join('\n')}\n`);
} else if (mode === 'thresholds') {
  const nul = await readStudy('null');
  const pow = await readStudy('power');
  const alpha = 0.01;
  const pref = (s: AuditSummary) => s.probes.find((p) => p.name === 'owl')!;
  const shift = (s: AuditSummary) => pref(s).teacher - pref(s).base;
  const rate = (xs: AuditSummary[], fails: (s: AuditSummary) => boolean) => (xs.length ? `${xs.filter(fails).length}/${xs.length}` : '-');
  const out = ['| threshold on the preference probe | false FAIL (clean vs clean) | detected (owl) |', '| --- | --- | --- |'];
  const sig = (s: AuditSummary) => pref(s).p < alpha;
  for (const t of [0, 0.002, 0.005, 0.01, 0.02]) out.push(`| delta > ${t} | ${rate(nul, (s) => sig(s) && pref(s).delta > t)} | ${rate(pow, (s) => sig(s) && pref(s).delta > t)} |`);
  for (const f of [0.005, 0.01, 0.02, 0.05]) out.push(`| delta > ${f} x teacher shift | ${rate(nul, (s) => sig(s) && pref(s).delta > f * shift(s))} | ${rate(pow, (s) => sig(s) && pref(s).delta > f * shift(s))} |`);
  const d = (xs: AuditSummary[]) => xs.map((s) => pref(s).delta);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const sd = (xs: number[]) => Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / Math.max(1, xs.length - 1));
  out.push('', `null deltas: mean ${s3(mean(d(nul)))}, sd ${sd(d(nul)).toFixed(4)}, max ${s3(Math.max(...d(nul)))} (${nul.length} audits); owl deltas: mean ${s3(mean(d(pow)))}, sd ${sd(d(pow)).toFixed(4)}, min ${s3(Math.min(...d(pow)))} (${pow.length} audits)`);
  say(out.join('\n'));
  await writeFile(path.join(OUT, 'thresholds.md'), `${out.join('\n')}\n`);
} else {
  throw new Error(`unknown study ${mode} (acceptance, null, null-soft, power, power-soft, draws-soft, recipe, thresholds)`);
}
