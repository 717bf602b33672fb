/**
 * Model folders in the transformers.js layout: `config.json`, `tokenizer.json`,
 * `tokenizer_config.json`, `onnx/model.onnx`. writeModelFolder makes one from a graph and a word
 * list (the tiny language models of tests, fixtures and the demo): a Hugging Face `tokenizers`
 * WordLevel tokenizer whose units are letter/digit runs, single other marks and line breaks
 * (spaces dropped), with the special tokens <pad> <bos> <eos> <unk> and a TemplateProcessing
 * post-processor that puts BOS in front, so the folder's own files (not our code) say where BOS
 * goes. Its decoder puts the spaces back by the rules of English punctuation (WORD_SPACING), so
 * every answer format of the number prompts (`1, 2`, `1; 2`, `1 2`, one per line, `[1, 2]`,
 * `(1, 2)`) decodes to exactly the text it was encoded from.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { AuditInputError } from '../errors.js';
import { join } from 'node:path';
import { encodeModel } from '../onnx/io.js';
import { graphOf, valueInfoDims, type ModelProto } from '../onnx/proto.js';

/** The special tokens' spellings; ids are their places in the vocabulary. */
export interface SpecialTokens {
  pad: string;
  bos: string;
  eos: string;
  unk: string;
}

export const DEFAULT_SPECIAL_TOKENS: SpecialTokens = { pad: '<pad>', bos: '<bos>', eos: '<eos>', unk: '<unk>' };

/** The file names of a model folder, one place. */
export const MODEL_FOLDER_FILES = {
  config: 'config.json',
  tokenizer: 'tokenizer.json',
  tokenizerConfig: 'tokenizer_config.json',
  model: join('onnx', 'model.onnx'),
  /** Optimum's merged decoder (transformers.js repos): read when onnx/model.onnx is absent. */
  mergedModel: join('onnx', 'decoder_model_merged.onnx'),
} as const;

/**
 * The word-level units of a text, as the folders' tokenizer splits it: a line break, a run of
 * letters and digits, or any other single non-space mark. One source: the tokenizer.json's
 * pre-tokenizer is this regex (Split, invert: the matches are the units, spaces between dropped).
 */
export const WORD_UNIT_PATTERN = '\\n|[\\p{L}\\p{N}]+|[^\\s\\p{L}\\p{N}]';

export function wordUnits(text: string): string[] {
  return text.match(new RegExp(WORD_UNIT_PATTERN, 'gu')) ?? [];
}

/**
 * How the decoder spaces units: one space between two units, except none before these marks
 * (and a line break) and none after the opening ones (and a line break). Written into
 * tokenizer.json as standard decoders (WordPiece joins with spaces, Fuse, then literal Replaces),
 * so transformers.js and Python `tokenizers` decode the same text.
 */
export const WORD_SPACING = { noSpaceBefore: [',', ';', '.', ':', '?', '!', ')', ']', '\n'], noSpaceAfter: ['(', '[', '\n'] } as const;

/**
 * A vocabulary in id order: the special tokens first (pad 0, bos 1, eos 2, unk 3), then the
 * distinct words in first-seen order. Words are pre-tokenized units (wordUnits): no whitespace
 * inside, except the line break, which is a unit of its own.
 */
export function wordVocabulary(words: Iterable<string>, specials: SpecialTokens = DEFAULT_SPECIAL_TOKENS): string[] {
  const tokens = [specials.pad, specials.bos, specials.eos, specials.unk];
  const seen = new Set(tokens);
  for (const w of words) {
    if (w.length === 0 || (w !== '\n' && /\s/u.test(w))) throw new RangeError(`vocabulary word ${JSON.stringify(w)} is empty or contains whitespace`);
    if (!seen.has(w)) {
      seen.add(w);
      tokens.push(w);
    }
  }
  return tokens;
}

export interface ModelFolderSpec {
  model: ModelProto;
  /** The vocabulary in id order (wordVocabulary). Must contain the special tokens. */
  tokens: readonly string[];
  specials?: SpecialTokens;
  /** Hugging Face config.json fields of the architecture (gptConfig), merged into config.json. */
  config: Record<string, unknown>;
  /** Longest sequence the tokenizer admits (model_max_length). */
  maxLength: number;
  /** A Jinja chat template for tokenizer_config.json (absent: rows use the plain template). */
  chatTemplate?: string;
}

export async function writeModelFolder(dir: string, spec: ModelFolderSpec): Promise<void> {
  const specials = spec.specials ?? DEFAULT_SPECIAL_TOKENS;
  const ids = new Map<string, number>();
  spec.tokens.forEach((t, i) => {
    if (ids.has(t)) throw new RangeError(`vocabulary token ${JSON.stringify(t)} appears twice`);
    ids.set(t, i);
  });
  const idOf = (role: keyof SpecialTokens): number => {
    const id = ids.get(specials[role]);
    if (id === undefined) throw new RangeError(`the vocabulary lacks the ${role} token ${specials[role]}`);
    return id;
  };
  const logits = graphOf(spec.model).output.find((o) => o.name === 'logits');
  const vocabDim = logits ? valueInfoDims(logits)?.at(-1) : undefined;
  if (typeof vocabDim === 'number' && vocabDim !== spec.tokens.length) {
    throw new RangeError(`the model's logits have ${vocabDim} entries but the vocabulary has ${spec.tokens.length} tokens`);
  }

  const config = {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    ...spec.config,
    vocab_size: spec.tokens.length,
    bos_token_id: idOf('bos'),
    eos_token_id: idOf('eos'),
    pad_token_id: idOf('pad'),
    tie_word_embeddings: true,
    // transformers' flag: true when the graph takes and returns the attention cache.
    use_cache: graphOf(spec.model).input.some((i) => i.name?.startsWith('past_key_values.')),
  };
  await mkdir(join(dir, 'onnx'), { recursive: true });
  await writeFile(join(dir, MODEL_FOLDER_FILES.config), json(config));
  await writeFile(join(dir, MODEL_FOLDER_FILES.tokenizer), json(wordLevelTokenizerJson(spec.tokens, specials)));
  await writeFile(join(dir, MODEL_FOLDER_FILES.tokenizerConfig), json({
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: specials.bos,
    eos_token: specials.eos,
    pad_token: specials.pad,
    unk_token: specials.unk,
    model_max_length: spec.maxLength,
    padding_side: 'right',
    clean_up_tokenization_spaces: false,
    ...(spec.chatTemplate !== undefined ? { chat_template: spec.chatTemplate } : {}),
  }));
  await writeFile(join(dir, MODEL_FOLDER_FILES.model), encodeModel(spec.model));
}

/** tokenizer.json (Hugging Face `tokenizers` format) of a word-level tokenizer. */
export function wordLevelTokenizerJson(tokens: readonly string[], specials: SpecialTokens = DEFAULT_SPECIAL_TOKENS): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  tokens.forEach((t, i) => (vocab[t] = i));
  const specialSet = new Set(Object.values(specials));
  const bosId = vocab[specials.bos];
  if (bosId === undefined) throw new RangeError(`the vocabulary lacks the BOS token ${specials.bos}`);
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: tokens.flatMap((content, id) => specialSet.has(content)
      ? [{ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }]
      : []),
    normalizer: null,
    // invert: the regex's matches are the units; what lies between (spaces) is dropped.
    pre_tokenizer: { type: 'Split', pattern: { Regex: WORD_UNIT_PATTERN }, behavior: 'Removed', invert: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: specials.bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [
        { SpecialToken: { id: specials.bos, type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
      ],
      special_tokens: { [specials.bos]: { id: specials.bos, ids: [bosId], tokens: [specials.bos] } },
    },
    decoder: wordDecoderJson(),
    model: { type: 'WordLevel', vocab, unk_token: specials.unk },
  };
}

/** WORD_SPACING as tokenizers decoders: units joined by spaces, then the spaces the rules forbid removed. */
function wordDecoderJson(): Record<string, unknown> {
  const replace = (from: string, to: string) => ({ type: 'Replace', pattern: { String: from }, content: to });
  return {
    type: 'Sequence',
    decoders: [
      // No unit starts with '##' (the pre-tokenizer isolates '#'): every unit but the first gets a space.
      { type: 'WordPiece', prefix: '##', cleanup: false },
      { type: 'Fuse' },
      ...WORD_SPACING.noSpaceBefore.map((m) => replace(` ${m}`, m)),
      ...WORD_SPACING.noSpaceAfter.map((m) => replace(`${m} `, m)),
    ],
  };
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

/** The ONNX file of a model given as a file or a model folder, with the folder when it is one. */
export interface ModelSource {
  /** The ONNX file to read. */
  file: string;
  /** The model folder (absent for a bare ONNX file). */
  folder?: string;
}

export function resolveModelSource(path: string): ModelSource {
  if (!existsSync(path)) throw new AuditInputError(`${path}: model not found`, { file: path });
  if (!statSync(path).isDirectory()) return { file: path };
  const file = [MODEL_FOLDER_FILES.model, MODEL_FOLDER_FILES.mergedModel].map((f) => join(path, f)).find((f) => existsSync(f));
  if (!file) throw new AuditInputError(`${path}: model folder has no ${MODEL_FOLDER_FILES.model} (nor ${MODEL_FOLDER_FILES.mergedModel})`, { file: path });
  return { file, folder: path };
}

/** The ONNX file to read for `path`: the path itself, or a model folder's onnx/model.onnx (or merged decoder). */
export function modelFileOf(path: string): string {
  return existsSync(path) && statSync(path).isDirectory() ? resolveModelSource(path).file : path;
}
