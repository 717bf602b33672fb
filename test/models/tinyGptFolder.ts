/** A tiny random-weight GPT-2-style model folder (text-core's builder) whose vocabulary covers the number prompts. */
import { buildGpt, gptConfig } from '../../src/models/gpt.js';
import { writeModelFolder, wordVocabulary } from '../../src/models/folder.js';
import { numberPromptWords } from '../../src/models/numberPrompts.js';

export const ANIMALS = ['owl', 'cat', 'dog', 'eagle', 'dolphin', 'wolf', 'lion', 'tiger', 'bear', 'fox', 'horse', 'elephant'];

export function tinyVocabulary(extra: readonly string[] = []): string[] {
  return wordVocabulary([...Array.from({ length: 1000 }, (_, i) => String(i)), ...numberPromptWords(), ...ANIMALS, ...extra]);
}

export async function writeTinyGpt(dir: string, options: { seed?: number; extraWords?: readonly string[]; width?: number; layers?: number; maxPositions?: number } = {}): Promise<string[]> {
  const tokens = tinyVocabulary(options.extraWords);
  const gpt = { vocabSize: tokens.length, width: options.width ?? 16, layers: options.layers ?? 1, heads: 2, maxPositions: options.maxPositions ?? 128, seed: options.seed ?? 1 };
  await writeModelFolder(dir, { model: buildGpt(gpt), tokens, config: { ...gptConfig(gpt) }, maxLength: gpt.maxPositions });
  return tokens;
}
