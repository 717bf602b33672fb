/** Word-list rule: case-insensitive by default; whole words (Unicode-aware boundaries) or substrings. */
import { KEEP, type Rule } from './rule.js';

export interface KeywordsOptions {
  words: string[];
  match?: 'word' | 'substring';
  caseSensitive?: boolean;
}

export function keywordsRule(opts: KeywordsOptions, name = 'keywords'): Rule {
  const words = opts.words.filter((w) => w.length > 0);
  if (words.length === 0) return { name, kind: 'keywords', check: () => KEEP };
  // Longest first so "kill" does not shadow "killing" in substring mode's reported word.
  const alternation = words
    .slice()
    .sort((a, b) => b.length - a.length)
    .map(escapeRegex)
    .join('|');
  const body = opts.match === 'substring' ? `(?:${alternation})` : `(?<![\\p{L}\\p{N}_])(?:${alternation})(?![\\p{L}\\p{N}_])`;
  const re = new RegExp(body, `gu${opts.caseSensitive ? '' : 'i'}`);
  const check = (text: string): readonly string[] => {
    re.lastIndex = 0;
    let m = re.exec(text);
    if (!m) return KEEP;
    const found = new Set<string>();
    while (m) {
      found.add(opts.caseSensitive ? m[0] : m[0].toLowerCase());
      m = re.exec(text);
    }
    return [...found].map((w) => `keyword: ${w}`);
  };
  return { name, kind: 'keywords', check };
}

export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
