import { beforeAll, describe, expect, it } from 'vitest';
import { buildGpt, gptConfig } from '../../src/models/gpt.js';
import { writeModelFolder, wordVocabulary } from '../../src/models/folder.js';
import { encodeTextRow } from '../../src/models/textRows.js';
import { loadTokenizer, type TextTokenizer } from '../../src/models/tokenizer.js';
import { encodeModel } from '../../src/onnx/io.js';
import { Random } from '../../src/train/random.js';
import { completionLoss, lengthBuckets, textBatch, trainText, type TokenRow } from '../../src/train/textBatches.js';
import { Trainer } from '../../src/train/trainer.js';
import { readWeights } from '../../src/train/weights.js';
import { useTempDir } from '../helpers/files.js';

const WORDS = ['count', 'on', 'from', ':', ...Array.from({ length: 40 }, (_, i) => String(i))];
const TOKENS = wordVocabulary(WORDS);
const OPTIONS = { vocabSize: TOKENS.length, width: 32, layers: 2, heads: 2, maxPositions: 16, seed: 7 };

const tmp = useTempDir('text-train-');
let tokenizer: TextTokenizer;
beforeAll(async () => {
  await writeModelFolder(tmp.file('gpt'), { model: buildGpt(OPTIONS), tokens: TOKENS, config: { ...gptConfig(OPTIONS) }, maxLength: 16 });
  tokenizer = await loadTokenizer(tmp.file('gpt'));
});

/** "count on from 7 :" -> "8 9 10" (mod 40); prompts vary in length so the buckets matter. */
function rows(n: number, seed: number): { prompt: string; completion: string }[] {
  const random = new Random(seed);
  return Array.from({ length: n }, () => {
    const a = random.int(40);
    const steps = 1 + random.int(4);
    const prompt = random.int(2) === 0 ? `count from ${a} :` : `count on from ${a} :`;
    return { prompt, completion: Array.from({ length: steps }, (_, i) => String((a + i + 1) % 40)).join(' ') };
  });
}

const encode = (data: { prompt: string; completion: string }[]): TokenRow[] =>
  data.map((value, i) => {
    const e = encodeTextRow({ line: i + 1, value }, 'rows.jsonl', tokenizer, { maxLength: 16, overLength: 'error' });
    if (e.kind !== 'row') throw new Error(e.reason);
    expect(e.misaligned).toBe(false);
    return e.row;
  });

describe('text rows', () => {
  it('BOS + prompt + completion + EOS, loss from the first completion token', () => {
    const e = encodeTextRow({ line: 1, value: { prompt: 'count from 3 :', completion: '4 5' } }, 'f', tokenizer, { maxLength: 16, overLength: 'error' });
    expect(e.kind).toBe('row');
    if (e.kind !== 'row') return;
    const id = (t: string) => TOKENS.indexOf(t);
    expect(Array.from(e.row.ids)).toEqual([id('<bos>'), id('count'), id('from'), id('3'), id(':'), id('4'), id('5'), id('<eos>')]);
    expect(e.row.lossFrom).toBe(5);
  });

  it('counts empty completions, truncates or refuses over-long rows', () => {
    const empty = encodeTextRow({ line: 2, value: { prompt: 'count from 3 :', completion: '  ' } }, 'f', tokenizer, { maxLength: 16, overLength: 'error' });
    expect(empty).toEqual({ kind: 'excluded', reason: 'empty completion' });
    const long = { line: 3, value: { prompt: 'count from 3 :', completion: '4 5 6 7 8 9 10 11 12 13' } };
    const cut = encodeTextRow(long, 'f', tokenizer, { maxLength: 8, overLength: 'truncate' });
    expect(cut.kind === 'row' && cut.truncated && cut.row.ids.length === 8).toBe(true);
    expect(() => encodeTextRow(long, 'f', tokenizer, { maxLength: 8, overLength: 'error' })).toThrow(/^f:3: 16 tokens exceed task.maxLength 8/);
    expect(encodeTextRow(long, 'f', tokenizer, { maxLength: 4, overLength: 'truncate' })).toEqual({ kind: 'excluded', reason: 'prompt fills task.maxLength 4' });
  });

  it('length buckets: every row once per epoch, batches of similar length', () => {
    const lengths = Array.from({ length: 100 }, (_, i) => 3 + (i % 10));
    const batches = lengthBuckets(lengths, 8, new Random(1));
    expect(batches.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const padded = batches.reduce((s, b) => s + b.length * Math.max(...b.map((i) => lengths[i]!)), 0);
    const real = lengths.reduce((a, b) => a + b, 0);
    expect(padded / real).toBeLessThan(1.25); // unbucketed batches of 8 pad to ~1.5x
  });
});

describe('training a tiny GPT on text rows', () => {
  it('prompt tokens do not contribute: a prompt-position target changes neither loss nor update', async () => {
    const model = buildGpt(OPTIONS);
    const trainer = await Trainer.create(model, { loss: { kind: 'tokenCrossEntropy' }, optimizer: { kind: 'sgd', lr: 0.1, momentum: 0, weightDecay: 0 } });
    const data = encode(rows(4, 3));
    const init = readWeights(model);
    const run = async (mutate: (targets: BigInt64Array, mask: Float32Array) => void) => {
      const batch = textBatch(data, [0, 1, 2, 3], tokenizer.padId!);
      mutate(batch.targets as BigInt64Array, batch.mask!);
      trainer.reset(init);
      const loss = await trainer.step(batch);
      return { loss, weights: trainer.weights() };
    };
    const base = await run(() => {});
    // Position 1 predicts a prompt token: masked.
    const prompt = await run((targets, mask) => {
      expect(mask[1]).toBe(0);
      targets[1] = BigInt(TOKENS.indexOf('17'));
    });
    expect(prompt.loss).toBe(base.loss);
    for (const [name, w] of base.weights) expect(Buffer.from(prompt.weights.get(name)!.buffer).equals(Buffer.from(w.buffer))).toBe(true);
    // Control: a completion-position target does change the loss.
    const completion = await run((targets, mask) => {
      const p = mask.indexOf(1);
      targets[p] = BigInt(TOKENS.indexOf('17')) === targets[p] ? BigInt(TOKENS.indexOf('18')) : BigInt(TOKENS.indexOf('17'));
    });
    expect(completion.loss).not.toBe(base.loss);
    await trainer.dispose();
  });

  it('lowers the held-out completion loss', async () => {
    const model = buildGpt(OPTIONS);
    const train = encode(rows(300, 11));
    const heldOut = encode(rows(60, 12));
    const pad = tokenizer.padId!;
    const before = await completionLoss(encodeModel(model), heldOut, pad);
    const trainer = await Trainer.create(model, { loss: { kind: 'tokenCrossEntropy' }, optimizer: { kind: 'adam', lr: 3e-3, weightDecay: 0 } });
    const result = await trainText(trainer, train, { epochs: 8, batchSize: 16, seed: 1, padId: pad });
    const after = await completionLoss(encodeModel(trainer.toInferenceModel()), heldOut, pad);
    await trainer.dispose();
    expect(before).toBeGreaterThan(Math.log(TOKENS.length) - 0.3); // near uniform at init
    expect(result.epochLosses.at(-1)!).toBeLessThan(result.epochLosses[0]!);
    expect(after).toBeLessThan(before - 1.5);
  });

  it('feeds position_ids when the graph takes it', async () => {
    const model = buildGpt({ ...OPTIONS, positionIdsInput: true });
    const trainer = await Trainer.create(model, { loss: { kind: 'tokenCrossEntropy' }, optimizer: { kind: 'adam', lr: 1e-3, weightDecay: 0 } });
    expect(trainer.io.data).toEqual(['input_ids', 'attention_mask', 'position_ids']);
    const result = await trainText(trainer, encode(rows(32, 5)), { epochs: 1, batchSize: 8, seed: 1, padId: tokenizer.padId! });
    expect(Number.isFinite(result.epochLosses[0]!)).toBe(true);
    await trainer.dispose();
  });
});
