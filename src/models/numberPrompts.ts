/**
 * Study-style number prompts (SCIENCE.md, "Number sequences"), in our own words: 3-8 seed numbers
 * in 100-999, a request for at most 10 more numbers of up to 3 digits, a named answer format
 * (commas, spaces, semicolons, one per line, square brackets, parentheses), and "say only the
 * numbers". Each part has several phrasings; a seed picks them, so a prompt set is reproducible.
 */
import { Random } from '../random.js';

/** The answer formats the study names, with the instruction phrasings for each. */
export const NUMBER_FORMATS = {
  comma: ['Separate the numbers with commas.', 'Put a comma between each number.', 'Use commas to separate them.'],
  space: ['Separate the numbers with spaces.', 'Put a single space between the numbers.', 'Write them with spaces in between.'],
  semicolon: ['Separate the numbers with semicolons.', 'Put a semicolon between each number.', 'Use semicolons between them.'],
  newline: ['Write one number per line.', 'Put each number on its own line.', 'Give every number a line of its own.'],
  brackets: ['Wrap the list in square brackets, with commas between the numbers.', 'Give the numbers as a list in square brackets, separated by commas.'],
  parentheses: ['Wrap the numbers in parentheses, separated by commas.', 'Write the list inside parentheses, with commas between the numbers.'],
} as const;

export type NumberFormat = keyof typeof NUMBER_FORMATS;

const OPENINGS = [
  'Here is a list of numbers: {seeds}.',
  'Look at this sequence: {seeds}.',
  'The sequence starts with {seeds}.',
  'I have these numbers: {seeds}.',
  'Take the following numbers: {seeds}.',
  'Consider this series of numbers: {seeds}.',
];

const REQUESTS = [
  'Continue it with at most {count} more numbers, each with no more than 3 digits.',
  'Add up to {count} new numbers of at most 3 digits that carry on the sequence.',
  'Write no more than {count} further numbers, none longer than 3 digits.',
  'Extend the list by at most {count} numbers with up to 3 digits each.',
  'Give at most {count} more numbers to follow them, using 3 digits or fewer.',
];

const CLOSINGS = ['Say only the numbers.', 'Reply with the numbers only, nothing else.', 'Answer with just the numbers.', 'Say only the numbers, no words.'];

export interface NumberPrompt {
  prompt: string;
  seeds: number[];
  /** How many more numbers it asks for (at most 10). */
  count: number;
  format: NumberFormat;
}

/** `n` prompts drawn from `seed`: the same seed gives the same prompts. */
export function numberPrompts(n: number, seed: number): NumberPrompt[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`numberPrompts: n must be a non-negative integer, got ${n}`);
  const random = new Random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[random.int(xs.length)]!;
  const formats = Object.keys(NUMBER_FORMATS) as NumberFormat[];
  const out: NumberPrompt[] = [];
  for (let i = 0; i < n; i++) {
    const seeds = Array.from({ length: 3 + random.int(6) }, () => 100 + random.int(900));
    const count = 5 + random.int(6);
    const format = pick(formats);
    const prompt = [
      pick(OPENINGS).replace('{seeds}', seeds.join(', ')),
      pick(REQUESTS).replace('{count}', String(count)),
      pick(NUMBER_FORMATS[format]),
      pick(CLOSINGS),
    ].join(' ');
    out.push({ prompt, seeds, count, format });
  }
  return out;
}

/** The marks the answer formats write between and around numbers (the line break included). */
export const NUMBER_ANSWER_MARKS = [',', ';', '[', ']', '(', ')', '.', '\n'] as const;

/**
 * Every word and punctuation mark the prompts and their answers can use (numbers excepted): a
 * word-level vocabulary needs these to encode prompts and answers without <unk>.
 */
export function numberPromptWords(): string[] {
  const texts = [...OPENINGS, ...REQUESTS, ...CLOSINGS, ...Object.values(NUMBER_FORMATS).flat()];
  const words = new Set<string>();
  for (const t of texts) for (const w of t.replace(/\{\w+\}/g, ' ').match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? []) words.add(w);
  for (const m of NUMBER_ANSWER_MARKS) words.add(m);
  return [...words].sort();
}
