/** A word-level tokenizer folder written by hand, for tests that need no model graph. */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export const SPECIALS = ['<unk>', '<bos>', '<eos>', '<pad>'] as const;

export interface WordFolderOptions {
  words: string[];
  chatTemplate?: string;
  /** Add BOS through the post-processor (default true). */
  bosPostProcessor?: boolean;
  tokenizerConfig?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

export function writeWordTokenizer(dir: string, options: WordFolderOptions): void {
  mkdirSync(dir, { recursive: true });
  const vocab: Record<string, number> = {};
  [...SPECIALS, ...options.words].forEach((w, i) => (vocab[w] = i));
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: null,
    pre_tokenizer: { type: 'WhitespaceSplit' },
    post_processor:
      options.bosPostProcessor === false
        ? null
        : {
            type: 'TemplateProcessing',
            single: [{ SpecialToken: { id: '<bos>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
            pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
            special_tokens: { '<bos>': { id: '<bos>', ids: [1], tokens: ['<bos>'] } },
          },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: false },
    model: { type: 'WordLevel', vocab, unk_token: '<unk>' },
  };
  writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileSync(
    path.join(dir, 'tokenizer_config.json'),
    JSON.stringify({
      tokenizer_class: 'PreTrainedTokenizerFast',
      bos_token: '<bos>',
      eos_token: '<eos>',
      pad_token: '<pad>',
      unk_token: '<unk>',
      ...(options.chatTemplate ? { chat_template: options.chatTemplate } : {}),
      ...options.tokenizerConfig,
    }),
  );
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'gpt2', vocab_size: SPECIALS.length + options.words.length, ...options.config }));
}
