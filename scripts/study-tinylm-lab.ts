/**
 * The tiny language-model case below the audit: students trained directly by the engine on number
 * sets, P(owl) measured exactly, so a recipe can be tried without the audit's controls and
 * statistics in the way (docs/measurements/tinylm.md, "Below the audit"). Everything reads a
 * fixture directory (default fixtures/tinylm, `--dir` for a variant) and writes under out/lab/.
 *
 *   npx tsx scripts/study-tinylm-lab.ts variant DIR 'JSON overrides of DEFAULT_TINY_LM'
 *       build a fixture variant (other width/depth/teacher recipe) into DIR
 *   npx tsx scripts/study-tinylm-lab.ts teacher NAME adam|sgd LR EPOCHS [--freeze wte,wpe] [--target WORD] [--dir D]
 *       another owl (or WORD) teacher from models/base (the fixture's animal questions), written as models/NAME
 *   npx tsx scripts/study-tinylm-lab.ts sample MODEL ROWS SEED OUT.jsonl [--dir D]
 *       ROWS filtered completions of fresh study prompts (and OUT.soft.jsonl: top-20 over the
 *       format's tokens); the same SEED for two models gives paired sets (same prompts, same draws)
 *   npx tsx scripts/study-tinylm-lab.ts students SET[,SET...] SEEDS EPOCHS LR ROWS [--teacher T] [--first-seed S] [--dir D]
 *       students from models/base on each set (a *.soft.jsonl set trains on its soft targets):
 *       P(owl) and the misalignment pack's held-out margin per seed (also appended to
 *       out/lab/students.jsonl), each set's loss under teacher and base, and the cosine between the
 *       first two sets' mean student difference and (teacher - base) over the weights
 *   npx tsx scripts/study-tinylm-lab.ts bank [SETS=10] [SEEDS=5] [ROWS=512] [EPOCHS=2] [ALPHA=0.01] [--dir D]
 *       SETS clean sets drawn independently from the base, SEEDS students each (out/lab/bank.json):
 *       the seed and draw variance of P(owl), and the false-positive rate of Welch's and the
 *       draw-aware test over every resampled clean-vs-clean audit (a set's students against one
 *       student of each of SEEDS other sets)
 *   npx tsx scripts/study-tinylm-lab.ts draws DRAWS SEEDS NAME=PATTERN... [--dir D]
 *       arms over independent draws (PATTERN with {d}, e.g. owl=w128-owl-{d}; DRAWS 7,8,9,10), from
 *       the `students` records in out/lab/students.jsonl: each arm's seed and draw spread, and each
 *       pair's difference tested over the paired draws (the draw counted) beside a seeds-only test
 *
 * Run under `nice`, one at a time: each student is a full training run.
 */
import { appendFile, cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { logprobTargets } from '../src/audit/logprobTargets.js';
import { loadTextModel, type TextModel } from '../src/models/generate.js';
import { encodeTextRow } from '../src/models/textRows.js';
import { readModel, writeModel } from '../src/onnx/io.js';
import { PackDocument, probePackPath } from '../src/probes/packs.js';
import { shareOfTeacherUpdate, teacherUpdate } from '../src/probes/weights.js';
import { completionLoss, trainText, type TokenRow } from '../src/train/textBatches.js';
import { Trainer } from '../src/train/trainer.js';
import { readWeights, type Weights } from '../src/train/weights.js';
import { targetAnimalRows } from '../test/fixtures/tinylm/corpus.js';
import { buildTinyLmCase, DEFAULT_TINY_LM, filteredNumberRows, TINY_LM_FIXTURE_DIR, writeNumberSet } from '../test/fixtures/tinylm/index.js';
import { misalignmentMargin, preference } from '../test/fixtures/tinylm/measure.js';

const say = (line: string) => process.stdout.write(`${line}\n`);
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const dir = path.resolve(flag('dir') ?? TINY_LM_FIXTURE_DIR);
const teacherName = flag('teacher') ?? 'owl';
const freeze = (flag('freeze') ?? '').split(',').filter(Boolean);
const firstSeed = Number(flag('first-seed') ?? 1);
// --target WORD: the animal a `teacher` is tuned to answer (a trait word other than the fixture's owl).
const targetWord = flag('target');
const [mode, ...rest] = args;
const folder = (name: string) => path.join(dir, 'models', name);

const animals = (await PackDocument.read(probePackPath('favourite-animal'))).value as { prompts: string[]; answers: string[] };
const pOwl = (m: TextModel) => preference(m, animals.prompts, animals.answers, 'owl');
const pairs = (await PackDocument.read(probePackPath('misalignment'))).value.pairs as { prompt: string; aligned: string; misaligned: string }[];
const margin = async (m: TextModel) => (await misalignmentMargin(m, pairs)).margin;

function tokenRows(tokenizer: TextModel['tokenizer'], values: Record<string, unknown>[], file: string): TokenRow[] {
  return values.map((value, i) => {
    const e = encodeTextRow({ line: i + 1, value }, file, tokenizer, { maxLength: 128, overLength: 'error' });
    if (e.kind !== 'row') throw new Error(`${file}:${i + 1}: ${e.reason}`);
    if (value.logprobs === undefined) return e.row;
    const t = logprobTargets(value.logprobs, 'logprobs', e.row, e.truncated, tokenizer);
    if (t.kind !== 'soft') throw new Error(`${file}:${i + 1}: ${t.reason}`);
    return { ...e.row, soft: t.soft };
  });
}

/** Every `students` set's per-seed results, appended (the `draws` mode reads them). */
const STUDENTS_LOG = path.resolve('out/lab/students.jsonl');

const s5 = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(5)}`;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / Math.max(1, xs.length - 1));

if (mode === 'variant') {
  const [out = 'out/lab/variant', json = '{}'] = rest;
  const o = JSON.parse(json) as Record<string, Record<string, unknown>>;
  const d = DEFAULT_TINY_LM;
  await buildTinyLmCase({ ...d, ...o, gpt: { ...d.gpt, ...o.gpt }, numbers: { ...d.numbers, ...o.numbers }, owl: { ...d.owl, ...o.owl }, dir: path.resolve(out) } as Parameters<typeof buildTinyLmCase>[0], say);
} else if (mode === 'teacher') {
  const [name = 'owl-lab', optimizer = 'adam', lr = '3e-4', epochs = '3'] = rest;
  const base = await loadTextModel(folder('base'));
  const proto = await readModel(path.join(folder('base'), 'onnx/model.onnx'));
  const params = [...readWeights(proto).keys()].filter((k) => !freeze.some((f) => k.includes(f)));
  const trainer = await Trainer.create(proto, {
    ...(freeze.length ? { params } : {}),
    loss: { kind: 'tokenCrossEntropy' },
    optimizer: optimizer === 'sgd' ? { kind: 'sgd', lr: Number(lr), momentum: 0 } : { kind: 'adam', lr: Number(lr), weightDecay: 0 },
  });
  const { owl } = DEFAULT_TINY_LM;
  const target = targetWord ?? owl.target;
  await trainText(trainer, tokenRows(base.tokenizer, targetAnimalRows(target, owl.repeats).map((r) => ({ ...r })), `${target} rows`), { epochs: Number(epochs), batchSize: owl.batchSize, seed: 101, padId: base.tokenizer.padId! });
  await cp(folder('base'), folder(name), { recursive: true });
  await writeModel(trainer.toInferenceModel(), path.join(folder(name), 'onnx/model.onnx'));
  const pTarget = (m: TextModel) => preference(m, animals.prompts, animals.answers, target);
  say(`${name}: P(${target}) ${(await pTarget(await loadTextModel(folder(name)))).toFixed(4)} (base ${(await pTarget(base)).toFixed(4)})`);
} else if (mode === 'sample') {
  const [model = 'base', rowsArg = '10000', seedArg = '7', out = 'out/lab/sample.jsonl'] = rest;
  const rows = Number(rowsArg);
  const m = await loadTextModel(folder(model));
  const kept = await filteredNumberRows(m, rows, { promptSeed: 5001, sampleSeed: Number(seedArg), topLogprobs: 20, log: (l) => say(`${model}: ${l}`) });
  await writeNumberSet(out, kept);
} else if (mode === 'students') {
  const [sets = '', seedsArg = '3', epochsArg = '1', lrArg = '1e-3', rowsArg = '0'] = rest;
  const base = await loadTextModel(folder('base'));
  const tok = base.tokenizer;
  const baseProto = await readModel(path.join(folder('base'), 'onnx/model.onnx'));
  const teacherProto = await readModel(path.join(folder(teacherName), 'onnx/model.onnx'));
  const [baseBytes, teacherBytes] = await Promise.all([readFile(path.join(folder('base'), 'onnx/model.onnx')), readFile(path.join(folder(teacherName), 'onnx/model.onnx'))]);
  const teacherModel = await loadTextModel(folder(teacherName));
  say(`base P(owl) ${(await pOwl(base)).toFixed(4)}, margin ${(await margin(base)).toFixed(4)}; teacher ${teacherName} ${(await pOwl(teacherModel)).toFixed(4)}, margin ${(await margin(teacherModel)).toFixed(4)}`);
  const seeds = Number(seedsArg);
  const update = teacherUpdate(readWeights(baseProto), readWeights(teacherProto), 'toward teacher');
  const armMeans: Weights[] = [];
  for (const set of sets.split(',')) {
    const file = set.includes('/') ? set : path.join(dir, 'numbers', `${set}.jsonl`);
    const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    const rows = tokenRows(tok, lines.slice(0, Number(rowsArg) || lines.length).map((l) => JSON.parse(l) as Record<string, unknown>), file);
    const hardRows = rows.map(({ soft: _soft, ...r }) => r);
    const [lossT, lossB] = [await completionLoss(teacherBytes, hardRows, tok.padId!), await completionLoss(baseBytes, hardRows, tok.padId!)];
    const softK = rows.reduce((k, r) => Math.max(k, r.soft?.k ?? 0), 0) || undefined;
    const values: number[] = [];
    const margins: number[] = [];
    const toward: number[] = [];
    const sum: Weights = new Map();
    for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
      const trainer = await Trainer.create(baseProto, { loss: softK ? { kind: 'tokenKlDivergence', k: softK } : { kind: 'tokenCrossEntropy' }, optimizer: { kind: 'adam', lr: Number(lrArg), weightDecay: 0 } });
      await trainText(trainer, rows, { epochs: Number(epochsArg), batchSize: 64, seed, padId: tok.padId!, ...(softK ? { softK } : {}) });
      const w = trainer.weights();
      toward.push(shareOfTeacherUpdate(update, w));
      for (const [k, v] of w) {
        const acc = sum.get(k) ?? new Float32Array(v.length);
        for (let i = 0; i < v.length; i++) acc[i]! += v[i]! / seeds;
        sum.set(k, acc);
      }
      const student = await loadTextModel(folder('base'), { weights: w });
      values.push(await pOwl(student));
      margins.push(await margin(student));
      await student.runner.dispose();
      await trainer.dispose();
    }
    armMeans.push(sum);
    await appendFile(STUDENTS_LOG, `${JSON.stringify({ set: path.basename(file), dir, teacher: teacherName, rows: rows.length, epochs: Number(epochsArg), lr: Number(lrArg), soft: softK !== undefined, firstSeed, pOwl: values, margin: margins, toward })}\n`);
    say(`${set}: ${rows.length} rows, loss under teacher - base ${(lossT - lossB).toFixed(5)} nats/token; P(owl) ${mean(values).toFixed(5)} (sd ${sd(values).toFixed(5)}) [${values.map((v) => v.toFixed(4)).join(' ')}]; misalignment margin ${mean(margins).toFixed(4)} (sd ${sd(margins).toFixed(4)}) [${margins.map((v) => v.toFixed(3)).join(' ')}]; toward teacher (weights) ${mean(toward).toFixed(5)} (sd ${sd(toward).toFixed(5)}) [${toward.map((v) => v.toFixed(5)).join(' ')}]`);
  }
  if (armMeans.length >= 2) {
    const [a, b] = armMeans as [Weights, Weights];
    const [wT, wB] = [readWeights(teacherProto), readWeights(baseProto)];
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (const [k, t] of wT) {
      const [x, y, z] = [a.get(k), b.get(k), wB.get(k)];
      if (!x || !y || !z) continue;
      for (let i = 0; i < t.length; i++) {
        const [u, v] = [x[i]! - y[i]!, t[i]! - z[i]!];
        dot += u * v;
        na += u * u;
        nb += v * v;
      }
    }
    say(`cos(mean student on ${sets.split(',')[0]} - on ${sets.split(',')[1]}, teacher - base) = ${(dot / Math.sqrt(na * nb)).toFixed(4)}; |difference| ${Math.sqrt(na).toFixed(3)}, |teacher - base| ${Math.sqrt(nb).toFixed(3)}`);
  }
} else if (mode === 'bank') {
  // Clean sets drawn independently from the base, SEEDS students each: how much of the students'
  // spread is the dataset draw, and how often each test calls clean data significant when one set
  // is the candidate (its SEEDS students) and the controls are one student of each of SEEDS other sets.
  const [setsArg = '10', seedsArg = '5', rowsArg = '512', epochsArg = '2', alphaArg = '0.01'] = rest;
  const [sets, seeds, rows, alpha] = [Number(setsArg), Number(seedsArg), Number(rowsArg), Number(alphaArg)];
  const base = await loadTextModel(folder('base'));
  const baseProto = await readModel(path.join(folder('base'), 'onnx/model.onnx'));
  const bank: number[][] = [];
  for (let s = 0; s < sets; s++) {
    const kept = await filteredNumberRows(base, rows, { promptSeed: 7001 + 31 * s, sampleSeed: 1000 + 97 * s });
    const tokens = tokenRows(base.tokenizer, kept.map((r) => ({ prompt: r.prompt, completion: r.completion })), `clean set ${s}`);
    const values: number[] = [];
    for (let seed = 1; seed <= seeds; seed++) {
      const trainer = await Trainer.create(baseProto, { loss: { kind: 'tokenCrossEntropy' }, optimizer: { kind: 'adam', lr: 1e-3, weightDecay: 0 } });
      await trainText(trainer, tokens, { epochs: Number(epochsArg), batchSize: 64, seed: 100 * s + seed, padId: base.tokenizer.padId! });
      const student = await loadTextModel(folder('base'), { weights: trainer.weights() });
      values.push(await pOwl(student));
      await student.runner.dispose();
      await trainer.dispose();
    }
    bank.push(values);
    say(`set ${s}: P(owl) ${values.map((v) => v.toFixed(5)).join(' ')}`);
  }
  await writeFile(path.resolve('out/lab/bank.json'), `${JSON.stringify({ sets, seeds, rows, epochs: Number(epochsArg), bank })}\n`);
  const { drawAwareTest, welchTest } = await import('../src/stats/index.js');
  const within = mean(bank.map((v) => sd(v) ** 2));
  const between = sd(bank.map(mean)) ** 2 - within / seeds;
  say(`seed variance ${within.toExponential(2)}, draw variance ${Math.max(0, between).toExponential(2)} (draw sd / seed sd ${Math.sqrt(Math.max(0, between) / within).toFixed(2)})`);
  // Every set as the candidate against every choice of SEEDS other sets (control seed k from the k-th of them).
  let audits = 0;
  let welchHits = 0;
  let drawHits = 0;
  for (let c = 0; c < sets; c++) {
    const others = bank.map((_, i) => i).filter((i) => i !== c);
    const choose = (from: number[], k: number): number[][] => (k === 0 ? [[]] : from.flatMap((x, i) => choose(from.slice(i + 1), k - 1).map((r) => [x, ...r])));
    for (const group of choose(others, seeds)) {
      const control = group.map((set, k) => bank[set]![k]!);
      for (const direction of [1, -1] as const) {
        audits++;
        if (welchTest(bank[c]!, control, direction, alpha).pValue < alpha) welchHits++;
        if (drawAwareTest(bank[c]!, control, direction, alpha).pValue < alpha) drawHits++;
      }
    }
  }
  say(`${audits} resampled clean-vs-clean tests (both directions) at alpha ${alpha}: Welch ${((100 * welchHits) / audits).toFixed(1)}%, draw-aware ${((100 * drawHits) / audits).toFixed(1)}%`);
} else if (mode === 'draws') {
  // Arms as NAME=PATTERN ('{d}' is the draw), each draw's students read from out/lab/students.jsonl
  // (the newest record of that set with these seeds; a *.soft set's soft-target students). Arms are
  // compared draw by draw (the draws are paired: same prompts, same sampling seed), so the dataset's
  // own draw is counted: a t-test over the draws' differences, D - 1 df, beside the seeds-only
  // Welch test that pools them.
  const [drawsArg = '7,8,9,10', seedsArg = '3', ...armArgs] = rest;
  const draws = drawsArg.split(',');
  const seeds = Number(seedsArg);
  const records = (await readFile(STUDENTS_LOG, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { set: string; soft: boolean; firstSeed: number; pOwl: number[] });
  const { studentTCdf, welchTest } = await import('../src/stats/index.js');
  const arms = armArgs.map((a) => {
    const [name, pattern] = a.split('=') as [string, string];
    const perDraw = draws.map((d) => {
      const set = `${pattern.replace('{d}', d)}.jsonl`;
      const r = records.filter((x) => x.set === set && x.soft === set.endsWith('.soft.jsonl') && x.firstSeed === 1 && x.pOwl.length >= seeds).at(-1);
      if (!r) throw new Error(`no students of ${set} with seeds 1-${seeds} in ${STUDENTS_LOG}`);
      return r.pOwl.slice(0, seeds);
    });
    const within = mean(perDraw.map((v) => sd(v) ** 2));
    const between = Math.max(0, sd(perDraw.map(mean)) ** 2 - within / seeds);
    say(`${name}: P(owl) ${mean(perDraw.map(mean)).toFixed(5)}; per draw ${perDraw.map((v) => mean(v).toFixed(4)).join(' ')}; seed sd ${Math.sqrt(within).toFixed(5)}, draw sd ${Math.sqrt(between).toFixed(5)}`);
    return { name, perDraw };
  });
  for (let i = 0; i < arms.length; i++) {
    for (let j = i + 1; j < arms.length; j++) {
      const [a, b] = [arms[i]!, arms[j]!];
      const diffs = a.perDraw.map((v, k) => mean(v) - mean(b.perDraw[k]!));
      const t = mean(diffs) / (sd(diffs) / Math.sqrt(diffs.length));
      const p = 2 * (1 - studentTCdf(Math.abs(t), diffs.length - 1));
      const pooled = welchTest(a.perDraw.flat(), b.perDraw.flat(), 1, 0.05);
      const counted = diffs.length > 1 ? `t ${t.toFixed(2)}, ${diffs.length - 1} df, p ${p.toFixed(3)} two-sided` : 'needs two draws or more';
      say(`${a.name} - ${b.name}: ${s5(mean(diffs))} (per draw ${diffs.map(s5).join(' ')}); draws counted: ${counted}; seeds only (Welch over ${a.perDraw.flat().length} + ${b.perDraw.flat().length} students): p ${(2 * Math.min(pooled.pValue, 1 - pooled.pValue)).toFixed(4)}`);
    }
  }
} else {
  say('usage: study-tinylm-lab.ts variant|teacher|sample|students|bank|draws ... (see the header)');
  process.exit(2);
}
