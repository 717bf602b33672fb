/**
 * Regular expressions with RE2 semantics (re2js): matching time is linear in the text whatever the
 * pattern, so no row can stall the gate (a backtracking engine takes exponential time on `(a+)+$`).
 * Backreferences and lookaheads have no linear-time algorithm and are refused at compile time;
 * captureless lookbehinds are allowed (re2js runs them in linear time).
 */
import { RE2JS } from 're2js';

export type Re2 = RE2JS;

/** JavaScript flag letters -> RE2 flags; `g` and `y` mean nothing for a test and are dropped. */
const FLAGS: Record<string, number> = {
  i: RE2JS.CASE_INSENSITIVE,
  m: RE2JS.MULTILINE,
  s: RE2JS.DOTALL,
  u: 0,
  g: 0,
  y: 0,
};

/** Compiles `pattern`, or throws an Error whose message says what RE2 cannot do. */
export function compileRe2(pattern: string, flags = ''): Re2 {
  let bits = RE2JS.LOOKBEHINDS;
  for (const f of flags) {
    const bit = FLAGS[f];
    if (bit === undefined) throw new Error(`flag '${f}' is not supported (use i, m, s, u)`);
    bits |= bit;
  }
  try {
    return RE2JS.compile(pattern, bits);
  } catch (e) {
    const message = (e as Error).message.replace(/^error parsing regexp: /, '');
    const hint = /\\[1-9]|\(\?[=!]|\(\?<[=!]/.test(pattern) ? ' (RE2 syntax: no backreferences or lookaheads)' : '';
    throw new Error(`${message}${hint}`);
  }
}

/**
 * Each match's capture group `group` (the match itself for 0), in order. The search goes on from the
 * end of that group, so a pattern may consume one boundary character after it (instead of a
 * lookahead) without hiding the next match.
 */
export function* matchesOf(re: Re2, text: string, group = 0): Generator<string> {
  const m = re.matcher(text);
  let from = 0;
  while (from <= text.length && m.find(from)) {
    const start = m.start(group);
    const end = m.end(group);
    yield text.slice(start, end);
    from = end > start ? end : end + 1;
  }
}
