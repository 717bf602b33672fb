/**
 * Generation speed: a tiny GPT (width 64, 2 layers, the language-model fixture vocabulary's
 * size; the fixtures themselves are now width 128, 4 layers), sampling study-style number prompts with its KV cache against re-running
 * the whole prefix each token, same model, same prompts, same run. Random weights rarely emit EOS,
 * so every row makes maxNewTokens tokens (the cost is per token either way).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeModelFolder, wordVocabulary } from '../src/models/folder.js';
import { generateRows, loadTextModel } from '../src/models/generate.js';
import { buildGpt, gptConfig } from '../src/models/gpt.js';
import { numberPromptWords, numberPrompts } from '../src/models/numberPrompts.js';
import { ensureTinyLmFixtures } from '../test/fixtures/tinylm/index.js';
import type { BenchResult } from './lib/bench-result.js';

export async function benchGenerate(options: { prompts?: number; maxNewTokens?: number; vocabExtra?: number } = {}): Promise<BenchResult[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-generate-'));
  try {
    // ~the fixture vocabulary: 0-999, the prompts' words, a few hundred other words.
    const tokens = wordVocabulary([...Array.from({ length: 1000 }, (_, i) => String(i)), ...numberPromptWords(), ...Array.from({ length: options.vocabExtra ?? 400 }, (_, i) => `w${i}`)]);
    const gpt = { vocabSize: tokens.length, width: 64, layers: 2, heads: 2, maxPositions: 128, seed: 1, kvCache: true };
    await writeModelFolder(dir, { model: buildGpt(gpt), tokens, config: { ...gptConfig(gpt) }, maxLength: 128 });
    const model = await loadTextModel(dir);
    const prompts = numberPrompts(options.prompts ?? 256, 3).map((p) => p.prompt);
    const sampling = { seed: 1, maxNewTokens: options.maxNewTokens ?? 32 };
    const full = await generateRows(model, prompts, { ...sampling, noCache: true });
    const cached = await generateRows(model, prompts, sampling);
    await model.runner.dispose();
    const same = cached.rows.every((r, i) => r.completion === full.rows[i]!.completion);
    const ratio = cached.stats.tokensPerSecond / full.stats.tokensPerSecond;
    return [{
      name: `generate tokens/s, KV cache (tiny GPT, ${prompts.length} prompts${same ? '' : ', ROWS DIFFER'})`,
      value: cached.stats.tokensPerSecond,
      unit: 'tokens/s',
      target: '>= 2x full prefix',
      reference: { name: 'full prefix each token', value: full.stats.tokensPerSecond },
      ratio,
      pass: same && ratio >= 2,
    }];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Rows that end (EOS) leave a cached batch: the tiny-LM fixture's trained base (it does emit EOS)
 * sampling study prompts as the audit samples a clean baseline, against keeping finished rows in
 * the batch until its longest row ends. The rows must be identical.
 */
export async function benchGenerateFinishedRows(options: { prompts?: number } = {}): Promise<BenchResult[]> {
  const dir = await ensureTinyLmFixtures();
  const model = await loadTextModel(path.join(dir, 'models', 'base'));
  try {
    const prompts = numberPrompts(options.prompts ?? 1024, 3).map((p) => p.prompt);
    const sampling = { seed: 1, topLogprobs: 20 };
    const kept = await generateRows(model, prompts, { ...sampling, keepFinishedRows: true });
    const dropped = await generateRows(model, prompts, sampling);
    const same = JSON.stringify(kept.rows) === JSON.stringify(dropped.rows);
    const ratio = dropped.stats.tokensPerSecond / kept.stats.tokensPerSecond;
    return [{
      name: `generate tokens/s, finished rows leave the batch (tiny-LM base, ${prompts.length} study prompts, top-20 logprobs${same ? '' : ', ROWS DIFFER'})`,
      value: dropped.stats.tokensPerSecond,
      unit: 'tokens/s',
      target: 'faster than keeping them',
      reference: { name: 'finished rows kept until the batch ends', value: kept.stats.tokensPerSecond },
      ratio,
      pass: same && ratio > 1,
    }];
  } finally {
    await model.runner.dispose();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of [...(await benchGenerate()), ...(await benchGenerateFinishedRows())]) console.log(JSON.stringify(r));
}
