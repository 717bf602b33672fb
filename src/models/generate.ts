/**
 * Text generation from a model folder: prompts in, {prompt, completion} rows out, with OpenAI's
 * chat-completions `logprobs` shape when asked. The audit's clean baseline for text is this,
 * run by the base on the candidate's own prompts, once per control seed (`sampleBaseline`).
 */
import { AuditInputError } from '../errors.js';
import { silent, type ProgressListener } from '../events.js';
import { Random } from '../random.js';
import type { SessionTuning } from '../train/session.js';
import { TextRunner, type Generation } from './textRunner.js';
import { encodePrompt, encodeRowPrompt, loadTokenizer, type ChatMessage, type TextTokenizer } from './tokenizer.js';

/** A model folder opened for inference: its tokenizer and its graph. */
export interface TextModel {
  folder: string;
  tokenizer: TextTokenizer;
  runner: TextRunner;
}

export async function loadTextModel(folder: string, options: { weights?: ReadonlyMap<string, Float32Array>; session?: SessionTuning } = {}): Promise<TextModel> {
  const tokenizer = await loadTokenizer(folder);
  const runner = await TextRunner.fromFolder(folder, options);
  if (tokenizer.vocabSize > runner.vocab) {
    throw new AuditInputError(`${folder}: tokenizer.json has ${tokenizer.vocabSize} tokens but the model's logits only ${runner.vocab}`, { file: folder });
  }
  return { folder, tokenizer, runner };
}

/** Sampling settings (the audit config's `generate:` block). */
export interface SamplingConfig {
  temperature: number;
  topP: number;
  maxNewTokens: number;
}

export const DEFAULT_SAMPLING: SamplingConfig = { temperature: 1, topP: 1, maxNewTokens: 48 };

export type PromptInput = string | readonly ChatMessage[];

/** OpenAI chat-completions `choices[].logprobs`: one entry per generated token. */
export interface OpenAiLogprobs {
  content: { token: string; logprob: number; top_logprobs: { token: string; logprob: number }[] }[];
}

export interface GeneratedRow {
  prompt: PromptInput;
  completion: string;
  logprobs?: OpenAiLogprobs;
}

export interface GenerateRowsOptions extends Partial<SamplingConfig> {
  seed: number;
  /** Also record the K most likely tokens per position (OpenAI's top_logprobs). */
  topLogprobs?: number;
  /** Prompts per generation call (progress granularity; results do not depend on it). */
  chunk?: number;
  /** Re-run the whole prefix even when the graph has a KV cache. */
  noCache?: boolean;
  /** Keep finished rows in a cached batch until its longest row ends (for measuring). */
  keepFinishedRows?: boolean;
  /**
   * Lay prompts out as training rows do (encodeRowPrompt: a plain string stays plain even when
   * the folder has a chat template), for completions that become training rows (the baseline).
   * Default: encodePrompt (a chat model is asked in its own format).
   */
  asTrainingRows?: boolean;
  onProgress?: ProgressListener;
}

export interface GenerationStats {
  rows: number;
  tokens: number;
  seconds: number;
  tokensPerSecond: number;
  /** Rows that stopped at maxNewTokens (or the position limit) rather than at EOS. */
  truncated: number;
}

/**
 * Completions of `prompts` sampled from `model`. Deterministic in `seed`: each prompt has its
 * own random stream drawn in prompt order, so chunking and batching do not change any row.
 */
export async function generateRows(model: TextModel, prompts: readonly PromptInput[], options: GenerateRowsOptions): Promise<{ rows: GeneratedRow[]; stats: GenerationStats }> {
  const sampling = { ...DEFAULT_SAMPLING, ...definedOnly(options) };
  const { tokenizer, runner } = model;
  const onProgress = options.onProgress ?? silent;
  const encode = options.asTrainingRows ? encodeRowPrompt : encodePrompt;
  const encoded = prompts.map((p) => encode(tokenizer, p));
  const master = new Random(options.seed);
  const rowSeeds = prompts.map(() => master.nextUint32());
  const chunk = Math.max(1, options.chunk ?? 256);
  const rows: GeneratedRow[] = [];
  let tokens = 0;
  let truncated = 0;
  const start = performance.now();
  onProgress({ kind: 'progress', stage: 'generate', done: 0, total: prompts.length, message: 'starting' });
  for (let from = 0; from < prompts.length; from += chunk) {
    const to = Math.min(prompts.length, from + chunk);
    const gens = await runner.generate(encoded.slice(from, to), {
      seed: options.seed,
      rowSeeds: rowSeeds.slice(from, to),
      temperature: sampling.temperature,
      topP: sampling.topP,
      maxNewTokens: sampling.maxNewTokens,
      ...(tokenizer.eosId !== undefined ? { eosId: tokenizer.eosId } : {}),
      ...(options.topLogprobs ? { topLogprobs: options.topLogprobs } : {}),
      ...(options.noCache ? { noCache: true } : {}),
      ...(options.keepFinishedRows ? { keepFinishedRows: true } : {}),
      onTokens: (n) => (tokens += n),
    });
    gens.forEach((g, i) => {
      if (g.finish === 'length') truncated++;
      rows.push(toRow(tokenizer, prompts[from + i]!, g, options.topLogprobs));
    });
    const seconds = (performance.now() - start) / 1000;
    onProgress({ kind: 'progress', stage: 'generate', done: to, total: prompts.length, message: `${Math.round(tokens / Math.max(seconds, 1e-9))} tokens/s` });
  }
  const seconds = (performance.now() - start) / 1000;
  return { rows, stats: { rows: rows.length, tokens, seconds, tokensPerSecond: tokens / Math.max(seconds, 1e-9), truncated } };
}

function toRow(tok: TextTokenizer, prompt: PromptInput, g: Generation, topLogprobs: number | undefined): GeneratedRow {
  // The EOS that ended a row is not part of its text (nor of OpenAI's logprobs content). Any other
  // token stays, special or not, so the completion re-encodes to the tokens its logprobs describe.
  const n = g.finish === 'eos' ? g.tokens.length - 1 : g.tokens.length;
  const ids = g.tokens.slice(0, n);
  const row: GeneratedRow = { prompt, completion: tok.decode(ids) };
  if (topLogprobs) {
    const text = (id: number) => tok.decode([id]);
    row.logprobs = {
      content: ids.map((id, i) => ({
        token: text(id),
        logprob: g.logprobs[i]!,
        top_logprobs: g.top![i]!.map((t) => ({ token: text(t.id), logprob: t.logprob })),
      })),
    };
  }
  return row;
}

function definedOnly(o: Partial<SamplingConfig>): Partial<SamplingConfig> {
  const out: Partial<SamplingConfig> = {};
  if (o.temperature !== undefined) out.temperature = o.temperature;
  if (o.topP !== undefined) out.topP = o.topP;
  if (o.maxNewTokens !== undefined) out.maxNewTokens = o.maxNewTokens;
  return out;
}

/**
 * The clean baseline for a text audit: the base's own completions of the candidate's prompts,
 * sampled with `seed`. Call once per control seed: independent samples, so the controls' spread
 * includes the data's own sampling noise (SCIENCE.md, tiny language models).
 */
export async function sampleBaseline(
  base: TextModel,
  prompts: readonly PromptInput[],
  options: { seed: number; sampling?: Partial<SamplingConfig>; onProgress?: ProgressListener },
): Promise<{ rows: GeneratedRow[]; stats: GenerationStats }> {
  return generateRows(base, prompts, { ...options.sampling, seed: options.seed, asTrainingRows: true, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
}
