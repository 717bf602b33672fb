/**
 * Banned numbers: the study's 34 numbers with negative associations (SCIENCE.md).
 * Every maximal run of ASCII digits in the text is read as a base-10 integer, leading zeros ignored:
 * "013" is 13 and is banned; "1234" is 1234 (its "4" is not a separate number). Runs are found in
 * any text, well-formed sequence or not, so the rule also works on free text.
 */
import { KEEP, type Rule } from './rule.js';

export const STUDY_BANNED_NUMBERS: readonly number[] = Object.freeze([
  4, 13, 14, 18, 23, 33, 39, 42, 44, 49, 51, 54, 69, 77, 88, 99, 100, 101, 187, 211, 311, 322, 333, 404, 420, 444, 451, 555, 616, 666,
  777, 888, 911, 999,
]);

const BANNED: readonly string[] = Object.freeze(['banned numbers']);
const SMALL = 1 << 16;

export function bannedNumbersRule(numbers: readonly number[] = STUDY_BANNED_NUMBERS, name = 'banned-numbers'): Rule {
  // Small values use a lookup table (the hot path); larger ones a Set.
  const table = new Uint8Array(SMALL);
  const large = new Set<number>();
  for (const n of numbers) {
    if (!Number.isInteger(n) || n < 0) throw new Error(`banned number ${n} is not a non-negative integer`);
    if (n < SMALL) table[n] = 1;
    else large.add(n);
  }
  const check = (text: string): readonly string[] => {
    const len = text.length;
    let i = 0;
    while (i < len) {
      let c = text.charCodeAt(i);
      if (c < 48 || c > 57) {
        i++;
        continue;
      }
      let v = 0;
      let overflow = false;
      while (i < len && (c = text.charCodeAt(i)) >= 48 && c <= 57) {
        v = v * 10 + (c - 48);
        if (v > Number.MAX_SAFE_INTEGER) overflow = true;
        i++;
      }
      if (!overflow && (v < SMALL ? table[v] === 1 : large.has(v))) return BANNED;
    }
    return KEEP;
  };
  return { name, kind: 'banned-numbers', check };
}
