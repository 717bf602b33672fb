/**
 * Personal data and secrets: emails, phone numbers, IPv4/IPv6 (validated with node:net), payment card
 * numbers (grouped like cards, Luhn-checked), API-key shapes and private-key headers.
 * Phone and card patterns require card/phone punctuation or a '+', so plain number lists
 * ("123 456 789") are not flagged.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { KEEP, type Rule } from './rule.js';

export type PiiType = 'email' | 'phone' | 'ipv4' | 'ipv6' | 'card' | 'api-key' | 'private-key';
export const PII_TYPES: readonly PiiType[] = ['email', 'phone', 'ipv4', 'ipv6', 'card', 'api-key', 'private-key'];

interface Detector {
  type: PiiType;
  re: RegExp;
  reason: string | ((m: RegExpExecArray) => string | null);
}

const API_KEYS: [RegExp, string][] = [
  [/(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Za-z])/y, 'pii: api key (aws)'],
  [/(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})/y, 'pii: api key (github)'],
  [/sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}/y, 'pii: api key (openai-style sk-)'],
  [/xox[abposr]-[A-Za-z0-9-]{10,}/y, 'pii: api key (slack)'],
  [/AIza[0-9A-Za-z_-]{35}/y, 'pii: api key (google)'],
];

const DETECTORS: Detector[] = [
  { type: 'email', re: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, reason: 'pii: email' },
  {
    type: 'phone',
    re: /(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]\d{2,4}){1,3}|\(\d{3}\) ?\d{3}[-.]\d{4}|\d{3}([-.])\d{3}\1\d{4})(?![\w])/g,
    reason: 'pii: phone',
  },
  {
    type: 'ipv4',
    re: /(?<![\d.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\d.])/g,
    reason: (m) => (isIPv4(m[0]) ? 'pii: ipv4' : null),
  },
  {
    type: 'ipv6',
    re: /(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])/g,
    reason: (m) => (m[0].length >= 3 && isIPv6(m[0]) && /[0-9A-Fa-f]/.test(m[0]) ? 'pii: ipv6' : null),
  },
  {
    type: 'card',
    re: /(?<![\d-])(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,7}|\d{4}([ -])\d{6}\2\d{4,5})(?![\d-])/g,
    reason: (m) => (luhnValid(m[0].replace(/[ -]/g, '')) ? 'pii: card number' : null),
  },
  { type: 'private-key', re: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/g, reason: 'pii: private key' },
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
    d.re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = d.re.exec(text)) !== null) {
      const reason = typeof d.reason === 'string' ? d.reason : d.reason(m);
      if (reason) {
        found.add(reason);
        break;
      }
    }
  }
  if (types.includes('api-key')) findApiKeys(text, found);
  return [...found];
}

/** API keys start at a word boundary; sticky regexes are tried only where a known prefix letter sits. */
function findApiKeys(text: string, found: Set<string>): void {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // A, g, s, x start every supported key shape.
    if (c !== 65 && c !== 103 && c !== 115 && c !== 120) continue;
    if (i > 0 && /[A-Za-z0-9_]/.test(text[i - 1]!)) continue;
    for (const [re, reason] of API_KEYS) {
      re.lastIndex = i;
      if (re.test(text)) found.add(reason);
    }
  }
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
