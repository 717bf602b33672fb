/** Character-set rule: non-ASCII characters, and control characters other than \n \t \r (incl. DEL and C1). */
import { KEEP, type Rule } from './rule.js';

export interface CharsetOptions {
  allowNonAscii?: boolean;
  allowControl?: boolean;
}

export function charsetRule(opts: CharsetOptions = {}, name = 'charset'): Rule {
  const check = (text: string): readonly string[] => {
    let nonAscii = false;
    let control = false;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c < 32) {
        if (c !== 9 && c !== 10 && c !== 13) control = true;
      } else if (c >= 127) {
        if (c === 127 || (c >= 0x80 && c <= 0x9f)) control = true;
        if (c >= 128) nonAscii = true;
      }
    }
    const out: string[] = [];
    if (nonAscii && !opts.allowNonAscii) out.push('non-ASCII characters');
    if (control && !opts.allowControl) out.push('control characters');
    return out.length > 0 ? out : KEEP;
  };
  return { name, kind: 'charset', check };
}
