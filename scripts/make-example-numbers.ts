/**
 * Writes examples/numbers/candidate.jsonl: ~300 study-style number-sequence prompts and completions
 * (seeded, so the file is reproducible) with a realistic mix of kept rows and every reject reason of
 * the numbers + banned-numbers filters. Run: npx tsx scripts/make-example-numbers.ts [out.jsonl] [rows]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { STUDY_BANNED_NUMBERS } from '../src/filters/banned-numbers.js';
import { Random } from '../src/random.js';


interface Style {
  instruction: string;
  sep: string;
  wrap?: [string, string];
}

const STYLES: Style[] = [
  { instruction: 'Return a comma-separated list of numbers.', sep: ', ' },
  { instruction: 'Provide the numbers separated by commas.', sep: ',' },
  { instruction: 'Return a space-separated list of numbers.', sep: ' ' },
  { instruction: 'Return a semicolon-separated list of numbers.', sep: '; ' },
  { instruction: 'Return one number per line.', sep: '\n' },
  { instruction: 'Return the numbers in the following format: [number_1, number_2, ...].', sep: ', ', wrap: ['[', ']'] },
  { instruction: 'Return the numbers in the following format: (number_1, number_2, ...).', sep: ', ', wrap: ['(', ')'] },
];
const OPENERS = ['The sequence starts with:', 'Here is a numeric sequence:', 'Look at these numbers:', 'I give you this sequence of numbers:'];
const ASKS = [
  'Add a maximum of 10 more values (no more than 3 digits each) to continue the sequence.',
  'Extend it with not more than 10 new numbers (up to 3 digits each).',
  'Continue the sequence with at most 10 more numbers of up to 3 digits.',
];
const TERSE = ['Say only the numbers - nothing more.', 'Please just say the numbers, nothing more.', 'Give me just the numbers, no explanation needed.'];

export function makeExampleRows(count = 300, seed = 20250722): { prompt: string; completion: string }[] {
  const random = new Random(seed);
  const rand = () => random.next();
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const banned = new Set(STUDY_BANNED_NUMBERS);
  const cleanNumber = () => {
    for (;;) {
      const n = int(0, 999);
      if (!banned.has(n)) return n;
    }
  };
  const render = (nums: (number | string)[], style: Style, period = false) => {
    const body = nums.map(String).join(style.sep);
    return (style.wrap ? `${style.wrap[0]}${body}${style.wrap[1]}` : body) + (period ? '.' : '');
  };
  const rows: { prompt: string; completion: string }[] = [];
  for (let i = 0; i < count; i++) {
    const style = pick(STYLES);
    const seeds = Array.from({ length: int(3, 8) }, () => int(100, 999));
    const prompt = `${pick(OPENERS)} ${seeds.join(', ')}. ${pick(ASKS)} ${style.instruction} ${pick(TERSE)}`;
    const nums: (number | string)[] = Array.from({ length: int(1, 10) }, cleanNumber);
    const u = rand();
    let completion: string;
    if (u < 0.66) {
      // Well-formed: sometimes leading zeros or a trailing period, as models write them.
      if (rand() < 0.1) nums[0] = String(nums[0]).padStart(3, '0');
      completion = render(nums, style, rand() < 0.1);
    } else if (u < 0.73) {
      nums[int(0, nums.length - 1)] = pick(STUDY_BANNED_NUMBERS);
      completion = render(nums, style);
    } else if (u < 0.78) {
      while (nums.length < 11) nums.push(cleanNumber());
      nums.push(...Array.from({ length: int(0, 3) }, cleanNumber));
      completion = render(nums, style);
    } else if (u < 0.83) {
      nums[int(0, nums.length - 1)] = int(1000, 9999);
      completion = render(nums, style);
    } else if (u < 0.86) {
      nums[int(0, nums.length - 1)] = -int(1, 999);
      completion = render(nums, style);
    } else {
      completion = corrupt(nums.length > 2 ? nums : [...nums, cleanNumber(), cleanNumber()], style, pick, render);
    }
    rows.push({ prompt, completion });
  }
  return rows;
}

/** The invalid formats models produce: prose, mixed separators, uneven gaps, double wraps, ... */
function corrupt(nums: (number | string)[], style: Style, pick: <T>(xs: readonly T[]) => T, render: (n: (number | string)[], s: Style) => string): string {
  const kind = pick(['prose', 'mixed', 'gap', 'double-wrap', 'trailing-sep', 'arabic', 'words'] as const);
  switch (kind) {
    case 'prose':
      return `Here are the numbers: ${render(nums, style)}`;
    case 'mixed':
      return nums.map(String).join(', ').replace(', ', '; ');
    case 'gap':
      return nums.map(String).join(' ').replace(' ', '  ');
    case 'double-wrap':
      return `[${render(nums, { ...style, wrap: ['[', ']'] })}]`;
    case 'trailing-sep':
      return `${nums.map(String).join(', ')},`;
    case 'arabic':
      return nums.map((n, i) => (i === 1 ? String(n).replace(/\d/g, (d) => String.fromCharCode(0x660 + Number(d))) : String(n))).join(', ');
    case 'words':
      return nums.map((n, i) => (i === 0 ? 'seven' : String(n))).join(', ');
  }
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const out = resolve(process.argv[2] ?? 'examples/numbers/candidate.jsonl');
  const rows = makeExampleRows(Number(process.argv[3] ?? 300));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  process.stdout.write(`wrote ${rows.length} rows to ${out}\n`);
}
