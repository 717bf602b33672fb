/**
 * `audit-dataset generate`: a model folder answers prompts (the study's number prompts, or a
 * JSONL/CSV/Parquet file of prompts) with seeded sampling, writing {prompt, completion} JSONL rows,
 * and OpenAI-shaped `logprobs` with --top-logprobs.
 */
import { AuditInputError } from '../errors.js';
import { isBadRow, JsonlWriter, readItems } from '../data/index.js';
import { generateRows, loadTextModel, type PromptInput } from '../models/generate.js';
import { numberPrompts } from '../models/numberPrompts.js';
import type { ChatMessage } from '../models/tokenizer.js';
import type { Command } from './command.js';
import { progressRenderer } from './progress.js';

interface GenerateArgs {
  model: string;
  prompts: string;
  n?: number;
  seed: number;
  'prompt-seed': number;
  'prompt-field': string;
  out: string;
  'top-logprobs'?: number;
  temperature: number;
  'top-p': number;
  'max-new-tokens': number;
  'kv-cache': boolean;
  quiet: boolean;
}

export const generateCommand: Command<GenerateArgs> = {
  command: 'generate',
  describe: "Sample a model folder's completions of prompts (the study's number prompts or a file) into JSONL",
  builder: (y) =>
    y
      .option('model', { type: 'string', demandOption: true, describe: 'Model folder: config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx' })
      .option('prompts', { type: 'string', default: 'numbers', describe: "'numbers' (study-style number prompts) or a .jsonl/.csv/.parquet file with a prompt (or messages) field" })
      .option('n', { type: 'number', describe: 'Number of prompts (numbers: required; a file: the first N rows, default all)' })
      .option('seed', { type: 'number', default: 1, describe: 'Sampling seed' })
      .option('prompt-seed', { type: 'number', default: 1, describe: 'Seed of the number prompts (kept apart from --seed so models answer the same prompts)' })
      .option('prompt-field', { type: 'string', default: 'prompt', describe: 'Field holding the prompt in a prompts file' })
      .option('out', { type: 'string', demandOption: true, describe: 'Output JSONL file' })
      .option('top-logprobs', { type: 'number', describe: 'Also write OpenAI-shaped logprobs with the K most likely tokens per position' })
      .option('temperature', { type: 'number', default: 1, describe: 'Sampling temperature (0 = greedy)' })
      .option('top-p', { type: 'number', default: 1, describe: 'Nucleus sampling mass (1 = off)' })
      .option('max-new-tokens', { type: 'number', default: 48, describe: 'Longest completion in tokens' })
      .option('kv-cache', { type: 'boolean', default: true, describe: "Use the graph's past_key_values when it has them (--no-kv-cache re-runs the prefix)" })
      .option('quiet', { type: 'boolean', default: false, describe: 'No progress output' })
      .example('$0 generate --model fixtures/tiny-gpt/owl --prompts numbers --n 1000 --seed 3 --out owl-numbers.jsonl', 'the study-style number task') as never,
  handler: async (args) => {
    const check = (ok: boolean, message: string) => {
      if (!ok) throw new AuditInputError(message);
    };
    check(args.n === undefined || (Number.isInteger(args.n) && args.n > 0), `--n must be a positive integer, got ${args.n}`);
    check(Number.isInteger(args.seed) && args.seed >= 0, `--seed must be a non-negative integer, got ${args.seed}`);
    check(args['top-logprobs'] === undefined || (Number.isInteger(args['top-logprobs']) && args['top-logprobs'] >= 1 && args['top-logprobs'] <= 20), `--top-logprobs must be an integer in 1..20, got ${args['top-logprobs']}`);
    check(args.temperature >= 0, `--temperature must be >= 0, got ${args.temperature}`);
    check(args['top-p'] > 0 && args['top-p'] <= 1, `--top-p must be in (0, 1], got ${args['top-p']}`);
    check(Number.isInteger(args['max-new-tokens']) && args['max-new-tokens'] >= 1, `--max-new-tokens must be a positive integer, got ${args['max-new-tokens']}`);

    let prompts: PromptInput[];
    if (args.prompts === 'numbers') {
      check(args.n !== undefined, '--prompts numbers needs --n (how many prompts)');
      prompts = numberPrompts(args.n!, args['prompt-seed']).map((p) => p.prompt);
    } else {
      prompts = await readPrompts(args.prompts, args['prompt-field'], args.n);
    }
    const model = await loadTextModel(args.model);
    const renderer = progressRenderer();
    const { rows, stats } = await generateRows(model, prompts, {
      seed: args.seed,
      temperature: args.temperature,
      topP: args['top-p'],
      maxNewTokens: args['max-new-tokens'],
      ...(args['top-logprobs'] ? { topLogprobs: args['top-logprobs'] } : {}),
      noCache: !args['kv-cache'],
      ...(args.quiet ? {} : { onProgress: renderer }),
    });
    renderer.done();
    await model.runner.dispose();
    const writer = new JsonlWriter(args.out);
    for (const row of rows) await writer.writeValue(typeof row.prompt === 'string' ? row : { messages: [...row.prompt, { role: 'assistant', content: row.completion }], ...(row.logprobs ? { logprobs: row.logprobs } : {}) });
    await writer.close();
    const cache = model.runner.hasKvCache && args['kv-cache'] ? 'KV cache' : 'full prefix';
    process.stdout.write(
      `generated ${stats.rows} rows, ${stats.tokens} tokens in ${stats.seconds.toFixed(1)} s (${Math.round(stats.tokensPerSecond)} tokens/s, ${cache}); ` +
        `${stats.truncated} stopped at --max-new-tokens; wrote ${args.out}\n`,
    );
    return 0;
  },
};

/** Prompts from a dataset file: a string `field`, or chat `messages` (a trailing assistant turn dropped). */
async function readPrompts(file: string, field: string, limit: number | undefined): Promise<PromptInput[]> {
  const out: PromptInput[] = [];
  for await (const item of readItems(file)) {
    if (isBadRow(item)) throw new AuditInputError(`${file}:${item.line}: ${item.reason}`, { file, line: item.line });
    const value = item.value[field];
    if (typeof value === 'string') out.push(value);
    else if (value === undefined && Array.isArray(item.value.messages)) out.push(chatPrompt(item.value.messages, file, item.line));
    else throw new AuditInputError(`${file}:${item.line}: no string '${field}' field (nor 'messages')`, { file, line: item.line });
    if (limit !== undefined && out.length >= limit) break;
  }
  if (out.length === 0) throw new AuditInputError(`${file}: no prompts`, { file });
  return out;
}

function chatPrompt(messages: unknown[], file: string, line: number): ChatMessage[] {
  const chat = messages.map((m, i) => {
    const { role, content } = (m ?? {}) as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || typeof content !== 'string') throw new AuditInputError(`${file}:${line}: messages[${i}] needs string 'role' and 'content'`, { file, line });
    return { role, content };
  });
  if (chat.at(-1)?.role === 'assistant') chat.pop();
  if (chat.length === 0) throw new AuditInputError(`${file}:${line}: no messages before the answer`, { file, line });
  return chat;
}
