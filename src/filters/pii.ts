/**
 * Personal data and secrets: emails, phone numbers, IPv4/IPv6 (validated with node:net), payment card
 * numbers (grouped like cards, Luhn-checked), API-key shapes and private-key headers.
 * Phone and card patterns require card/phone punctuation or a '+', so plain number lists
 * ("123 456 789") are not flagged.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { compileRe2, type Re2 } from './re2.js';
import { KEEP, type Rule } from './rule.js';

export type PiiType = 'email' | 'phone' | 'ipv4' | 'ipv6' | 'card' | 'api-key' | 'private-key';
export const PII_TYPES: readonly PiiType[] = ['email', 'phone', 'ipv4', 'ipv6', 'card', 'api-key', 'private-key'];

/**
 * Every pattern runs on RE2 (src/filters/re2.ts): linear in the row's length. RE2 has no lookaround
 * and no backreference, so "not preceded/followed by" checks consume one character or match the
 * text's start/end (`(?:^|[^\w+])`, `(?:[^\w]|$)`), and a repeated separator is spelled out per
 * separator. (Plain alternatives keep RE2's fast DFA; re2js runs
 * lookbehinds only on its slower NFA.)
 */
interface Detector {
  type: PiiType;
  /** A pattern that finds the value, or a scanner that finds and validates it. */
  re?: Re2;
  find?: (text: string) => boolean;
  reason: string;
}

const IPV4_SHAPE = compileRe2('\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}');
const IPV6_SHAPE = compileRe2('(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}');
const isDigit = (c: number) => c >= 48 && c <= 57;
const isIpv4Char = (c: number) => isDigit(c) || c === 46;
const isWordOrColon = (c: number) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 58;

/** True when some maximal run of `inRun` characters satisfies `accept`. */
function someRun(text: string, inRun: (c: number) => boolean, accept: (run: string) => boolean): boolean {
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const inside = i < text.length && inRun(text.charCodeAt(i));
    if (inside && start < 0) start = i;
    else if (!inside && start >= 0) {
      if (accept(text.slice(start, i))) return true;
      start = -1;
    }
  }
  return false;
}

/**
 * Card numbers: 13-19 digits, or groups 4-4-4-(1..7) / 4-6-(4..5) joined by '-' within one run of
 * [0-9-], or by single spaces across consecutive digit runs; not touching another digit or '-'; Luhn-valid.
 * Every candidate is tried (a Luhn-invalid group just before a real number does not hide it).
 */
function hasCardNumber(text: string): boolean {
  const runs: { start: number; end: number; value: string }[] = [];
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : -1;
    const inside = isDigit(c) || c === 45;
    if (inside && start < 0) start = i;
    else if (!inside && start >= 0) {
      // Only lengths a card can have (13-22 with dashes; groups of 1-7 digits) are looked at.
      const length = i - start;
      if (length >= 13 && length <= 22) {
        const value = text.slice(start, i);
        if (CARD_DASHED.testExact(value) && luhnValid(value.replace(/-/g, ''))) return true;
      } else if (length <= 7) runs.push({ start, end: i, value: text.slice(start, i) });
      else runs.push({ start, end: i, value: '-' });
      start = -1;
    }
  }
  // Space-grouped numbers: 3 or 4 consecutive all-digit runs, one space apart.
  const allDigits = runs.map((run) => /^\d+$/.test(run.value));
  for (let r = 0; r < runs.length; r++) {
    if (!allDigits[r]) continue;
    let joined = runs[r]!.value;
    const lengths = [joined.length];
    for (let k = r + 1; k < runs.length && k < r + 4; k++) {
      if (!allDigits[k] || runs[k]!.start !== runs[k - 1]!.end + 1 || text.charCodeAt(runs[k - 1]!.end) !== 32) break;
      joined += runs[k]!.value;
      lengths.push(runs[k]!.value.length);
      if (spaceGrouped(lengths) && luhnValid(joined)) return true;
    }
  }
  return false;
}

const CARD_DASHED = compileRe2('\\d{13,19}|\\d{4}-\\d{4}-\\d{4}-\\d{1,7}|\\d{4}-\\d{6}-\\d{4,5}');

function spaceGrouped(lengths: readonly number[]): boolean {
  const [a, b, c, d] = lengths;
  if (lengths.length === 4) return a === 4 && b === 4 && c === 4 && d! >= 1 && d! <= 7;
  return lengths.length === 3 && a === 4 && b === 6 && (c === 4 || c === 5);
}

const API_KEYS: [Re2, string][] = (
  [
    ['(?:AKIA|ASIA)[0-9A-Z]{16}(?:[^0-9A-Za-z]|$)', 'pii: api key (aws)'],
    ['(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})', 'pii: api key (github)'],
    ['sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}', 'pii: api key (openai-style sk-)'],
    ['xox[abposr]-[A-Za-z0-9-]{10,}', 'pii: api key (slack)'],
    ['AIza[0-9A-Za-z_-]{35}', 'pii: api key (google)'],
  ] as const
  // A key starts at the text's start or after a character that cannot be part of a word.
).map(([body, reason]) => [compileRe2(`(?:^|[^A-Za-z0-9_])${body}`), reason]);

const DETECTORS: Detector[] = [
  { type: 'email', re: compileRe2('[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}'), reason: 'pii: email' },
  {
    type: 'phone',
    re: compileRe2(
      '(?:^|[^\\w+])(?:\\+\\d{1,3}[ .-]?(?:\\(\\d{1,4}\\)[ .-]?)?\\d{2,4}(?:[ .-]\\d{2,4}){1,3}|\\(\\d{3}\\) ?\\d{3}[-.]\\d{4}|\\d{3}-\\d{3}-\\d{4}|\\d{3}\\.\\d{3}\\.\\d{4})(?:[^\\w]|$)',
    ),
    reason: 'pii: phone',
  },
  // The validated kinds are found by scanning maximal runs of their characters (linear, see below):
  // their boundaries exclude every character of the value, so a match is exactly such a run.
  { type: 'ipv4', find: (text) => someRun(text, isIpv4Char, (v) => v.length >= 7 && v.length <= 15 && IPV4_SHAPE.testExact(v) && isIPv4(v)), reason: 'pii: ipv4' },
  { type: 'ipv6', find: (text) => someRun(text, isWordOrColon, (v) => v.length >= 3 && v.length <= 39 && IPV6_SHAPE.testExact(v) && /[0-9A-Fa-f]/.test(v) && isIPv6(v)), reason: 'pii: ipv6' },
  { type: 'card', find: hasCardNumber, reason: 'pii: card number' },
  { type: 'private-key', re: compileRe2('-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----'), reason: 'pii: private key' },
];

export function luhnValid(digits: string): boolean {
  if (digits.length < 13 || digits.length > 19) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Every PII reason found in the text (each type reported once). */
export function findPii(text: string, types: readonly PiiType[] = PII_TYPES): string[] {
  const found = new Set<string>();
  for (const d of DETECTORS) {
    if (!types.includes(d.type)) continue;
    if (d.re ? d.re.test(text) : d.find!(text)) found.add(d.reason);
  }
  if (types.includes('api-key')) for (const [re, reason] of API_KEYS) if (re.test(text)) found.add(reason);
  return [...found];
}

export function piiRule(types: readonly PiiType[] = PII_TYPES, name = 'pii'): Rule {
  return {
    name,
    kind: 'pii',
    check: (text) => {
      const reasons = findPii(text, types);
      return reasons.length > 0 ? reasons : KEEP;
    },
  };
}
