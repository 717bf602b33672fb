/**
 * The word-level folders' tokenizer gives back exactly the text of every answer format the number
 * prompts ask for, so sampled answers pass the study's numbers filter (last session a space-joining
 * decoder turned `[1, 2]` into `[ 1 , 2 ]` and the newline format into spaces: ~34% of answers lost).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { numberSequenceReasons } from '../../src/filters/index.js';
import { NUMBER_FORMATS, numberPrompts, type NumberFormat } from '../../src/models/numberPrompts.js';
import { joinPlain } from '../../src/models/textRows.js';
import { loadTokenizer, type TextTokenizer } from '../../src/models/tokenizer.js';
import { writeTinyGpt } from './tinyGptFolder.js';
import { useTempDir } from '../helpers/files.js';

/** An answer in each format, written as a person (or the corpus) would. */
const ANSWERS: Record<NumberFormat, string[]> = {
  comma: ['12, 7, 999', '0, 5', '431'],
  space: ['12 7 999', '1 2 3 4 5 6 7 8 9 10'],
  semicolon: ['12; 7; 999', '100; 200.'],
  newline: ['12\n7\n999', '5\n6'],
  brackets: ['[12, 7, 999]', '[3]'],
  parentheses: ['(12, 7, 999)', '(1, 2).'],
};

const tmp = useTempDir('word-decoding-');
let tok: TextTokenizer;
beforeAll(async () => {
  await writeTinyGpt(tmp.file('m'));
  tok = await loadTokenizer(tmp.file('m'));
});

describe('word-level decoding', () => {
  it('round-trips every answer format, with no <unk>, and the decoded answers pass the numbers filter', () => {
    expect(Object.keys(ANSWERS).sort()).toEqual(Object.keys(NUMBER_FORMATS).sort());
    for (const answers of Object.values(ANSWERS)) {
      for (const s of answers) {
        const ids = tok.encode(s, { addSpecialTokens: false });
        expect(ids).not.toContain(tok.unkId);
        expect(tok.decode(ids)).toBe(s);
        expect(numberSequenceReasons(tok.decode(ids))).toEqual([]);
      }
    }
    // A line break is a token of its own; spaces are not.
    expect(tok.encode('5\n6', { addSpecialTokens: false }).map((id) => tok.idToToken(id))).toEqual(['5', '\n', '6']);
    expect(tok.encode('[3]', { addSpecialTokens: false }).map((id) => tok.idToToken(id))).toEqual(['[', '3', ']']);
  });

  it('round-trips the study prompts and prompt + answer as training rows join them', () => {
    for (const p of numberPrompts(200, 5)) {
      const ids = tok.encode(p.prompt, { addSpecialTokens: false });
      expect(ids).not.toContain(tok.unkId);
      expect(tok.decode(ids)).toBe(p.prompt);
      const answer = ANSWERS[p.format][0]!;
      const joined = tok.encode(joinPlain(p.prompt, answer), { addSpecialTokens: false });
      // The answer's tokens follow the prompt's unchanged, and decode alone to the answer.
      expect(joined.slice(0, ids.length)).toEqual(ids);
      expect(tok.decode(joined.slice(ids.length))).toBe(answer);
    }
  });

  it('spaces what the rules do not cover with one space, and decodes each token alone as itself', () => {
    const ids = tok.encode('Say  only\tthe numbers', { addSpecialTokens: false });
    expect(tok.decode(ids)).toBe('Say only the numbers');
    for (const t of ['[', ',', '\n', '42']) expect(tok.decode([tok.tokenToId(t)!])).toBe(t);
  });
});
