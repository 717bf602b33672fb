/** Regular-expression rule: each pattern that matches adds its reason. */
import { KEEP, type Rule } from './rule.js';

export interface RegexPattern {
  pattern: string;
  flags?: string;
  reason?: string;
}

export function regexRule(patterns: RegexPattern[], name = 'regex'): Rule {
  const compiled = patterns.map((p) => {
    const flags = (p.flags ?? '').replace(/[gy]/g, '');
    return { re: new RegExp(p.pattern, flags), reason: p.reason ?? `matches /${p.pattern}/${flags}` };
  });
  const check = (text: string): readonly string[] => {
    let out: string[] | null = null;
    for (const { re, reason } of compiled) {
      if (re.test(text)) (out ??= []).push(reason);
    }
    return out ?? KEEP;
  };
  return { name, kind: 'regex', check };
}
