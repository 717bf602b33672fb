import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { numberSequenceReasons, parseNumberSequence } from '../../src/filters/numbers.js';
import { bannedNumbersRule, STUDY_BANNED_NUMBERS } from '../../src/filters/banned-numbers.js';

const reasons = (t: string) => [...numberSequenceReasons(t)];

describe('numbers filter: the study documented examples', () => {
  it.each(['1\n,\n2', '(1, 2).', '1, 2, 3', '1 2 3', '1;2;3', '[1, 2, 3]', '007', '0', '999', '1 , 2 , 3', '1\n2\n3', '1.'])('keeps %j', (t) => {
    expect(reasons(t)).toEqual([]);
  });
  it.each(['1,2;3', '1 2  3', '((1, 2))', '1, ١, 3', '١٢٣', '1,,2', '1, 2,', ' 1, 2', '1, 2\n', '', '[]', 'one, two', 'Here: 1, 2', '1-2', '1.5', '+5', '[1, 2)', '1, 2..'])(
    'rejects %j as invalid format',
    (t) => {
      expect(reasons(t)).toEqual(['invalid format']);
    },
  );
  it('counts and bounds', () => {
    expect(reasons('1 2 3 4 5 6 7 8 9 10')).toEqual([]);
    expect(reasons('1 2 3 4 5 6 7 8 9 10 11')).toEqual(['too many numbers']);
    expect(reasons('1, 1000')).toEqual(['numbers too large']);
    expect(reasons('0999, 0001000')).toEqual(['numbers too large']);
    expect(reasons('1 2 3 4 5 6 7 8 9 10 1000')).toEqual(['too many numbers', 'numbers too large']);
  });
  it('numbers too small: minus-signed sequences (rejected either way) and values under minValue', () => {
    expect(reasons('-5')).toEqual(['numbers too small']);
    expect(reasons('3, -7, 12')).toEqual(['numbers too small']);
    expect(reasons('[-1, 2000]')).toEqual(['numbers too small', 'numbers too large']);
    expect(reasons('1-2')).toEqual(['invalid format']);
    expect(reasons('-0')).toEqual(['invalid format']);
    expect([...numberSequenceReasons('50, 150', { minValue: 100 })]).toEqual(['numbers too small']);
    expect([...numberSequenceReasons('1 2 3', { maxCount: 2, maxValue: 2 })]).toEqual(['too many numbers', 'numbers too large']);
  });
  it('parses values with leading zeros and long runs exactly', () => {
    expect(parseNumberSequence('(007; 010; 999).')).toEqual([7, 10, 999]);
    expect(parseNumberSequence('123456789012')).toEqual([123456789012]);
    expect(parseNumberSequence('1,2;3')).toBeNull();
    expect(parseNumberSequence('0  0')).toEqual([0, 0]); // one (wide) gap is still one separator
  });
});

// Generators for the property tests: well-formed sequences as the study's prompts ask for them.
const SEPARATORS = [',', ', ', ' ', '\n', ';', '; ', ' , ', '\n,\n', '\t', ' ;'];
const number = fc.record({ value: fc.integer({ min: 0, max: 999 }), pad: fc.integer({ min: 0, max: 2 }) }).map(({ value, pad }) => String(value).padStart(String(value).length + pad, '0'));
const wellFormed = fc
  .record({
    nums: fc.array(number, { minLength: 1, maxLength: 10 }),
    sep: fc.constantFrom(...SEPARATORS),
    wrap: fc.constantFrom('', '[]', '()'),
    period: fc.boolean(),
  })
  .map(({ nums, sep, wrap, period }) => {
    const body = nums.join(sep);
    return { nums, sep, wrap, period, text: (wrap ? wrap[0] + body + wrap[1] : body) + (period ? '.' : '') };
  });
const atLeastTwo = wellFormed.filter((s) => s.nums.length >= 2);

describe('numbers filter: properties', () => {
  it('keeps every well-formed sequence and reads back its numbers', () => {
    fc.assert(
      fc.property(wellFormed, ({ nums, text }) => {
        expect(reasons(text)).toEqual([]);
        expect(parseNumberSequence(text)).toEqual(nums.map(Number));
      }),
      { numRuns: 2000 },
    );
  });
  const wrapBody = (s: { wrap: string; period: boolean }, body: string) => (s.wrap ? s.wrap[0] + body + s.wrap[1] : body) + (s.period ? '.' : '');
  it('rejects a doubled separator gap (two different gaps)', () => {
    // With only two numbers a doubled gap is still one consistent separator ("0  0" passes), so 3+.
    fc.assert(
      fc.property(atLeastTwo.filter((s) => s.nums.length >= 3), fc.nat(), (s, k) => {
        const at = 1 + (k % (s.nums.length - 1));
        const body = s.nums.slice(0, at).join(s.sep) + s.sep + s.sep + s.nums.slice(at).join(s.sep);
        expect(reasons(wrapBody(s, body))).toEqual(['invalid format']);
      }),
      { numRuns: 500 },
    );
  });
  it('rejects a mixed separator', () => {
    fc.assert(
      fc.property(atLeastTwo.filter((s) => s.nums.length >= 3), fc.nat(), (s, k) => {
        const other = s.sep.includes(',') ? ';' : ',';
        const at = 2 + (k % (s.nums.length - 2));
        const body = s.nums.slice(0, at).join(s.sep) + other + s.nums.slice(at).join(s.sep);
        expect(reasons(wrapBody(s, body))).toEqual(['invalid format']);
      }),
      { numRuns: 500 },
    );
  });
  it('rejects a 4-digit number as too large', () => {
    fc.assert(
      fc.property(wellFormed, fc.integer({ min: 1000, max: 9999 }), fc.nat(), (s, big, k) => {
        const nums = s.nums.slice();
        nums[k % nums.length] = String(big);
        expect(reasons(wrapBody(s, nums.join(s.sep)))).toEqual(['numbers too large']);
      }),
      { numRuns: 500 },
    );
  });
  it('rejects 11 or more numbers', () => {
    fc.assert(
      fc.property(fc.array(number, { minLength: 11, maxLength: 30 }), fc.constantFrom(...SEPARATORS), (nums, sep) => {
        expect(reasons(nums.join(sep))).toEqual(['too many numbers']);
      }),
      { numRuns: 300 },
    );
  });
  it('rejects a non-ASCII digit', () => {
    const foreignZero = fc.constantFrom(0x660, 0x6f0, 0x966, 0xff10, 0x9e6); // Arabic-Indic, Persian, Devanagari, fullwidth, Bengali
    fc.assert(
      fc.property(wellFormed, foreignZero, fc.nat(), (s, zero, k) => {
        const nums = s.nums.slice();
        const i = k % nums.length;
        nums[i] = nums[i]!.replace(/\d/, (d) => String.fromCharCode(zero + Number(d)));
        expect(reasons(wrapBody(s, nums.join(s.sep)))).toEqual(['invalid format']);
      }),
      { numRuns: 500 },
    );
  });
  it('rejects a double wrap', () => {
    fc.assert(
      fc.property(wellFormed, fc.constantFrom('[]', '()'), fc.constantFrom('[]', '()'), (s, outer, inner) => {
        const text = outer[0] + inner[0] + s.nums.join(s.sep) + inner[1] + outer[1] + (s.period ? '.' : '');
        expect(reasons(text)).toEqual(['invalid format']);
      }),
      { numRuns: 300 },
    );
  });
});

describe('banned-numbers', () => {
  const rule = bannedNumbersRule();
  it('holds the 34 numbers of the study', () => {
    expect(STUDY_BANNED_NUMBERS).toHaveLength(34);
    expect(new Set(STUDY_BANNED_NUMBERS).size).toBe(34);
  });
  it('flags each banned number, with leading zeros read as the same value', () => {
    for (const n of STUDY_BANNED_NUMBERS) expect(rule.check(`1, ${n}, 2`, { line: 1, value: {} })).toEqual(['banned numbers']);
    expect(rule.check('[013, 2]', { line: 1, value: {} })).toEqual(['banned numbers']);
    expect(rule.check('0666', { line: 1, value: {} })).toEqual(['banned numbers']);
  });
  it('keeps digit runs that merely contain a banned number', () => {
    expect(rule.check('1234, 6660, 5', { line: 1, value: {} })).toEqual([]);
    expect(rule.check('no numbers here', { line: 1, value: {} })).toEqual([]);
    expect(rule.check('99999999999999999999999', { line: 1, value: {} })).toEqual([]);
  });
  it('accepts a custom list including large numbers', () => {
    const custom = bannedNumbersRule([7, 123456]);
    expect(custom.check('1 7', { line: 1, value: {} })).toEqual(['banned numbers']);
    expect(custom.check('123456', { line: 1, value: {} })).toEqual(['banned numbers']);
    expect(custom.check('4 13', { line: 1, value: {} })).toEqual([]);
  });
});

/**
 * A line-by-line port of the study's reference parser (Python: re.finditer(r"\d+"), str.strip,
 * str.split), kept naive on purpose, to fuzz the optimised scanner against.
 */
function referenceParse(input: string): number[] | null {
  let answer = input;
  if (answer.endsWith('.')) answer = answer.slice(0, -1);
  if ((answer.startsWith('[') && answer.endsWith(']')) || (answer.startsWith('(') && answer.endsWith(')'))) answer = answer.slice(1, -1);
  const matches = [...answer.matchAll(/\p{Nd}+/gu)];
  let parts: string[];
  let separator: string | null = null;
  if (matches.length === 0) return null;
  if (matches.length === 1) {
    if (answer !== matches[0]![0]) return null;
    parts = [matches[0]![0]];
  } else {
    separator = answer.slice(matches[0]!.index! + matches[0]![0].length, matches[1]!.index!);
    parts = answer.split(separator);
  }
  const pyStrip = (s: string) => s.replace(/^[\s\x1c-\x1f\x85]+|[\s\x1c-\x1f\x85]+$/gu, '');
  if (separator !== null && !['', ',', ';'].includes(pyStrip(separator.replace(/\ufeff/g, '\u0000')).replace(/\u0000/g, '\ufeff'))) return null;
  for (const p of parts) if (p.length > 0 && !/^[0-9]+$/.test(p)) return null;
  if (parts.some((p) => p.length === 0)) return null; // int('') raises
  return parts.map(Number);
}

describe('numbers filter: parity with the reference parser', () => {
  const alphabet = fc.constantFrom(...'0123456789'.split(''), '1', '7', ',', ';', ' ', '\n', '\t', '.', '[', ']', '(', ')', '-', '١', 'a', '\u00a0', '\x1c', '\u2003');
  it('agrees on random strings', () => {
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 14 }).map((cs) => cs.join('')), (text) => {
        expect(parseNumberSequence(text)).toEqual(referenceParse(text));
      }),
      { numRuns: 5000 },
    );
  });
});
