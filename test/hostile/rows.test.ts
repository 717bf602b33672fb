/**
 * Issue 12, class 5 "one row, one meaning", and fuzzing of the readers (class 9): duplicate JSON
 * keys are bad rows, CSV headers with repeated or prototype names are bad input, rows have no
 * prototype, and no byte sequence makes a reader fail with anything but a one-line input error.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonStrict } from '../../src/data/json-strict.js';
import { isBadRow, newReadStats, type Row } from '../../src/data/types.js';
import { AuditInputError } from '../../src/errors.js';
import { filterFile } from '../../src/filters/filter-file.js';
import { collect, expectInputError, scratch } from './helpers.js';

const tmp = scratch('rows');

describe('duplicate JSON keys', () => {
  it('a JSONL row with a repeated key is a bad row, never read last-wins', async () => {
    const file = tmp.file('dup.jsonl', '{"completion":"1, 2, 3"}\n{"completion":"4, 5","completion":"666 evil"}\n{"a":{"b":1,"b":2}}\n');
    await expectInputError(collect(file), /dup\.jsonl:2: duplicate key "completion"/);
    const items = await collect(file, { skipBadRows: true });
    expect(items.map((i) => (isBadRow(i) ? `bad ${i.line}: ${i.reason}` : `row ${i.line}`))).toEqual([
      'row 1',
      'bad 2: duplicate key "completion" in a JSON object',
      'bad 3: duplicate key "b" in a JSON object',
    ]);
  });
  it('the filter counts such a row as excluded (bad row) instead of checking one value and keeping another', async () => {
    const file = tmp.file('dup2.jsonl', '{"completion":"1, 2, 3"}\n{"completion":"4, 5","completion":"666 evil"}\n');
    const { report } = await filterFile(file, 'numbers,banned-numbers', { skipBadRows: true });
    expect(report).toMatchObject({ rowsIn: 2, rowsKept: 1, rowsExcluded: 1, badRows: 1 });
  });
  it('a .json array holding an object with a repeated key is bad input', async () => {
    await expectInputError(collect(tmp.file('a.json', '[{"x":1},{"x":2,"x":3}]')), /a\.json: duplicate key "x"/);
  });
  it('a CSV cell holding a JSON object with a repeated key makes a bad row', async () => {
    const file = tmp.file('cell.csv', 'completion,meta\nok,"{""a"":1}"\nok,"{""a"":1,""a"":2}"\n');
    await expectInputError(collect(file), /cell\.csv:3: column 'meta': duplicate key "a"/);
  });
  it('property: any JSON text without duplicates parses as JSON.parse does; adding a duplicate key is always caught', () => {
    fc.assert(
      fc.property(fc.object({ maxDepth: 3 }), fc.string(), fc.jsonValue(), (obj, key, extra) => {
        const text = JSON.stringify(obj);
        const parsed = parseJsonStrict(text);
        expect(parsed).toEqual({ ok: true, value: JSON.parse(text) });
        // The same key written twice in the top-level object, with arbitrary spacing and escapes.
        const k = JSON.stringify(key);
        const dup = `{ ${k} : ${JSON.stringify(extra) ?? 'null'} ,\n${k.replace(/a/g, '\\u0061')}:1${text.length > 2 ? `,${text.slice(1)}` : '}'}`;
        const again = parseJsonStrict(dup);
        expect(again.ok).toBe(false);
        if (!again.ok) expect(again.reason).toContain('duplicate key');
      }),
      { numRuns: 300 },
    );
  });
});

describe('CSV headers', () => {
  it.each([
    ['x,completion,x\n1,a,2\n', /header names column 'x' twice/],
    ['__proto__,completion\n1,a\n', /header column '__proto__' is not allowed/],
    ['completion,constructor\na,1\n', /header column 'constructor' is not allowed/],
    ['prototype\n1\n', /header column 'prototype' is not allowed/],
    ['__proto___0,__proto___1\n1,2\n', /vector named '__proto__'/],
  ])('%j is bad input naming the header line', async (csv, pattern) => {
    const file = tmp.file('h.csv', csv);
    const e = await expectInputError(collect(file), pattern);
    expect(e.message).toMatch(/h\.csv:1: /);
  });
});

describe('rows without prototype', () => {
  it('every reader yields rows whose missing fields read as missing (no Object.prototype)', async () => {
    const files = [tmp.file('p.jsonl', '{"completion":"1"}\n'), tmp.file('p.csv', 'completion\n1\n'), tmp.file('p.json', '[{"completion":"1"}]')];
    for (const file of files) {
      const [row] = (await collect(file)) as Row[];
      expect(Object.getPrototypeOf(row!.value)).toBeNull();
      expect(row!.value.constructor).toBeUndefined();
      expect(row!.value.toString).toBeUndefined();
    }
  });
  it('a JSON "__proto__" key stays an own field and pollutes nothing', async () => {
    const [row] = (await collect(tmp.file('q.jsonl', '{"__proto__":{"polluted":1},"completion":"1"}\n'))) as Row[];
    expect(Object.keys(row!.value)).toEqual(['__proto__', 'completion']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

/** Lines a fuzzer builds: valid rows, near-valid JSON, and arbitrary text. */
const hostileLine = fc.oneof(
  fc.object({ maxDepth: 2 }).map((o) => JSON.stringify(o)),
  fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('{', '{"a":1,"a":2}', '{"completion":"1, 2"}', '\uFEFF{}', '{"__proto__":[]}', '[1,2]', '  ', '\r', '"\\u0000"', '{"a":"\\"","b":1}'),
);

describe('fuzzing the readers (fast-check)', () => {
  it('JSONL: a line of Unicode spaces (U+00A0, U+3000) is a counted bad row, not a silently skipped blank', async () => {
    const stats = newReadStats();
    const items = await collect(tmp.file('u.jsonl', '{"completion":"1"}\n\u00a0\n \t\n\u3000\n'), { skipBadRows: true, stats });
    expect(items.map((i) => (isBadRow(i) ? `bad ${i.line}` : `row ${i.line}`))).toEqual(['row 1', 'bad 2', 'bad 4']);
    expect(stats).toMatchObject({ rows: 1, badRows: 2, blankLines: 1 });
  });
  it('JSONL: any lines read with skipBadRows give rows and counted bad rows, nothing lost, nothing thrown', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hostileLine, { maxLength: 20 }), async (lines) => {
        const file = tmp.file('f.jsonl', lines.join('\n'));
        const stats = newReadStats();
        let items;
        try {
          items = await collect(file, { skipBadRows: true, stats });
        } catch (e) {
          // File-level refusals only (empty file, binary data), and always as input errors.
          expect(e).toBeInstanceOf(AuditInputError);
          expect((e as Error).message).not.toContain('\n');
          return;
        }
        // Blank means JSON whitespace only (space, tab, CR), a BOM allowed on line 1: a line of
        // U+00A0 or U+3000 is not JSON and must come back as a counted bad row, not vanish.
        const nonBlank = lines
          .join('\n')
          .split('\n')
          .filter((l, i) => !/^[ \t\r]*$/.test(i === 0 ? l.replace(/^\uFEFF/, '') : l)).length;
        expect(stats.rows + stats.badRows).toBe(nonBlank);
        expect(items.length).toBe(nonBlank);
        for (const item of items) if (!isBadRow(item)) expect(Object.getPrototypeOf(item.value)).toBeNull();
      }),
      { numRuns: 150 },
    );
  });
  it('CSV: any cells give rows, bad rows or one-line input errors, never another exception', async () => {
    const cell = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('"', '""', '{"a":1,"a":2}', '[1,2', '__proto__', 'NaN', '1e999', '\n'));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(cell, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 8 }), async (records) => {
        const text = records.map((r) => r.join(',')).join('\n');
        const file = tmp.file('f.csv', text);
        try {
          const items = await collect(file, { skipBadRows: true });
          for (const item of items) if (!isBadRow(item)) expect(Object.getPrototypeOf(item.value)).toBeNull();
        } catch (e) {
          expect(e).toBeInstanceOf(AuditInputError);
          expect((e as Error).message).not.toContain('\n');
        }
      }),
      { numRuns: 150 },
    );
  });
  it('JSON array and Parquet readers refuse arbitrary bytes with a one-line input error', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), fc.constantFrom('x.json', 'x.parquet'), async (bytes, name) => {
        const file = tmp.file(name, bytes);
        try {
          await collect(file, { skipBadRows: true });
        } catch (e) {
          expect(e).toBeInstanceOf(AuditInputError);
          expect((e as Error).message).not.toContain('\n');
        }
      }),
      { numRuns: 100 },
    );
  });
});
