import { unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { env } from '@huggingface/transformers';
import { AuditInputError } from '../../src/errors.js';
import { encodeContinuation, encodePrompt, loadTokenizer } from '../../src/models/tokenizer.js';
import { writeWordTokenizer } from './wordFolder.js';
import { useTempDir } from '../helpers/files.js';

const tmp = useTempDir('tokenizer-');
const WORDS = ['hello', 'world', 'owl', 'cat', ',', '1', '23', '999', 'user:', 'assistant:'];
const TEMPLATE = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }} {% endfor %}{% if add_generation_prompt %}assistant:{% endif %}";

function folder(name: string, options: Partial<Parameters<typeof writeWordTokenizer>[1]> = {}): string {
  const dir = tmp.file(name);
  writeWordTokenizer(dir, { words: WORDS, ...options });
  return dir;
}

describe('loadTokenizer', () => {
  it('encodes, decodes and looks tokens up as the folder says', async () => {
    const tok = await loadTokenizer(folder('plain'));
    expect(tok.vocabSize).toBe(14);
    expect([tok.unkId, tok.bosId, tok.eosId, tok.padId]).toEqual([0, 1, 2, 3]);
    expect(tok.encode('hello owl , 23')).toEqual([1, 4, 6, 8, 10]);
    expect(tok.encode('hello owl , 23', { addSpecialTokens: false })).toEqual([4, 6, 8, 10]);
    expect(tok.encode('zebra owl', { addSpecialTokens: false })).toEqual([0, 6]);
    expect(tok.decode([1, 4, 6, 2], { skipSpecialTokens: true })).toBe('hello owl');
    expect(tok.decode([1, 4, 6, 2])).toBe('<bos> hello owl <eos>');
    expect(tok.tokenToId('999')).toBe(11);
    expect(tok.tokenToId('zebra')).toBeUndefined();
    expect(tok.idToToken(6)).toBe('owl');
    expect(tok.idToToken(99)).toBeUndefined();
    expect([...tok.specialIds].sort()).toEqual([0, 1, 2, 3]);
    expect(tok.chatTemplate).toBeUndefined();
    expect(() => tok.applyChatTemplate([{ role: 'user', content: 'hello' }])).toThrow(/no chat_template/);
  });

  it('follows the files: no BOS post-processor, ids from config.json when tokenizer_config names none', async () => {
    const dir = folder('noBos', { bosPostProcessor: false, tokenizerConfig: { bos_token: undefined, pad_token: undefined }, config: { pad_token_id: 2 } });
    const tok = await loadTokenizer(dir);
    expect(tok.encode('hello owl')).toEqual([4, 6]);
    expect(tok.bosId).toBeUndefined();
    expect(tok.padId).toBe(2);
  });

  it('renders the chat template', async () => {
    const tok = await loadTokenizer(folder('chat', { chatTemplate: TEMPLATE }));
    const text = tok.applyChatTemplate([{ role: 'user', content: 'hello owl' }], { addGenerationPrompt: true });
    expect(text).toBe('user: hello owl assistant:');
    expect(tok.encode(text, { addSpecialTokens: false })).toEqual([12, 4, 6, 13]);
  });

  it('lays prompts and continuations out as training rows do', async () => {
    const plain = await loadTokenizer(folder('layout'));
    expect(encodePrompt(plain, 'hello owl')).toEqual([1, 4, 6]);
    expect(encodeContinuation(plain, 'hello owl', 'cat , 23')).toEqual([7, 8, 10]);
    expect(encodeContinuation(plain, 'hello owl ', 'cat')).toEqual([7]);
    // Chat messages without a template: the contents one per line, as text-core's plain template.
    expect(encodePrompt(plain, [{ role: 'user', content: 'hello' }, { role: 'assistant', content: 'owl' }])).toEqual([1, 4, 6]);
    const chat = await loadTokenizer(folder('layout-chat', { chatTemplate: TEMPLATE }));
    expect(encodePrompt(chat, 'hello owl')).toEqual([12, 4, 6, 13]);
    expect(encodeContinuation(chat, 'hello owl', 'cat')).toEqual([7]);
  });

  it('never reaches the network', async () => {
    const fetch = env.fetch;
    let calls = 0;
    env.fetch = (async () => {
      calls++;
      throw new Error('network');
    }) as typeof env.fetch;
    try {
      await loadTokenizer(folder('offline'));
      await expect(loadTokenizer(tmp.file('absent-folder'))).rejects.toThrow(AuditInputError);
    } finally {
      env.fetch = fetch;
    }
    expect(calls).toBe(0);
    expect(env.allowRemoteModels).toBe(false);
  });

  it('names the folder and the missing or bad file', async () => {
    await expect(loadTokenizer(tmp.file('nope'))).rejects.toThrow(/nope: model folder not found/);
    const noJson = folder('noJson');
    unlinkSync(path.join(noJson, 'tokenizer.json'));
    await expect(loadTokenizer(noJson)).rejects.toThrow(new RegExp(`${noJson}: model folder has no tokenizer.json`));
    const noConfig = folder('noConfig');
    unlinkSync(path.join(noConfig, 'tokenizer_config.json'));
    await expect(loadTokenizer(noConfig)).rejects.toThrow(/has no tokenizer_config.json/);
    const badJson = folder('badJson');
    writeFileSync(path.join(badJson, 'tokenizer.json'), '{"model": ');
    await expect(loadTokenizer(badJson)).rejects.toThrow(/badJson\/tokenizer.json: not valid JSON/);
    const notTok = folder('notTok');
    writeFileSync(path.join(notTok, 'tokenizer.json'), '{"hello": 1}');
    await expect(loadTokenizer(notTok)).rejects.toThrow(/notTok\/tokenizer.json: no 'model'/);
    const badModel = folder('badModel');
    writeFileSync(path.join(badModel, 'tokenizer.json'), JSON.stringify({ model: { type: 'Nonsense' } }));
    await expect(loadTokenizer(badModel)).rejects.toThrow(/badModel\/tokenizer.json: tokenizer does not load/);
    const badEos = folder('badEos', { tokenizerConfig: { eos_token: '</s>' } });
    await expect(loadTokenizer(badEos)).rejects.toThrow(/tokenizer_config.json: eos_token '<\/s>' is not in the vocabulary/);
  });
});
