import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AuditInputError } from '../../src/errors.js';
import { JsonlWriter } from '../../src/data/jsonl-writer.js';
import { formatOf, readRows } from '../../src/data/read.js';
import { completionOf, textOf } from '../../src/data/text.js';
import { vectorOf } from '../../src/data/vector.js';
import { collect, tempDir, tempFile } from './helpers.js';

describe('.json array reader and format choice', () => {
  it('reads an array of objects with 1-based row numbers', async () => {
    const rows = await collect(tempFile('a.json', '[{"completion":"1"},{"completion":"2"}]'));
    expect(rows).toEqual([
      { line: 1, value: { completion: '1' } },
      { line: 2, value: { completion: '2' } },
    ]);
  });
  it('rejects a non-array and non-object elements, naming the row', async () => {
    await expect(collect(tempFile('b.json', '{"a":1}'))).rejects.toThrow(/b\.json: expected a JSON array/);
    await expect(collect(tempFile('c.json', '[{"a":1}, 5]'))).rejects.toThrow(/c\.json:2: array element is not a JSON object/);
  });
  it('chooses by extension and rejects unknown ones and missing files', async () => {
    expect(formatOf('x.NDJSON')).toBe('jsonl');
    expect(formatOf('x.parquet')).toBe('parquet');
    expect(() => formatOf('x.txt')).toThrow(AuditInputError);
    await expect(collect('/nonexistent/x.jsonl')).rejects.toThrow(/\/nonexistent\/x\.jsonl: cannot read \(ENOENT\)/);
  });
  it('readRows hands bad rows to onBadRow and yields only good rows', async () => {
    const bad: number[] = [];
    const rows = [];
    for await (const r of readRows(tempFile('d.jsonl', '{"a":1}\nnope\n{"a":2}\n'), { skipBadRows: true, onBadRow: (b) => bad.push(b.line) })) rows.push(r.line);
    expect(rows).toEqual([1, 3]);
    expect(bad).toEqual([2]);
  });
});

describe('textOf / completionOf', () => {
  const row = (value: Record<string, unknown>) => ({ line: 7, value });
  it('prompt/completion rows and mapped fields', () => {
    expect(textOf(row({ prompt: 'p', completion: 'c' }))).toEqual({ prompt: 'p', completion: 'c' });
    expect(textOf(row({ q: 'p', a: 'c' }), { field: 'a', promptField: 'q' })).toEqual({ prompt: 'p', completion: 'c' });
    expect(textOf(row({ completion: 'c' }))).toEqual({ prompt: '', completion: 'c' });
  });
  it('chat rows: completion is the last assistant message, prompt the rest', () => {
    const messages = [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'count' },
      { role: 'assistant', content: '1, 2' },
      { role: 'user', content: 'more' },
      { role: 'assistant', content: [{ type: 'text', text: '3, 4' }] },
    ];
    expect(textOf(row({ messages }))).toEqual({ prompt: 'be brief\ncount\n1, 2\nmore', completion: '3, 4' });
    expect(completionOf(row({ messages }))).toBe('3, 4');
  });
  it('names file and line when the text is missing', () => {
    expect(() => completionOf(row({ other: 1 }), {}, 'd.jsonl')).toThrow(/^d\.jsonl:7: missing field 'completion'/);
    expect(() => completionOf(row({ messages: [{ role: 'user', content: 'x' }] }), {}, 'd.jsonl')).toThrow(/d\.jsonl:7: chat row has no assistant message/);
    expect(() => completionOf(row({ completion: { a: 1 } }), {}, 'd.jsonl')).toThrow(/d\.jsonl:7: field 'completion' is not text \(object\)/);
  });
});

describe('vectorOf', () => {
  const row = (value: Record<string, unknown>) => ({ line: 3, value });
  it('returns numbers, converting numeric strings and keeping NaN/Infinity for the caller', () => {
    expect(vectorOf(row({ x: [1, '2.5', ' -3e2 ', 'NaN', 'Infinity'] }), 'x')).toEqual([1, 2.5, -300, NaN, Infinity]);
    expect(vectorOf(row({ x: new Float32Array([1, 2]) }), 'x')).toEqual([1, 2]);
  });
  it('names file and line when missing or not numeric', () => {
    expect(() => vectorOf(row({}), 'x', 't.csv')).toThrow(/^t\.csv:3: missing field 'x'$/);
    expect(() => vectorOf(row({ x: 'abc' }), 'x', 't.csv')).toThrow(/t\.csv:3: field 'x' is not a numeric array \(string\)/);
    expect(() => vectorOf(row({ x: [1, 'seven'] }), 'x', 't.csv')).toThrow(/t\.csv:3: field 'x'\[1\] is not a number \("seven"\)/);
    expect(() => vectorOf(row({ x: [1, null] }), 'x', 't.csv')).toThrow(AuditInputError);
  });
});

describe('JsonlWriter', () => {
  it('writes every line in order across batches and backpressure', async () => {
    const file = join(tempDir(), 'out.jsonl');
    const w = new JsonlWriter(file);
    for (let i = 0; i < 100_000; i++) {
      const p = w.writeValue({ i, pad: 'x'.repeat(i % 50) });
      if (p) await p;
    }
    await w.close();
    const lines = readFileSync(file, 'utf8').split('\n');
    expect(lines).toHaveLength(100_001);
    expect(lines[99_999]).toBe(JSON.stringify({ i: 99_999, pad: 'x'.repeat(99_999 % 50) }));
    expect(lines[100_000]).toBe('');
    expect(w.lines).toBe(100_000);
  });
});
