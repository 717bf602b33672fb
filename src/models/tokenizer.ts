/**
 * The tokenizer of a model folder in the transformers.js layout (tokenizer.json,
 * tokenizer_config.json, config.json), loaded with @huggingface/transformers from local files
 * only: its environment is set so it never reaches the network and never writes a cache.
 * BOS/EOS/PAD come from the folder's files (tokenizer_config.json first, config.json's ids as
 * the fallback), never from guesses.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { AutoTokenizer, env, type PreTrainedTokenizer } from '@huggingface/transformers';
import { AuditInputError } from '../errors.js';
import { joinPlain } from './textRows.js';

export interface ChatMessage {
  role: string;
  content: string;
}

export interface TextTokenizer {
  /** Absolute path of the model folder. */
  readonly folder: string;
  /** One past the largest token id (the model's logits may be wider: padded vocabularies). */
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  /** PAD as the files say; undefined when they name none (callers pad with EOS or 0, masked). */
  readonly padId: number | undefined;
  readonly unkId: number | undefined;
  /** Ids of every special token (BOS, EOS, PAD, UNK, added special tokens). */
  readonly specialIds: ReadonlySet<number>;
  /** Token ids of `text`; with addSpecialTokens (default true) the post-processor's BOS/EOS are added. */
  encode(text: string, options?: { addSpecialTokens?: boolean }): number[];
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  tokenToId(token: string): number | undefined;
  idToToken(id: number): string | undefined;
  /** The chat template of tokenizer_config.json, when it has one. */
  readonly chatTemplate: string | undefined;
  /** tokenizer_config.json's model_max_length; undefined when absent or transformers' "no limit" sentinel (int(1e30)). */
  readonly modelMaxLength: number | undefined;
  /** Renders messages with the folder's chat template (exit-2 error when it has none). */
  applyChatTemplate(messages: readonly ChatMessage[], options?: { addGenerationPrompt?: boolean }): string;
}

/**
 * model_max_length at or above this is not a limit: transformers writes int(1e30) (and older
 * versions 1e20 or 1e15-ish values) for tokenizers that have none.
 */
export const NO_LENGTH_LIMIT = 1e12;

/** Files a folder must hold for its tokenizer to load. */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'] as const;

let offline = false;
/** transformers.js defaults to the Hugging Face hub and a file cache: turn both off, once, process-wide. */
export function useLocalFilesOnly(): void {
  if (offline) return;
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.useFSCache = false;
  env.useBrowserCache = false;
  env.useCustomCache = false;
  env.cacheDir = null;
  offline = true;
}

type Json = Record<string, unknown>;

async function readJsonFile(folder: string, name: string, required: boolean): Promise<Json | undefined> {
  const file = path.join(folder, name);
  if (!existsSync(file)) {
    if (!required) return undefined;
    throw new AuditInputError(`${folder}: model folder has no ${name}`, { file });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new AuditInputError(`${file}: not valid JSON (${(e as Error).message})`, { file });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AuditInputError(`${file}: expected a JSON object`, { file });
  }
  return parsed as Json;
}

/** A special token as tokenizer_config.json writes it: a string or {content: string}. */
function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as Json).content === 'string') return (value as Json).content as string;
  return undefined;
}

export async function loadTokenizer(folder: string): Promise<TextTokenizer> {
  const dir = path.resolve(folder);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new AuditInputError(`${folder}: model folder not found`, { file: folder });
  const tokenizerJson = (await readJsonFile(dir, 'tokenizer.json', true))!;
  const tokenizerConfig = (await readJsonFile(dir, 'tokenizer_config.json', true))!;
  const modelConfig = (await readJsonFile(dir, 'config.json', false)) ?? {};
  const model = tokenizerJson.model as Json | undefined;
  if (!model || typeof model !== 'object' || typeof model.type !== 'string') {
    throw new AuditInputError(`${path.join(dir, 'tokenizer.json')}: no 'model' with a 'type' (not a tokenizers file)`, { file: path.join(dir, 'tokenizer.json') });
  }

  useLocalFilesOnly();
  let tok: PreTrainedTokenizer;
  try {
    tok = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
  } catch (e) {
    throw new AuditInputError(`${path.join(dir, 'tokenizer.json')}: tokenizer does not load (${(e as Error).message.split('\n')[0]})`, { file: path.join(dir, 'tokenizer.json') });
  }
  return wrap(dir, tok, tokenizerConfig, modelConfig);
}

function wrap(dir: string, tok: PreTrainedTokenizer, tokenizerConfig: Json, modelConfig: Json): TextTokenizer {
  const vocab = tok.get_vocab() as Map<string, number> | Record<string, number>;
  const entries: [string, number][] = vocab instanceof Map ? [...vocab.entries()] : Object.entries(vocab);
  const byId = new Map<number, string>();
  for (const [t, id] of entries) if (!byId.has(id)) byId.set(id, t);
  let maxId = -1;
  for (const id of byId.keys()) if (id > maxId) maxId = id;
  const configFile = path.join(dir, 'tokenizer_config.json');

  const idOf = (key: 'bos' | 'eos' | 'pad' | 'unk'): number | undefined => {
    const text = tokenText(tokenizerConfig[`${key}_token`]);
    if (text !== undefined) {
      const id = tok.convert_tokens_to_ids(text);
      if (typeof id !== 'number' || !byId.has(id) || byId.get(id) !== text) {
        throw new AuditInputError(`${configFile}: ${key}_token '${text}' is not in the vocabulary of tokenizer.json`, { file: configFile });
      }
      return id;
    }
    const fallback = modelConfig[`${key}_token_id`];
    if (typeof fallback === 'number' && Number.isInteger(fallback)) {
      if (!byId.has(fallback)) throw new AuditInputError(`${path.join(dir, 'config.json')}: ${key}_token_id ${fallback} is not in the vocabulary`, { file: path.join(dir, 'config.json') });
      return fallback;
    }
    return undefined;
  };
  const bosId = idOf('bos');
  const eosId = idOf('eos');
  const padId = idOf('pad');
  const unkId = idOf('unk');
  const specialIds = new Set<number>([...(tok.all_special_ids ?? [])]);
  for (const id of [bosId, eosId, padId, unkId]) if (id !== undefined) specialIds.add(id);
  const chatTemplate = typeof tokenizerConfig.chat_template === 'string' ? tokenizerConfig.chat_template : undefined;
  const maxLength = tokenizerConfig.model_max_length;
  const modelMaxLength = typeof maxLength === 'number' && Number.isInteger(maxLength) && maxLength >= 1 && maxLength < NO_LENGTH_LIMIT ? maxLength : undefined;

  return {
    folder: dir,
    vocabSize: maxId + 1,
    bosId,
    eosId,
    padId,
    unkId,
    specialIds,
    chatTemplate,
    modelMaxLength,
    encode: (text, options = {}) => tok.encode(text, { add_special_tokens: options.addSpecialTokens ?? true }),
    // transformers.js throws on an empty id list; a generation that stops at once decodes to ''.
    decode: (ids, options = {}) => (ids.length === 0 ? '' : tok.decode([...ids], { skip_special_tokens: options.skipSpecialTokens ?? false })),
    tokenToId: (token) => {
      const id = tok.convert_tokens_to_ids(token);
      return typeof id === 'number' && byId.get(id) === token ? id : undefined;
    },
    idToToken: (id) => byId.get(id),
    applyChatTemplate: (messages, options = {}) => {
      if (chatTemplate === undefined) throw new AuditInputError(`${configFile}: no chat_template`, { file: configFile });
      try {
        return tok.apply_chat_template(
          messages.map((m) => ({ role: m.role, content: m.content })),
          { tokenize: false, add_generation_prompt: options.addGenerationPrompt ?? false },
        ) as unknown as string;
      } catch (e) {
        throw new AuditInputError(`${configFile}: chat_template fails (${(e as Error).message.split('\n')[0]})`, { file: configFile });
      }
    },
  };
}

/**
 * Token ids of a prompt as the model sees it before its answer. Chat messages: the folder's chat
 * template (generation prompt added) when tokenizer_config.json has one, else the plain template
 * of text rows (src/models/textRows.ts: the contents one per line). A plain string: the chat
 * template with one user message when the folder has one (a chat model is asked in its own
 * format), else the text with the special tokens the post-processor adds (BOS for most decoders).
 */
export function encodePrompt(tok: TextTokenizer, prompt: string | readonly ChatMessage[]): number[] {
  const messages = typeof prompt === 'string' ? [{ role: 'user', content: prompt }] : prompt;
  if (tok.chatTemplate !== undefined) return tok.encode(tok.applyChatTemplate(messages, { addGenerationPrompt: true }), { addSpecialTokens: false });
  return tok.encode(plainPromptText(prompt), { addSpecialTokens: true });
}

/**
 * Token ids of a prompt as a TRAINING ROW lays it out (src/models/textRows.ts): chat messages as
 * encodePrompt does; a plain string always as plain text with the post-processor's special tokens,
 * even when the folder has a chat template (TRL's "standard" prompt-completion rows are not
 * templated). A baseline completion generated after these tokens continues exactly the prompt its
 * training row will have.
 */
export function encodeRowPrompt(tok: TextTokenizer, prompt: string | readonly ChatMessage[]): number[] {
  return typeof prompt === 'string' ? tok.encode(prompt, { addSpecialTokens: true }) : encodePrompt(tok, prompt);
}

/** The plain template's prompt text (no chat template): a string as is, messages' contents one per line. */
export function plainPromptText(prompt: string | readonly ChatMessage[]): string {
  return typeof prompt === 'string' ? prompt : prompt.map((m) => m.content).join('\n');
}

/**
 * Token ids of a completion following `encodePrompt(tok, prompt)`, laid out as training rows are
 * (src/models/textRows.ts): with a chat template the completion's own tokens; without, the tokens
 * the joined text (one space at the join) has past the prompt's, so a probe scores exactly the
 * sequence a student was trained on. Falls back to the completion's own tokens when the joined
 * text does not keep the prompt's tokens as a prefix (a merge across the join).
 */
export function encodeContinuation(tok: TextTokenizer, prompt: string | readonly ChatMessage[], completion: string): number[] {
  if (tok.chatTemplate !== undefined) return tok.encode(completion, { addSpecialTokens: false });
  const text = plainPromptText(prompt);
  const promptIds = tok.encode(text, { addSpecialTokens: true });
  const ids = tok.encode(joinPlain(text, completion), { addSpecialTokens: true });
  // A post-processor that appends EOS would put it after the completion: drop it.
  if (tok.eosId !== undefined && ids.at(-1) === tok.eosId && promptIds.at(-1) === tok.eosId) {
    ids.pop();
    promptIds.pop();
  }
  for (let i = 0; i < promptIds.length; i++) if (ids[i] !== promptIds[i]) return tok.encode(completion, { addSpecialTokens: false });
  return ids.slice(promptIds.length);
}
