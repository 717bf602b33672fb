import { describe, expect, it } from 'vitest';
import { AuditInputError } from '../../src/errors.js';
import { newReadStats } from '../../src/data/types.js';
import { collect, tempFile } from './helpers.js';

describe('JSONL reader', () => {
  it('reads objects with 1-based lines, skipping and counting blank lines, CRLF and BOM', async () => {
    const file = tempFile('a.jsonl', '\uFEFF{"prompt":"p","completion":"1, 2"}\r\n\r\n   \n{"completion":"007"}\n');
    const stats = newReadStats();
    const rows = await collect(file, { stats });
    expect(rows).toEqual([
      { line: 1, value: { prompt: 'p', completion: '1, 2' }, raw: '{"prompt":"p","completion":"1, 2"}' },
      { line: 4, value: { completion: '007' }, raw: '{"completion":"007"}' },
    ]);
    expect(stats).toEqual({ rows: 2, blankLines: 2, badRows: 0 });
  });
  it('reads a last line without a trailing newline, and .ndjson', async () => {
    const rows = await collect(tempFile('b.ndjson', '{"a":1}\n{"a":2}'));
    expect(rows.map((r) => r.line)).toEqual([1, 2]);
  });
  it('handles multi-byte characters split across read chunks', async () => {
    const big = Array.from({ length: 40_000 }, (_, i) => JSON.stringify({ completion: `ü€😀 ${i}` })).join('\n');
    const rows = await collect(tempFile('c.jsonl', big));
    expect(rows).toHaveLength(40_000);
    expect(rows.every((r, i) => !('bad' in r) && r.value.completion === `ü€😀 ${i}`)).toBe(true);
  });

  const bad: [string, string | Buffer, RegExp][] = [
    ['malformed JSON', '{"a":1}\n{"a":\n', /bad\.jsonl:2: malformed JSON/],
    ['a non-object line', '{"a":1}\n[1,2]\n', /bad\.jsonl:2: expected a JSON object per line/],
    ['invalid UTF-8', Buffer.concat([Buffer.from('{"a":1}\n\n{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]), /bad\.jsonl:3: invalid UTF-8/],
    ['an empty file', '', /bad\.jsonl: empty file/],
    ['only blank lines', '\n\n  \n', /bad\.jsonl: no rows/],
    ['binary data', Buffer.from([0x7b, 0x00, 0x01, 0x02, 0x0a]), /bad\.jsonl: not a JSONL file \(binary data/],
    ['a Parquet file', Buffer.from('PAR1\x15\x04\x15garbage'), /bad\.jsonl: not a JSONL file \(it starts with the Parquet magic/],
  ];
  it.each(bad)('rejects %s with a one-line AuditInputError naming file and line', async (_n, content, message) => {
    const file = tempFile('bad.jsonl', content);
    const err = await collect(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditInputError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });
  it('names the line of invalid UTF-8 deep in a large file', async () => {
    const head = Array.from({ length: 30_000 }, (_, i) => `{"i":${i}}`).join('\n') + '\n';
    const file = tempFile('deep.jsonl', Buffer.concat([Buffer.from(head), Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d, 0x0a]), Buffer.from('{"i":0}\n')]));
    await expect(collect(file)).rejects.toThrow(/deep\.jsonl:30001: invalid UTF-8/);
  });
  it('with skipBadRows, turns bad lines into counted BadRows in order', async () => {
    const content = Buffer.concat([Buffer.from('{"a":1}\nnot json\n{"a":2}\n[3]\n'), Buffer.from([0x22, 0xff, 0x22, 0x0a]), Buffer.from('{"a":4}\n')]);
    const stats = newReadStats();
    const items = await collect(tempFile('skip.jsonl', content), { skipBadRows: true, stats });
    expect(items.map((i) => ('bad' in i ? `bad@${i.line}` : `row@${i.line}`))).toEqual(['row@1', 'bad@2', 'row@3', 'bad@4', 'bad@5', 'row@6']);
    expect(items[1]).toMatchObject({ bad: true, line: 2, raw: 'not json' });
    expect((items[4] as { reason: string }).reason).toBe('invalid UTF-8');
    expect(stats).toMatchObject({ rows: 3, badRows: 3 });
  });
});
