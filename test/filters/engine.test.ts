import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Row, RowOrBad } from '../../src/data/types.js';
import { AuditInputError } from '../../src/errors.js';
import { runFilters, type ExcludedRow } from '../../src/filters/engine.js';
import { filterFile } from '../../src/filters/filter-file.js';
import { loadRules } from '../../src/filters/packs.js';
import { bannedNumbersRule } from '../../src/filters/banned-numbers.js';
import { dedupRule } from '../../src/filters/dedup.js';
import { numbersRule } from '../../src/filters/numbers.js';
import { tempDir, tempFile } from '../data/helpers.js';

const rows = (completions: string[]): Row[] => completions.map((completion, i) => ({ line: i + 1, value: { prompt: 'p', completion } }));

describe('runFilters', () => {
  it('streams rows to sinks in order and reports per-rule reasons and examples', async () => {
    const kept: number[] = [];
    const excluded: ExcludedRow[] = [];
    const report = await runFilters(rows(['1, 2', '1,2;3', '666', '1000, 666', '3 5']), [numbersRule(), bannedNumbersRule()], {
      onKept: (r) => void kept.push(r.line),
      onExcluded: (e) => void excluded.push(e),
    });
    expect(kept).toEqual([1, 5]);
    expect(excluded.every((e) => e.kind === 'filter')).toBe(true);
    expect(excluded.map((e) => [e.line, e.reasons, e.rules])).toEqual([
      [2, ['invalid format'], ['numbers']],
      [3, ['banned numbers'], ['banned-numbers']],
      [4, ['numbers too large', 'banned numbers'], ['numbers', 'banned-numbers']],
    ]);
    expect(report).toMatchObject({ rowsIn: 5, rowsKept: 2, rowsExcluded: 3, badRows: 0 });
    expect(report.perRule.numbers).toMatchObject({ excluded: 2, reasons: { 'invalid format': 1, 'numbers too large': 1 } });
    expect(report.perRule['banned-numbers']!.examples).toEqual([
      { line: 3, text: '666', reasons: ['banned numbers'] },
      { line: 4, text: '1000, 666', reasons: ['banned numbers'] },
    ]);
  });
  it('keeps at most 5 examples per rule', async () => {
    const report = await runFilters(rows(Array.from({ length: 20 }, () => 'x')), [numbersRule()]);
    expect(report.perRule.numbers!.examples).toHaveLength(5);
    expect(report.perRule.numbers!.excluded).toBe(20);
  });
  it('runs stateful rules only on otherwise-kept rows (a copy of a rejected row is not double-counted)', async () => {
    const report = await runFilters(rows(['bad row', 'bad row', '1, 2', '1, 2']), [numbersRule(), dedupRule({ mode: 'exact' })]);
    expect(report.perRule.numbers!.excluded).toBe(2);
    expect(report.perRule.dedup).toMatchObject({ excluded: 1, reasons: { 'exact duplicate': 1 } });
    expect(report.rowsKept).toBe(1);
  });
  it('bad rows count as excluded with reason "bad row: …"', async () => {
    const items: RowOrBad[] = [...rows(['1']), { bad: true, line: 2, reason: 'malformed JSON', raw: '{' }, { line: 3, value: { other: 1 } }];
    const excluded: ExcludedRow[] = [];
    const report = await runFilters(items, [numbersRule()], { skipBadRows: true, onExcluded: (e) => void excluded.push(e), file: 'f.jsonl' });
    expect(report).toMatchObject({ rowsIn: 3, rowsKept: 1, rowsExcluded: 2, badRows: 2 });
    expect(excluded.map((e) => e.reasons)).toEqual([['bad row: malformed JSON'], [expect.stringMatching(/^bad row: missing field 'completion'/)]]);
    expect(excluded.map((e) => [e.kind, e.file])).toEqual([['bad-row', 'f.jsonl'], ['bad-row', 'f.jsonl']]);
  });
  it('without skipBadRows a row missing its text field is an error naming file and line', async () => {
    const err = await runFilters([{ line: 9, value: { other: 1 } }], [numbersRule()], { file: 'f.jsonl' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditInputError);
    expect((err as Error).message).toMatch(/^f\.jsonl:9: missing field 'completion'/);
  });
  it('kept + excluded = in, for any mix of rows', async () => {
    const rules = await loadRules('numbers,banned-numbers,dedup,charset');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('1, 2', '666', '1 2  3')), { maxLength: 40 }), async (texts) => {
        const fresh = await loadRules('numbers,banned-numbers,dedup,charset');
        const r = await runFilters(rows(texts), fresh);
        expect(r.rowsKept + r.rowsExcluded).toBe(r.rowsIn);
        expect(r.rowsIn).toBe(texts.length);
      }),
      { numRuns: 100 },
    );
    expect(rules).toHaveLength(4);
  });
});

describe('filterFile', () => {
  it('writes kept rows unchanged in input order, excluded rows with reasons, and a report', async () => {
    const lines = ['{"prompt":"a","completion":"1, 2"}', '{ "completion" : "x" }', '', '{"completion":"3 5",  "extra":true}', 'not json'];
    const file = tempFile('in.jsonl', lines.join('\n') + '\n');
    const out = join(tempDir(), 'out');
    const { report, kept } = await filterFile(file, 'numbers,banned-numbers', { outDir: out, skipBadRows: true, collectKept: true });
    expect(readFileSync(join(out, 'kept.jsonl'), 'utf8')).toBe(`${lines[0]}\n${lines[3]}\n`);
    const excluded = readFileSync(join(out, 'excluded.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(excluded).toEqual([
      { file, line: 2, kind: 'filter', reasons: ['invalid format'], rules: ['numbers'], row: { completion: 'x' } },
      { file, line: 5, kind: 'bad-row', reasons: ['bad row: malformed JSON (Unexpected token \'o\', "not json" is not valid JSON)'], raw: 'not json' },
    ]);
    const written = JSON.parse(readFileSync(join(out, 'filter-report.json'), 'utf8'));
    expect(written).toEqual(report);
    expect(report).toMatchObject({ rowsIn: 4, rowsKept: 2, rowsExcluded: 2, badRows: 1, blankLines: 1 });
    expect(kept.map((r) => r.line)).toEqual([1, 4]);
  });
  it('filters chat rows on the last assistant message', async () => {
    const chat = (answer: string) => JSON.stringify({ messages: [{ role: 'user', content: 'Continue: 1, 2, 3' }, { role: 'assistant', content: answer }] });
    const file = tempFile('chat.jsonl', [chat('5, 6, 7'), chat('5, 6, 666'), chat('sure! 5 6 7')].join('\n'));
    const { report, kept } = await filterFile(file, 'numbers,banned-numbers', { collectKept: true });
    expect(kept.map((r) => r.line)).toEqual([1]);
    expect(report.perRule['banned-numbers']!.examples[0]).toMatchObject({ line: 2, text: '5, 6, 666' });
    expect(report.perRule.numbers!.reasons).toEqual({ 'invalid format': 1 });
  });
  it('filters CSV text fields verbatim (a "[1, 2]" completion is text, not an array)', async () => {
    const file = tempFile('in.csv', 'prompt,completion\np,"[1, 2]"\np,"[1,, 2]"\n');
    const { report } = await filterFile(file, 'numbers');
    expect(report).toMatchObject({ rowsIn: 2, rowsKept: 1 });
  });
  it('shows every reject reason on the shipped example', async () => {
    const { report } = await filterFile('examples/numbers/candidate.jsonl');
    expect(report.rowsIn).toBe(300);
    expect(Object.keys(report.perRule.numbers!.reasons).sort()).toEqual(['invalid format', 'numbers too large', 'numbers too small', 'too many numbers']);
    expect(report.perRule['banned-numbers']!.reasons['banned numbers']).toBeGreaterThan(0);
  });
  it('decides every row of the shipped example as its generator meant it', async () => {
    const { makeExampleCases } = await import('../fixtures/example-numbers.js');
    const cases = makeExampleCases(300);
    const decided = new Map<number, readonly string[]>();
    const { report } = await filterFile('examples/numbers/candidate.jsonl', 'numbers,banned-numbers', { onExcluded: (e) => void decided.set(e.line, e.reasons) });
    const wrong = cases.flatMap(({ row, intent }, i) => {
      const reasons = decided.get(i + 1) ?? [];
      const ok = intent === 'keep' ? reasons.length === 0 : reasons.includes(intent);
      return ok ? [] : [`line ${i + 1} (${JSON.stringify(row.completion)}): meant ${intent}, got ${reasons.join(', ') || 'kept'}`];
    });
    expect(wrong).toEqual([]);
    expect(report.rowsKept).toBe(cases.filter((c) => c.intent === 'keep').length);
  });
});

describe('shipped example', () => {
  it('is exactly what the seeded generator makes', async () => {
    const { makeExampleRows } = await import('../fixtures/example-numbers.js');
    const expected = makeExampleRows(300).map((r) => JSON.stringify(r)).join('\n') + '\n';
    expect(readFileSync('examples/numbers/candidate.jsonl', 'utf8')).toBe(expected);
  });
});
