import { describe, expect, it } from 'vitest';
import { AuditInputError } from '../../src/errors.js';
import { planColumns } from '../../src/data/columns.js';
import { newReadStats } from '../../src/data/types.js';
import { collect, tempFile } from './helpers.js';

describe('CSV reader', () => {
  it('keeps cells as strings ("007" stays "007"), parses JSON-array cells, names lines', async () => {
    const file = tempFile('a.csv', 'prompt,completion,tags\nhi,007,"[1,2,3]"\n\n"multi\nline",42,plain\n');
    const stats = newReadStats();
    const rows = await collect(file, { stats });
    expect(rows).toEqual([
      { line: 2, value: { prompt: 'hi', completion: '007', tags: [1, 2, 3] } },
      { line: 4, value: { prompt: 'multi\nline', completion: '42', tags: 'plain' } },
    ]);
    expect(stats).toMatchObject({ rows: 2, blankLines: 1 });
  });
  it('leaves configured text columns verbatim and converts configured numeric columns', async () => {
    const file = tempFile('b.csv', 'completion,score,id\n"[1, 2, 3]",0.5,007\n');
    const [row] = await collect(file, { stringColumns: ['completion'], numericColumns: ['score'] });
    expect(row).toEqual({ line: 2, value: { completion: '[1, 2, 3]', score: 0.5, id: '007' } });
  });
  it('gathers numbered columns into one vector field, in index order', async () => {
    const header = ['label', 'x_2', 'x_0', 'x_1', 'px1', 'px10', 'px2', 'y_0'].join(',');
    const file = tempFile('c.csv', `${header}\n7,c,a,b,p1,p10,p2,only\n`);
    const [row] = await collect(file);
    expect(row).toEqual({ line: 2, value: { label: '7', x: ['a', 'b', 'c'], px: ['p1', 'p2', 'p10'], y_0: 'only' } });
    const [numeric] = await collect(tempFile('d.csv', 'x_0,x_1\n0.5,1e3\n'), { numericColumns: ['x'] });
    expect(numeric).toMatchObject({ value: { x: [0.5, 1000] } });
  });
  it('does not gather a run when a plain column already has the prefix name', () => {
    expect(planColumns(['x', 'x1', 'x2']).vectors.size).toBe(0);
    expect(planColumns(['a_1', 'b_1']).vectors.size).toBe(0);
  });

  const bad: [string, string | Buffer, RegExp][] = [
    ['a ragged row', 'a,b\n1,2\n3,4,5\n', /bad\.csv:3: ragged row: 3 cells, header has 2/],
    ['an unclosed quote', 'a,b\n1,"2\n', /bad\.csv:\d+: malformed CSV/],
    ['invalid UTF-8', Buffer.concat([Buffer.from('a,b\n1,2\n3,'), Buffer.from([0xe2, 0x28, 0xa1]), Buffer.from('\n')]), /bad\.csv:3: invalid UTF-8/],
    ['an empty file', '', /bad\.csv: empty file/],
    ['binary data', Buffer.from([0x61, 0x00, 0x62, 0x0a]), /bad\.csv: not a CSV file \(binary data/],
  ];
  it.each(bad)('rejects %s naming file and line', async (_n, content, message) => {
    const err = await collect(tempFile('bad.csv', content)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditInputError);
    expect((err as Error).message).toMatch(message);
  });
  it('with skipBadRows, ragged rows become counted BadRows', async () => {
    const stats = newReadStats();
    const items = await collect(tempFile('skip.csv', 'a,b\n1,2\n3\n4,5\n'), { skipBadRows: true, stats });
    expect(items.map((i) => ('bad' in i ? `bad@${i.line}` : `row@${i.line}`))).toEqual(['row@2', 'bad@3', 'row@4']);
    expect(stats).toMatchObject({ rows: 2, badRows: 1 });
  });
});
