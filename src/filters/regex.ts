/**
 * Regular-expression rule: each pattern that matches adds its reason. Patterns run with RE2
 * semantics (linear time); ones RE2 cannot run are refused when the pack is loaded.
 */
import { compileRe2 } from './re2.js';
import { KEEP, type Rule } from './rule.js';

export interface RegexPattern {
  pattern: string;
  flags?: string;
  reason?: string;
}

export function regexRule(patterns: RegexPattern[], name = 'regex'): Rule {
  const compiled = patterns.map((p) => {
    const flags = (p.flags ?? '').replace(/[gy]/g, '');
    return { re: compileRe2(p.pattern, flags), reason: p.reason ?? `matches /${p.pattern}/${flags}` };
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
