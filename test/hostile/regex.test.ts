/**
 * Issue 12, class 6 "no regular expression can stall the gate": built-in rules (PII included) and
 * user packs' regex rules run with RE2 semantics (linear time), RE2-unsupported syntax is refused at
 * load naming the pack and rule, and rows longer than a configurable cap are counted exclusions.
 * Speed itself is measured in the bench (scripts/bench-filters.ts); these tests assert that hostile
 * 1 MB inputs finish at all, with a bound (10 s) no linear-time engine comes near on a loaded machine
 * and no backtracking engine meets on these inputs (it would need about 10^12 steps).
 */
import { describe, expect, it } from 'vitest';
import { runFilters } from '../../src/filters/engine.js';
import { filterFile } from '../../src/filters/filter-file.js';
import { builtinPackNames, loadRules, parsePack } from '../../src/filters/packs.js';
import { findPii } from '../../src/filters/pii.js';
import { regexRule } from '../../src/filters/regex.js';
import type { Row } from '../../src/data/types.js';
import { AuditInputError } from '../../src/errors.js';
import { scratch } from './helpers.js';

const tmp = scratch('regex');
const MB = 1_000_000;
const fill = (unit: string) => unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);
const row = (text: string, line = 1): Row => ({ line, value: { completion: text } });

/** Inputs that make backtracking PII patterns quadratic or worse (each 1 MB). */
const HOSTILE: [string, string][] = [
  ['email local part without @', 'a'.repeat(MB)],
  ['many @ without a domain', 'a@'.repeat(MB / 2)],
  ['dotted domain with no TLD end', `a@${'a.'.repeat(MB / 2 - 2)}1`],
  ['digits (card, phone, ipv4)', '1'.repeat(MB)],
  ['dotted digits', '1.'.repeat(MB / 2)],
  ['colons (ipv6)', 'a:'.repeat(MB / 2)],
  ['api-key prefixes', 'sk--'.repeat(MB / 4)],
  ['invalid IPv4 candidates', fill('999.999.999.999 ')],
  ['Luhn-invalid card candidates', fill('4111 1111 1111 1112 ')],
  ['IPv6-like colon runs', fill('::: ')],
];

describe('built-in packs on hostile 1 MB rows', () => {
  it.each(HOSTILE)('%s: every built-in pack finishes (bounded, linear engines)', async (_name, text) => {
    expect(text.length).toBeGreaterThanOrEqual(MB - 4);
    const rules = await loadRules(builtinPackNames());
    const started = performance.now();
    const report = await runFilters([row(text)], rules);
    const seconds = (performance.now() - started) / 1000;
    expect(report.rowsIn).toBe(1);
    expect(report.rowsTooLong).toBe(0);
    expect(seconds).toBeLessThan(10);
  });
  it('PII detection is unchanged where it matters: values found in hostile surroundings', () => {
    const noise = 'a@'.repeat(1000);
    expect(findPii(`${noise} mail me: jo@example.org ${noise}`)).toEqual(['pii: email']);
    expect(findPii(`${'1.'.repeat(1000)} 10.0.0.1 and 4111 1111 1111 1111`).sort()).toEqual(['pii: card number', 'pii: ipv4']);
    expect(findPii(`${'1'.repeat(5000)} call 555-123-4567`)).toEqual(['pii: phone']);
    // The repeated separator is still required to repeat (was a backreference).
    expect(findPii('call 555-123.4567')).toEqual([]);
    expect(findPii('sk-proj-abcdefghijklmnopqrstuvwx AKIAABCDEFGHIJKLMNOP')).toEqual(['pii: api key (aws)', 'pii: api key (openai-style sk-)']);
    expect(findPii('xAKIAABCDEFGHIJKLMNOP AKIAABCDEFGHIJKLMNOPQ')).toEqual([]);
    // A Luhn-invalid group in front of a real number no longer hides it.
    expect(findPii('1234 4111 1111 1111 1111')).toEqual(['pii: card number']);
    expect(findPii('ip 1.2.3.4.5 or 300.1.1.1')).toEqual([]);
    expect(findPii('fe80::1 and x::')).toEqual(['pii: ipv6']);
  });
});

describe('user regex rules', () => {
  it('a catastrophic-backtracking pattern runs in linear time on a 1 MB row', async () => {
    const rule = regexRule([{ pattern: '(a+)+$' }, { pattern: '(x|x)*y' }, { pattern: '^(a|aa)+b' }]);
    const started = performance.now();
    const text = `${'a'.repeat(MB)}!`;
    expect(rule.check(text, row(text))).toEqual([]);
    expect(rule.check('aaa', row('aaa'))).toEqual(['matches /(a+)+$/']);
    expect((performance.now() - started) / 1000).toBeLessThan(10);
  });
  it.each([
    ['backreference', '(a)\\1'],
    ['lookahead', 'a(?=b)'],
    ['negative lookahead', 'a(?!b)'],
    ['huge repeat', 'a{5000}'],
  ])('%s is refused at load, naming the pack, line and rule', (_kind, pattern) => {
    const text = `rules:\n  - kind: regex\n    name: secrets\n    patterns: [${JSON.stringify(pattern)}]\n`;
    let error: unknown;
    try {
      parsePack(text, 'my-pack.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AuditInputError);
    expect((error as Error).message).toMatch(/^my-pack\.yaml:4: rules\[0\]: rule 'secrets': pattern .* cannot run in linear time \(RE2\)/);
  });
  it('flags i, m, s work; unknown flags are refused', () => {
    const [rule] = parsePack('rules:\n  - kind: regex\n    patterns: [{pattern: "^secret.end$", flags: "ims"}]\n', 'p.yaml');
    expect(rule!.check('x\nSECRET\nEND', row(''))).toHaveLength(1);
    expect(() => parsePack('rules:\n  - kind: regex\n    patterns: [{pattern: "a", flags: "d"}]\n', 'p.yaml')).toThrow(/flag 'd' is not supported/);
  });
});

describe('row-length cap', () => {
  it('a row longer than maxRowChars is excluded and counted as too long; no rule sees it', async () => {
    const file = tmp.file('long.jsonl', `${JSON.stringify({ completion: '1, 2, 3' })}\n${JSON.stringify({ completion: '7'.repeat(5000) })}\n`);
    const excluded: string[][] = [];
    const { report } = await filterFile(file, 'numbers', { maxRowChars: 4096, onExcluded: (ex) => void excluded.push(ex.reasons) });
    expect(report).toMatchObject({ rowsIn: 2, rowsKept: 1, rowsExcluded: 1, rowsTooLong: 1, maxRowChars: 4096 });
    expect(report.perRule.numbers!.excluded).toBe(0);
    expect(excluded).toEqual([['too long: 5000 characters (maxRowChars 4096)']]);
  });
  it('the default cap (1 MiB characters) lets a 1 MB row through and stops a 2 MB one', async () => {
    const report = await runFilters([row('1'.repeat(MB)), row('1'.repeat(2 * MB), 2)], await loadRules('numbers'));
    expect(report).toMatchObject({ rowsIn: 2, rowsTooLong: 1, maxRowChars: 1 << 20 });
  });
});
