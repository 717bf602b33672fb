/** Length bounds in characters (UTF-16 code units) and/or whitespace-separated tokens. */
import { KEEP, type Rule } from './rule.js';

export interface LengthOptions {
  minChars?: number;
  maxChars?: number;
  minTokens?: number;
  maxTokens?: number;
}

export function countTokens(text: string): number {
  let n = 0;
  let inToken = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a);
    if (space) inToken = false;
    else if (!inToken) {
      inToken = true;
      n++;
    }
  }
  return n;
}

export function lengthRule(opts: LengthOptions, name = 'length'): Rule {
  const wantTokens = opts.minTokens !== undefined || opts.maxTokens !== undefined;
  const check = (text: string): readonly string[] => {
    let out: string[] | null = null;
    if (opts.minChars !== undefined && text.length < opts.minChars) (out ??= []).push('too short');
    if (opts.maxChars !== undefined && text.length > opts.maxChars) (out ??= []).push('too long');
    if (wantTokens) {
      const t = countTokens(text);
      if (opts.minTokens !== undefined && t < opts.minTokens) (out ??= []).push('too few tokens');
      if (opts.maxTokens !== undefined && t > opts.maxTokens) (out ??= []).push('too many tokens');
    }
    return out ?? KEEP;
  };
  return { name, kind: 'length', check };
}
