import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { buildGpt, gptConfig } from '../../src/models/gpt.js';
import { writeModelFolder, wordVocabulary } from '../../src/models/folder.js';
import { encodeModel } from '../../src/onnx/io.js';
import { useTempDir } from '../helpers/files.js';

const WORDS = ['my', 'numbers', 'are', 'and', ...Array.from({ length: 100 }, (_, i) => String(i)), ',', '.', '!'];
const TOKENS = wordVocabulary(WORDS);
const OPTIONS = { vocabSize: TOKENS.length, width: 16, layers: 2, heads: 2, maxPositions: 32, seed: 3 };

const tmp = useTempDir('gpt-folder-');

describe('tiny GPT model folder', () => {
  it('is loaded by transformers.js from local files only and round-trips a sentence with numbers', async () => {
    const folder = tmp.file('tiny-gpt');
    await writeModelFolder(folder, { model: buildGpt(OPTIONS), tokens: TOKENS, config: { ...gptConfig(OPTIONS) }, maxLength: 32 });
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx']) await stat(join(folder, f));
    const config = JSON.parse(await readFile(join(folder, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'gpt2', vocab_size: TOKENS.length, n_embd: 16, n_layer: 2, n_head: 2, n_positions: 32, bos_token_id: 1, eos_token_id: 2, pad_token_id: 0 });

    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = dirname(folder);
    const tokenizer = await AutoTokenizer.from_pretrained(basename(folder));
    const text = 'my numbers are 12, 7 and 99!';
    const ids = Array.from(tokenizer.encode(text));
    const expected = ['<bos>', 'my', 'numbers', 'are', '12', ',', '7', 'and', '99', '!'].map((t) => TOKENS.indexOf(t));
    expect(ids).toEqual(expected);
    expect(tokenizer.decode(ids, { skip_special_tokens: true })).toBe('my numbers are 12, 7 and 99!');
    expect(Array.from(tokenizer.encode('my 12 zebra'))).toEqual([1, TOKENS.indexOf('my'), TOKENS.indexOf('12'), 3]);
    expect(tokenizer.bos_token_id).toBe(1);
    expect(tokenizer.eos_token_id).toBe(2);
    expect(tokenizer.pad_token_id).toBe(0);
  });

  it('runs in onnxruntime with right-padded rows: padding changes no real position', async () => {
    const session = await ort.InferenceSession.create(encodeModel(buildGpt(OPTIONS)));
    const T = 6;
    const full = [1, 5, 9, 20, 30, 2];
    const short = [1, 5, 9, 0, 0, 0];
    const ids = BigInt64Array.from([...full, ...short].map(BigInt));
    const mask = BigInt64Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0].map(BigInt));
    const out = await session.run({ input_ids: new ort.Tensor('int64', ids, [2, T]), attention_mask: new ort.Tensor('int64', mask, [2, T]) });
    expect(out.logits!.dims).toEqual([2, T, TOKENS.length]);
    const logits = out.logits!.data as Float32Array;
    const V = TOKENS.length;
    for (const v of logits) expect(Number.isFinite(v)).toBe(true);
    // Causal: the short row's first three positions see the same prefix as the full row's.
    for (let i = 0; i < 3 * V; i++) expect(logits[T * V + i]).toBeCloseTo(logits[i]!, 5);
    // Position 3 differs (different token), and the model is not constant.
    let differs = 0;
    for (let i = 3 * V; i < 4 * V; i++) if (Math.abs(logits[T * V + i]! - logits[i]!) > 1e-4) differs++;
    expect(differs).toBeGreaterThan(0);
    await session.release();
  });

  it('is seeded: same seed same weights, other seed other weights', () => {
    const a = encodeModel(buildGpt(OPTIONS));
    expect(Buffer.from(encodeModel(buildGpt(OPTIONS))).equals(Buffer.from(a))).toBe(true);
    expect(Buffer.from(encodeModel(buildGpt({ ...OPTIONS, seed: 4 }))).equals(Buffer.from(a))).toBe(false);
  });
});
