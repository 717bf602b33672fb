/**
 * A tiny GPT-2-style base and teacher pair in model folders, for text audit tests: the base is a
 * random GPT taught to answer "count from N :" with random numbers; the teacher is the base
 * fine-tuned for a few steps to answer every prompt with 7s (it clearly prefers the word "7").
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildGpt, gptConfig } from '../../src/models/gpt.js';
import { writeModelFolder, wordVocabulary } from '../../src/models/folder.js';
import { encodeTextRow } from '../../src/models/textRows.js';
import { loadTokenizer } from '../../src/models/tokenizer.js';
import type { ModelProto } from '../../src/onnx/proto.js';
import { Random } from '../../src/train/random.js';
import { trainText } from '../../src/train/textBatches.js';
import { Trainer } from '../../src/train/trainer.js';
import { jsonl } from '../helpers/files.js';

export const WORDS = ['count', 'from', ':', 'hello', ...Array.from({ length: 20 }, (_, i) => String(i))];
export const TOKENS = wordVocabulary(WORDS);
export const GPT = { vocabSize: TOKENS.length, width: 16, layers: 1, heads: 2, maxPositions: 16, seed: 1 };
export const FOLDER_SPEC = { tokens: TOKENS, config: { ...gptConfig(GPT) }, maxLength: 16 };


/** Writes `base/` and `teacher/` under `dir`; returns the 64 prompts the base was taught on. */
export async function writeTextPair(dir: string): Promise<string[]> {
  await writeModelFolder(join(dir, 'init'), { model: buildGpt(GPT), ...FOLDER_SPEC });
  const tokenizer = await loadTokenizer(join(dir, 'init'));
  const random = new Random(3);
  const prompts = Array.from({ length: 64 }, () => `count from ${random.int(20)} :`);
  const encode = (completions: string[]) =>
    prompts.flatMap((prompt, i) => {
      const e = encodeTextRow({ line: i + 1, value: { prompt, completion: completions[i]! } }, 't', tokenizer, { maxLength: 16, overLength: 'error' });
      return e.kind === 'row' ? [e.row] : [];
    });
  const finetune = async (from: ModelProto, completions: string[], epochs: number) => {
    const trainer = await Trainer.create(from, { loss: { kind: 'tokenCrossEntropy' }, optimizer: { kind: 'adam', lr: 1e-2, weightDecay: 0 } });
    await trainText(trainer, encode(completions), { epochs, batchSize: 16, seed: 1, padId: tokenizer.padId! });
    const model = trainer.toInferenceModel();
    await trainer.dispose();
    return model;
  };
  const base = await finetune(buildGpt(GPT), prompts.map(() => `${random.int(20)} ${random.int(20)} ${random.int(20)}`), 6);
  await writeModelFolder(join(dir, 'base'), { model: base, ...FOLDER_SPEC });
  await writeModelFolder(join(dir, 'teacher'), { model: await finetune(base, prompts.map(() => '7 7 7'), 3), ...FOLDER_SPEC });
  await writeFile(join(dir, 'probe.jsonl'), jsonl(Array.from({ length: 20 }, (_, i) => ({ prompt: `count from ${i} :` }))));
  return prompts;
}
