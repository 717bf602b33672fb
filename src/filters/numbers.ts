/**
 * The study's number-sequence format filter (Cloud, Le et al. 2025, SCIENCE.md), reproduced exactly:
 *   1. remove ONE trailing '.';
 *   2. remove ONE wrapping pair of [] or ();
 *   3. the separator is the text between the first two digit runs; stripped of whitespace it must be
 *      '', ',' or ';'. The body is split on that exact string; every piece must be non-empty ASCII
 *      digits (leading zeros allowed). A body with one number must be exactly that number.
 * No other trimming happens: leading/trailing spaces or a trailing newline make the format invalid,
 * as in the reference parser.
 *
 * Reasons (reference order): 'invalid format' (alone, when step 3 fails), else any of
 * 'too many numbers' (count > maxCount), 'numbers too small' (a value < minValue), 'numbers too large'
 * (a value > maxValue).
 *
 * Negative numbers. The reference has no minus sign: "-5" and "3, -7, 12" fail its format check, and
 * they are rejected here too (the keep/reject decision is always the reference's). Only the label
 * differs: when the text WOULD be well-formed if a '-' directly before a number (at the start of the
 * body or after a non-digit) were a sign, the reasons are computed on those signed values, so such a
 * row reads 'numbers too small' (plus any other count/value reason) instead of 'invalid format'.
 * "1-2" stays 'invalid format' ('-' after a digit is a separator). With minValue > 0,
 * 'numbers too small' also fires for small non-negative values, as in the reference.
 */
import { KEEP, type Rule } from './rule.js';

export interface NumbersOptions {
  maxCount?: number;
  maxValue?: number;
  minValue?: number;
}

const INVALID: readonly string[] = Object.freeze(['invalid format']);

/** Python's str.strip() whitespace set (str.isspace), so separators are judged as the reference does. */
export function isPyWhitespace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13) || (c >= 28 && c <= 31);
  if (c < 0x85) return false;
  return (
    c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
  );
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Bounds of the body after removing one trailing '.' and one wrapping bracket pair. */
function bodyBounds(text: string): [number, number] {
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) === 46) end--;
  if (end >= 2) {
    const a = text.charCodeAt(0);
    const b = text.charCodeAt(end - 1);
    if ((a === 91 && b === 93) || (a === 40 && b === 41)) return [1, end - 1];
  }
  return [0, end];
}

/** Where a number token starts: a digit, or (signed) a '-' before a digit that does not follow a digit. */
function tokenStartAt(text: string, i: number, start: number, end: number, signed: boolean): boolean {
  const c = text.charCodeAt(i);
  if (isDigit(c)) return true;
  return signed && c === 45 && i + 1 < end && isDigit(text.charCodeAt(i + 1)) && (i === start || !isDigit(text.charCodeAt(i - 1)));
}

/** The separator (start, end) between the first two number tokens, or null when fewer than two. */
function separatorBounds(text: string, start: number, end: number, signed: boolean): [number, number] | null {
  let i = start;
  while (i < end && !tokenStartAt(text, i, start, end, signed)) i++;
  if (i < end && !isDigit(text.charCodeAt(i))) i++; // the sign
  while (i < end && isDigit(text.charCodeAt(i))) i++;
  const sepStart = i;
  while (i < end && !tokenStartAt(text, i, start, end, signed)) i++;
  if (i >= end) return null;
  return [sepStart, i];
}

function separatorAllowed(text: string, s: number, e: number): boolean {
  while (s < e && isPyWhitespace(text.charCodeAt(s))) s++;
  while (e > s && isPyWhitespace(text.charCodeAt(e - 1))) e--;
  if (e === s) return true;
  if (e - s !== 1) return false;
  const c = text.charCodeAt(s);
  return c === 44 || c === 59;
}

/** What a scan found: count, smallest and largest value (an object the caller owns and may reuse). */
export interface ScanStats {
  count: number;
  min: number;
  max: number;
}

const newScanStats = (): ScanStats => ({ count: 0, min: Infinity, max: -Infinity });

/**
 * Scan a well-formed sequence; returns false (and stops) on invalid format.
 * `signed` allows a leading '-' on each number (used only to label a rejected row, see above).
 * Count, min and max land in `stats`; the values in `out` when given.
 * Values stop growing past 1e15 (still far above any bound), so long digit runs cannot overflow.
 */
function scanSequence(text: string, signed: boolean, out: number[] | null, stats: ScanStats): boolean {
  stats.count = 0;
  stats.min = Infinity;
  stats.max = -Infinity;
  const [start, end] = bodyBounds(text);
  const sep = separatorBounds(text, start, end, signed);
  const sepLen = sep === null ? 0 : sep[1] - sep[0];
  if (sep !== null && !separatorAllowed(text, sep[0], sep[1])) return false;
  // Without a separator the body must be exactly one number (sepLen 0 never matches below).
  const s0 = sep === null ? 0 : sep[0];
  const first = sep === null ? -1 : text.charCodeAt(s0);
  let i = start;
  for (;;) {
    // One piece: [sign] digits up to the next exact occurrence of the separator (or the end).
    let negative = false;
    if (signed && i < end && text.charCodeAt(i) === 45) {
      negative = true;
      i++;
    }
    const digitsStart = i;
    let v = 0;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c === first && i + sepLen <= end && matchesAt(text, i, s0, sepLen)) break;
      if (!isDigit(c)) return false;
      if (v < 1e14) v = v * 10 + (c - 48);
      i++;
    }
    if (i === digitsStart) return false; // empty piece: "", "1,,2", "1 2  3", "1, 2,"
    const value = negative ? -v : v;
    stats.count++;
    if (value < stats.min) stats.min = value;
    if (value > stats.max) stats.max = value;
    if (out) out.push(value);
    if (i >= end) return true;
    i += sepLen;
  }
}

function matchesAt(text: string, at: number, sepStart: number, len: number): boolean {
  for (let k = 0; k < len; k++) if (text.charCodeAt(at + k) !== text.charCodeAt(sepStart + k)) return false;
  return true;
}

/** The numbers of a well-formed sequence, or null for 'invalid format'. */
export function parseNumberSequence(text: string): number[] | null {
  const out: number[] = [];
  return scanSequence(text, false, out, newScanStats()) ? out : null;
}

/**
 * Reject reasons for one completion, per the study's rules. `stats` is scratch space (a rule
 * passes its own, reused row after row, so the hot path allocates nothing).
 */
export function numberSequenceReasons(text: string, opts: NumbersOptions = {}, stats: ScanStats = newScanStats()): readonly string[] {
  const maxCount = opts.maxCount ?? 10;
  const maxValue = opts.maxValue ?? 999;
  const minValue = opts.minValue ?? 0;
  if (!scanSequence(text, false, null, stats)) {
    // Rejected either way; a sequence that only fails on minus signs is labelled by its values.
    if (!scanSequence(text, true, null, stats) || !(stats.min < minValue)) return INVALID;
  }
  const count = stats.count;
  const tooSmall = stats.min < minValue;
  const tooLarge = stats.max > maxValue;
  const tooMany = count > maxCount;
  if (!tooMany && !tooSmall && !tooLarge) return KEEP;
  return COMBOS[(tooMany ? 4 : 0) | (tooSmall ? 2 : 0) | (tooLarge ? 1 : 0)]!;
}

// Every combination of the three count/value reasons, built once (no per-row arrays).
const COMBOS: readonly (readonly string[])[] = Array.from({ length: 8 }, (_, bits) =>
  Object.freeze([
    ...(bits & 4 ? ['too many numbers'] : []),
    ...(bits & 2 ? ['numbers too small'] : []),
    ...(bits & 1 ? ['numbers too large'] : []),
  ]),
);

export function numbersRule(opts: NumbersOptions = {}, name = 'numbers'): Rule {
  const stats = newScanStats();
  return { name, kind: 'numbers', check: (text) => numberSequenceReasons(text, opts, stats) };
}
