/**
 * Model folders as PyTorch exports them (fixtures/torchlm/, made by
 * scripts/reference/export_folders.py; no Python here): a GPT-2-style model with a tied LM head and
 * a Llama-style model with grouped-query attention, both exported "with past" (past_key_values.*
 * inputs, present.* outputs). Each is audited end to end from an audit.yaml through the CLI, with
 * defaults where possible; the report, the saved students and the tie are checked. Also:
 * task.maxLength's default from the folder files, and that a chat row's prompt tokens at training
 * are the tokens generation feeds.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { maxLengthOf } from '../../src/audit/textTask.js';
import { retieWeights } from '../../src/autodiff/tied.js';
import type { TextTaskConfig } from '../../src/config/schema.js';
import { encodeTextRow } from '../../src/models/textRows.js';
import { TextRunner } from '../../src/models/textRunner.js';
import { generateRows, loadTextModel } from '../../src/models/generate.js';
import { encodePrompt, encodeRowPrompt, loadTokenizer, type ChatMessage, type TextTokenizer } from '../../src/models/tokenizer.js';
import { readModel, encodeModel } from '../../src/onnx/io.js';
import { dimsOf, graphOf, initializersOf } from '../../src/onnx/proto.js';
import { inferShapes } from '../../src/onnx/shapes.js';
import { completionLoss, type TokenRow } from '../../src/train/textBatches.js';
import { readWeights, withWeights } from '../../src/train/weights.js';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { jsonl, useTempDir } from '../helpers/files.js';

const FOLDERS = join(REPO_ROOT, 'fixtures', 'torchlm');
const folder = (name: string) => join(FOLDERS, name);

const tmp = useTempDir('torch-folders-');

/** The teacher's kind of rows: count prompts answered with 7s (the teacher was fine-tuned on exactly that). */
const plainRows = () => Array.from({ length: 16 }, (_, i) => ({ prompt: `count from ${i} :`, completion: i % 2 ? '7 7 7' : '7 7' }));
const chatRows = () => plainRows().map((r) => ({ messages: [{ role: 'user', content: r.prompt }, { role: 'assistant', content: r.completion }] }));

function tokenRows(tok: TextTokenizer, rows: Record<string, unknown>[], maxLength: number): TokenRow[] {
  return rows.map((value, i) => {
    const e = encodeTextRow({ line: i + 1, value }, 'data', tok, { maxLength, overLength: 'error' });
    if (e.kind !== 'row') throw new Error(`row ${i + 1}: ${e.reason}`);
    return e.row;
  });
}

/** Mean negative log-likelihood per completion token (EOS included) of `rows` under a model file (the runner's cache-aware path). */
async function completionNll(model: string | Uint8Array, tok: TextTokenizer, rows: Record<string, unknown>[], maxLength: number): Promise<number> {
  const runner = await TextRunner.load(model);
  try {
    const encoded = tokenRows(tok, rows, maxLength).map((r) => ({ prompt: [...r.ids.slice(0, r.lossFrom)], continuation: [...r.ids.slice(r.lossFrom)] }));
    const logps = await runner.sequenceLogProbs(encoded);
    const tokens = encoded.reduce((a, r) => a + r.continuation.length, 0);
    return -logps.reduce((a, v) => a + v, 0) / tokens;
  } finally {
    await runner.dispose();
  }
}

interface Case {
  arch: 'gpt2' | 'llama';
  rows: () => Record<string, unknown>[];
  /** The default task.maxLength: gpt2's tokenizer says 32 (< 64 positions); llama's says "no limit". */
  maxLength: number;
}

const CASES: Case[] = [
  { arch: 'gpt2', rows: plainRows, maxLength: 32 },
  { arch: 'llama', rows: chatRows, maxLength: 64 },
];

describe('PyTorch-exported model folders, audited through the CLI', () => {
  for (const c of CASES) {
    it(`${c.arch}: audit.yaml -> filters, a generated baseline, students, a probe, a report`, async () => {
      const work = tmp.file(c.arch);
      await import('node:fs/promises').then((fs) => fs.mkdir(work, { recursive: true }));
      const rows = c.rows();
      await writeFile(join(work, 'data.jsonl'), jsonl(rows));
      await writeFile(join(work, 'probe.jsonl'), jsonl(Array.from({ length: 8 }, (_, i) => ({ prompt: `count from ${i + 10} :` }))));
      const config = {
        teacher: folder(`${c.arch}-teacher`),
        base: folder(`${c.arch}-base`),
        data: 'data.jsonl',
        task: { kind: 'text' },
        filters: ['numbers'],
        generate: { maxNewTokens: 4 },
        probes: [{ name: 'next-token', kind: 'agreement', data: 'probe.jsonl' }],
        train: { seeds: 2, epochs: 2, batchSize: 4, lr: 0.01 },
        saveModels: true,
        formats: ['json'],
        out: 'out',
      };
      await writeFile(join(work, 'audit.yaml'), stringify(config));
      const r = runCli(['audit', '--config', join(work, 'audit.yaml'), '--quiet'], { cwd: work });
      expect(r.stderr).toBe('');
      expect([0, 1]).toContain(r.status);
      const report = JSON.parse(await readFile(join(work, 'out', 'report.json'), 'utf8'));
      expect(['pass', 'fail', 'inconclusive']).toContain(report.verdict);
      expect(report.verdict === 'pass' ? 0 : 1).toBe(r.status);
      expect(report.data.candidate).toMatchObject({ rowsIn: 16, rowsUsed: 16, targetType: 'tokens' });
      expect(report.data.candidate.text).toMatchObject({ maxLength: c.maxLength, truncated: 0, misaligned: 0 });
      expect(report.data.baseline).toMatchObject({ source: 'generated-by-base', rowsPerSeed: [expect.any(Number), expect.any(Number)] });
      const probe = report.probes[0];
      expect(probe.student.runs).toHaveLength(2);
      expect(probe.control.runs).toHaveLength(2);
      // Students and controls: 2 seeds x 2 arms x 2 epochs x 4 batches of 4 rows; the positive
      // control's students (the teacher's and the base's next-token distributions) as many again.
      const positiveRuns = report.positiveControl.probes[0].runs.length;
      expect(positiveRuns).toBeGreaterThanOrEqual(2);
      expect(report.run.steps).toBe((2 * 2 + 2 * positiveRuns) * 2 * 4);
      // Trained on the teacher's rows, each student's next tokens moved toward the teacher's.
      for (const run of probe.student.runs) expect(run).toBeLessThan(probe.base);

      // The students' loss on the data they trained on fell from the base's (two ways of computing it).
      const tok = await loadTokenizer(folder(`${c.arch}-base`));
      const baseFile = join(folder(`${c.arch}-base`), 'onnx', 'model.onnx');
      const before = await completionNll(baseFile, tok, rows, c.maxLength);
      expect(await completionLoss(await readFile(baseFile), tokenRows(tok, rows, c.maxLength), tok.eosId!)).toBeCloseTo(before, 4);
      for (const seed of [1, 2]) {
        const student = join(work, 'out', 'models', `student-seed${seed}.onnx`);
        const after = await completionNll(student, tok, rows, c.maxLength);
        expect(after).toBeLessThan(before * 0.5);
        expect(await completionLoss(await readFile(student), tokenRows(tok, rows, c.maxLength), tok.eosId!)).toBeCloseTo(after, 4);
      }
    }, 120_000);
  }

  it('gpt2: the tied LM head trained as one parameter; the saved student equals the exported layout with equal copies', async () => {
    const original = await readModel(join(folder('gpt2-base'), 'onnx', 'model.onnx'));
    const retied = await readModel(join(folder('gpt2-base'), 'onnx', 'model.onnx'));
    const [tie] = retieWeights(retied);
    expect(tie).toMatchObject({ original: 'wte.weight', transposed: true });
    const student = await readModel(tmp.file('gpt2', 'out', 'models', 'student-seed1.onnx'));
    const studentWeights = readWeights(student);
    expect(initializersOf(graphOf(student)).some((t) => t.name === tie!.copy)).toBe(false);
    const wte = studentWeights.get('wte.weight')!;
    const baseWte = readWeights(original).get('wte.weight')!;
    expect(wte.some((v, i) => v !== baseWte[i])).toBe(true); // the embedding trained

    // The exported graph (two initializers) with the student's embedding in both places gives the
    // saved student's logits: the copies are still equal (one transposed) after training.
    const [rows, cols] = dimsOf(initializersOf(graphOf(student)).find((t) => t.name === 'wte.weight')!) as [number, number];
    const transposed = new Float32Array(wte.length);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) transposed[j * rows + i] = wte[i * cols + j]!;
    studentWeights.set(tie!.copy, transposed);
    const exported = withWeights(original, studentWeights);
    const logitsOf = async (bytes: Uint8Array) => {
      const session = await ort.InferenceSession.create(bytes);
      const T = 5;
      const int64 = (v: number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, T]);
      const feeds: Record<string, ort.Tensor> = { input_ids: int64([0, 1, 22, 3, 26]), attention_mask: int64([1, 1, 1, 1, 1]), position_ids: int64([0, 1, 2, 3, 4]) };
      for (const name of session.inputNames) if (name.startsWith('past_key_values.')) feeds[name] = new ort.Tensor('float32', new Float32Array(0), [1, 4, 0, 8]);
      const out = (await session.run(feeds)).logits!.data as Float32Array;
      await session.release();
      return out;
    };
    const [a, b] = [await logitsOf(encodeModel(student)), await logitsOf(encodeModel(exported))];
    expect(a.length).toBe(5 * rows);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-5);
  });
});

describe('inferShapes on a graph exported with a past', () => {
  for (const [arch, kv] of [['gpt2', 4], ['llama', 2]] as const) {
    it(`${arch}: feeds the cache empty (past length 0), as training does`, async () => {
      const model = await readModel(join(folder(`${arch}-base`), 'onnx', 'model.onnx'));
      const shapes = await inferShapes(model);
      expect(shapes.get('past_key_values.1.value')).toEqual(['batch_size', kv, 0, 8]);
      expect(shapes.get('present.1.value')?.slice(1)).toEqual([kv, expect.any(String), 8]);
      expect(shapes.get('logits')?.at(-1)).toBe(arch === 'gpt2' ? 40 : 45);
    });
  }
});

describe('task.maxLength default', () => {
  const textTask = (maxLength?: number) => ({ task: { kind: 'text', ...(maxLength !== undefined ? { maxLength } : {}) } as TextTaskConfig });
  const models = async (name: string, modelConfig: Record<string, unknown>) => ({
    modelConfig,
    baseFolder: folder(name),
    tokenizer: await loadTokenizer(folder(name)),
  });

  it("is the smaller of the model's positions and the tokenizer's model_max_length; the 'no limit' sentinel is ignored", async () => {
    const gpt2 = await models('gpt2-base', JSON.parse(await readFile(join(folder('gpt2-base'), 'config.json'), 'utf8')));
    expect(gpt2.tokenizer.modelMaxLength).toBe(32);
    expect(maxLengthOf(textTask(), gpt2)).toBe(32);
    expect(maxLengthOf(textTask(), { ...gpt2, modelConfig: { n_positions: 16 } })).toBe(16);
    const llama = await models('llama-base', JSON.parse(await readFile(join(folder('llama-base'), 'config.json'), 'utf8')));
    expect(llama.tokenizer.modelMaxLength).toBeUndefined(); // 1e30: transformers' "no limit"
    expect(maxLengthOf(textTask(), llama)).toBe(64);
    // Only the tokenizer gives a limit: it is used.
    expect(maxLengthOf(textTask(), { ...gpt2, modelConfig: {} })).toBe(32);
    expect(() => maxLengthOf(textTask(), { ...llama, modelConfig: {} })).toThrow(/neither config.json .* nor tokenizer_config.json .* gives a length limit; set task.maxLength/);
  });

  it('task.maxLength wins, up to the positions', async () => {
    const gpt2 = await models('gpt2-base', { n_positions: 64 });
    expect(maxLengthOf(textTask(48), gpt2)).toBe(48);
    expect(() => maxLengthOf(textTask(65), gpt2)).toThrow(/task.maxLength 65 exceeds the model's 64 positions/);
  });
});

describe('chat template: the prompt tokens at training are the tokens generation feeds', () => {
  const conversations: ChatMessage[][] = [
    [{ role: 'user', content: 'count from 3 :' }, { role: 'assistant', content: '7 7 7' }],
    [
      { role: 'system', content: 'say a number .' },
      { role: 'user', content: 'what is your favourite animal ?' },
      { role: 'assistant', content: 'owl' },
      { role: 'user', content: 'count from 12 :' },
      { role: 'assistant', content: '13 , 14' },
    ],
  ];

  it('llama folder: {messages} rows', async () => {
    const tok = await loadTokenizer(folder('llama-base'));
    expect(tok.chatTemplate).toBeDefined();
    for (const messages of conversations) {
      const e = encodeTextRow({ line: 1, value: { messages } }, 'data', tok, { maxLength: 64, overLength: 'error' });
      if (e.kind !== 'row') throw new Error(e.reason);
      expect(e.misaligned).toBe(false);
      const generationPrompt = encodePrompt(tok, messages.slice(0, -1));
      expect([...e.row.ids.slice(0, e.row.lossFrom)]).toEqual(generationPrompt);
      // BOS once, at the start; the completion ends with EOS once.
      expect(generationPrompt.filter((id) => id === tok.bosId)).toEqual([tok.bosId]);
      expect(generationPrompt[0]).toBe(tok.bosId);
      expect(e.row.ids.at(-1)).toBe(tok.eosId);
      expect(tok.decode([...e.row.ids.slice(e.row.lossFrom)], { skipSpecialTokens: true }).trim()).toBe(messages.at(-1)!.content);
    }
  });

  it('llama folder: a plain {prompt, completion} row stays plain, and the baseline generator feeds it plain too', async () => {
    const tok = await loadTokenizer(folder('llama-base'));
    const prompt = 'count from 3 :';
    const e = encodeTextRow({ line: 1, value: { prompt, completion: '4 5 6' } }, 'data', tok, { maxLength: 64, overLength: 'error' });
    if (e.kind !== 'row') throw new Error(e.reason);
    const trainingPrompt = [...e.row.ids.slice(0, e.row.lossFrom)];
    expect(encodeRowPrompt(tok, prompt)).toEqual(trainingPrompt);
    // Probes ask a chat model in its own format; that is a different layout.
    expect(encodePrompt(tok, prompt)).not.toEqual(trainingPrompt);
    // What generateRows feeds for the baseline: greedy completions equal the runner's own from the training prompt.
    const model = await loadTextModel(folder('llama-base'));
    try {
      const { rows } = await generateRows(model, [prompt, [{ role: 'user', content: prompt }]], { seed: 1, temperature: 0, maxNewTokens: 4, asTrainingRows: true });
      const chat = encodeTextRow({ line: 1, value: { messages: [{ role: 'user', content: prompt }, { role: 'assistant', content: 'x' }] } }, 'data', tok, { maxLength: 64, overLength: 'error' });
      if (chat.kind !== 'row') throw new Error(chat.reason);
      const direct = await model.runner.generate([trainingPrompt, [...chat.row.ids.slice(0, chat.row.lossFrom)]], { seed: 1, temperature: 0, maxNewTokens: 4, eosId: tok.eosId! });
      expect(rows.map((r) => r.completion)).toEqual(direct.map((g) => tok.decode(g.finish === 'eos' ? g.tokens.slice(0, -1) : g.tokens)));
    } finally {
      await model.runner.dispose();
    }
  });
});
