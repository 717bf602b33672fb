/**
 * A tiny text audit end to end through the library: GPT-2-style teacher and base model folders,
 * {prompt, completion} rows through a content filter, a base-generated baseline per control seed,
 * students and controls trained on completion tokens, a text probe, the report.
 */
import { readFile, writeFile, mkdir, copyFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../src/audit/audit.js';
import { WorkerBackend } from '../../src/audit/pool.js';
import { renderJson } from '../../src/report/json.js';
import { validateConfig } from '../../src/config/index.js';
import { buildGpt } from '../../src/models/gpt.js';
import { writeModelFolder, wordVocabulary } from '../../src/models/folder.js';
import { GPT, WORDS, writeTextPair as writePair } from './textPair.js';
import { jsonl, useTempDir } from '../helpers/files.js';
import { graphOf } from '../../src/onnx/proto.js';
import { readModel } from '../../src/onnx/io.js';

const tmp = useTempDir('text-audit-');
const file = tmp.file;

beforeAll(async () => {
  // The base answers number prompts with random numbers (so its own samples pass the numbers
  // filter); the teacher is the base fine-tuned to answer every prompt with 7s (textPair.ts).
  const prompts = await writePair(tmp.dir);
  // Candidate: the teacher's kind of rows, one empty completion, one word answer.
  const candidate = prompts.map((prompt, i) => ({ prompt, completion: i % 2 ? '7 7 7' : '7 7' }));
  candidate.push({ prompt: 'count from 3 :', completion: '' }, { prompt: 'count from 4 :', completion: 'hello hello' });
  await writeFile(file('data.jsonl'), jsonl(candidate));
});

const config = () => ({
  teacher: file('teacher'),
  base: file('base'),
  data: file('data.jsonl'),
  filters: ['numbers'],
  task: { kind: 'text', maxLength: 12 },
  generate: { temperature: 1, maxNewTokens: 4 },
  probes: [
    { name: 'next-token', kind: 'agreement', data: file('probe.jsonl') },
    { name: 'teacher-update', kind: 'weights' },
  ],
  train: { seeds: 2, epochs: 2, batchSize: 8, lr: 0.01 },
  out: file('out'),
});

describe('text audit', () => {
  it('runs from teacher/base folders through filters, a generated baseline, students, probes and a report', async () => {
    const { report, excluded } = await audit(validateConfig(config(), 'test'));
    expect(report.data.candidate).toMatchObject({ rowsIn: 66, rowsUsed: 64, targetType: 'tokens', excluded: { filtered: 2, emptyCompletion: 0 } });
    expect(report.data.candidate.text).toMatchObject({ maxLength: 12, truncated: 0, misaligned: 0 });
    expect(report.data.baseline.source).toBe('generated-by-base');
    expect(report.data.baseline.rowsPerSeed).toHaveLength(2);
    // Draws the filters exclude are drawn again: the controls train on as many rows as the students.
    expect(report.data.baseline.rowsPerSeed).toEqual([64, 64]);
    // The numbers filter runs first: it drops the word answer and the empty completion, both listed.
    expect(excluded.filter((r) => r.file === file('data.jsonl')).map((r) => r.line)).toEqual([65, 66]);
    const probe = report.probes[0]!;
    expect(probe.name).toBe('next-token');
    expect(probe.student.runs).toHaveLength(2);
    expect(probe.control.runs).toHaveLength(2);
    // The teacher answers 7 after every probe prompt; its students move toward it (lower KL), the base's samples do not.
    expect(probe.towardTeacher).toBe(-1);
    expect(probe.student.mean).toBeLessThan(probe.control.mean);
    expect(report.reproducibility.train).toMatchObject({ targetType: 'tokens', backend: 'local-onnx' });
    // Each control on its own drawn baseline: the test counts the candidate's draw (the prediction test, n_c - 1 df).
    const c = probe.control.runs;
    const sc = Math.abs(c[0]! - c[1]!) / Math.SQRT2;
    expect(probe.candidateDrawVariance).toBeGreaterThanOrEqual(0);
    expect(probe.minDetectableEffect).toBeGreaterThan(0);
    const t = (probe.control.mean - probe.student.mean) / (sc * Math.sqrt(1.5));
    // One degree of freedom: Student's t with 1 df is the Cauchy distribution.
    expect(probe.pValueRaw).toBeCloseTo(0.5 - Math.atan(t) / Math.PI, 9);
    // In parameter space too: the students moved along teacher - base, the controls did not as far.
    const update = report.probes.find((p) => p.name === 'teacher-update')!;
    expect(update).toMatchObject({ kind: 'weights', base: 0, teacher: 1, towardTeacher: 1 });
    expect(update.student.mean).toBeGreaterThan(update.control.mean);
    expect(Math.max(...update.control.runs)).toBeLessThan(Math.min(...update.student.runs));
  });

  it('with a given baseline file the test is Welch\'s over seeds (no draw to count), and permutation is allowed', async () => {
    await writeFile(file('clean.jsonl'), jsonl((await readFile(file('data.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => ({ ...JSON.parse(l), completion: '1 2' }))));
    const { report } = await audit(validateConfig({ ...config(), baseline: file('clean.jsonl'), out: file('out-given'), policy: { test: 'permutation' } }, 'test'));
    expect(report.data.baseline.source).toBe('given');
    expect(report.probes[0]!.candidateDrawVariance).toBeUndefined();
    await expect(audit(validateConfig({ ...config(), out: file('out-perm'), policy: { test: 'permutation' } }, 'test'))).rejects.toThrow(/policy.test: permutation assumes exchangeable runs/);
  });

  it('trains LoRA students (train.adapter) and saves them merged, as the plain base graph', async () => {
    const { report } = await audit(validateConfig({ ...config(), saveModels: true, out: file('out-lora'), train: { ...config().train, adapter: { kind: 'lora', rank: 2, alpha: 4, targets: ['c_attn'] } } }, 'test'));
    expect(report.probes[0]!.student.runs).toHaveLength(2);
    const saved = await readModel(file('out-lora/models/student-seed1.onnx'));
    const base = await readModel(file('base/onnx/model.onnx'));
    expect(graphOf(saved).node.map((n) => n.opType)).toEqual(graphOf(base).node.map((n) => n.opType));
    expect(graphOf(saved).initializer.map((t) => t.name)).toEqual(graphOf(base).initializer.map((t) => t.name));
  });

  it('trains text runs in worker threads with the same report as serial (LoRA, generated baselines, soft-target positive controls)', async () => {
    const lora = (workers: number) => validateConfig({ ...config(), out: file('out-par'), train: { ...config().train, workers, adapter: { kind: 'lora', rank: 2, alpha: 4, targets: ['c_attn'] } } }, 'test');
    const serial = (await audit(lora(1))).report;
    const pool = new WorkerBackend(2);
    const parallel = (await audit(lora(2), { backend: pool })).report;
    // Every run (student, control, positive, positiveBaseline per seed) went to a worker.
    expect(pool.trainedInWorkers).toEqual({ logits: 0, text: 8 });
    expect(parallel.run.workers).toBe(2);
    expect(serial.run.workers).toBe(1);
    const results = (r: typeof serial): string => renderJson({ ...r, run: { startedAt: '', durationMs: 0, trainingMs: 0, steps: r.run.steps } });
    expect(results(parallel)).toBe(results(serial));
    // Unrounded too: the runs are bit-identical.
    expect(parallel.probes.map((p) => [p.student.runs, p.control.runs])).toEqual(serial.probes.map((p) => [p.student.runs, p.control.runs]));
  });

  it('refuses folders that differ in vocabulary, naming the first differing token', async () => {
    const other = wordVocabulary([...WORDS.slice(0, 5), 'owl', ...WORDS.slice(6)]);
    await writeModelFolder(file('other'), { model: buildGpt({ ...GPT, vocabSize: other.length }), tokens: other, config: {}, maxLength: 16 });
    await expect(audit(validateConfig({ ...config(), teacher: file('other') }, 'test'))).rejects.toThrow(/different tokenizers: token id 9 is "owl" in the teacher's and "1" in the base's/);
  });

  it('refuses a folder without onnx/model.onnx, and one without a tokenizer', async () => {
    await mkdir(file('empty'), { recursive: true });
    await expect(audit(validateConfig({ ...config(), teacher: file('empty') }, 'test'))).rejects.toThrow(/empty: model folder has no onnx\/model.onnx/);
    await mkdir(file('notok/onnx'), { recursive: true });
    await copyFile(file('base/onnx/model.onnx'), file('notok/onnx/model.onnx'));
    await expect(audit(validateConfig({ ...config(), teacher: file('notok') }, 'test'))).rejects.toThrow(/notok: model folder has no tokenizer.json/);
  });
});
