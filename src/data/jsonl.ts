/**
 * JSONL reader. Splits raw bytes on '\n' itself (not readline) so it can validate UTF-8 on bytes
 * and name the offending line; a whole chunk is validated and decoded at once on the fast path.
 */
import { createReadStream } from 'node:fs';
import { fileError, rowError } from './errors.js';
import { parseJsonStrict } from './json-strict.js';
import { rowObject, type ReadOptions, type RowOrBad } from './types.js';
import { firstInvalidLineIndex, looksBinary, startsWithParquetMagic, validUtf8 } from './utf8.js';

const CHUNK_BYTES = 1 << 18;

export async function* readJsonlItems(file: string, opts: ReadOptions = {}): AsyncGenerator<RowOrBad> {
  for await (const batch of readJsonlBatches(file, opts)) yield* batch;
}

/** Rows in batches (one per read chunk): the fast path for consumers that loop synchronously. */
export async function* readJsonlBatches(file: string, opts: ReadOptions = {}): AsyncGenerator<RowOrBad[]> {
  const stats = opts.stats;
  const skipBad = opts.skipBadRows === true;
  let lineNo = 0;
  let carry: Buffer | null = null;
  let first = true;
  let sawRow = false;

  /** One source line (without '\n'); returns a row, a bad row, or null for blank lines. */
  const parseLine = (text: string): RowOrBad | null => {
    lineNo++;
    let line = text;
    if (line.length > 0 && line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    if (lineNo === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    if (isBlank(line)) {
      if (stats) stats.blankLines++;
      return null;
    }
    sawRow = true;
    const parsed = parseJsonStrict(line);
    if (!parsed.ok) return bad(parsed.reason, line);
    const value = parsed.value;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return bad('expected a JSON object per line', line);
    }
    if (stats) stats.rows++;
    return { line: lineNo, value: rowObject(value as Record<string, unknown>), raw: line };
  };

  const bad = (reason: string, raw?: string): RowOrBad => {
    if (!skipBad) throw rowError(file, lineNo, reason);
    if (stats) stats.badRows++;
    return raw === undefined ? { bad: true, line: lineNo, reason } : { bad: true, line: lineNo, reason, raw };
  };

  const stream = createReadStream(file, { highWaterMark: CHUNK_BYTES });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (first) {
        first = false;
        checkHead(file, chunk);
      }
      const data: Buffer = carry ? Buffer.concat([carry, chunk]) : chunk;
      const lastNl = data.lastIndexOf(10);
      if (lastNl < 0) {
        carry = data;
        continue;
      }
      const region = data.subarray(0, lastNl);
      carry = lastNl + 1 < data.length ? Buffer.from(data.subarray(lastNl + 1)) : null;
      const batch: RowOrBad[] = [];
      if (validUtf8(region)) {
        // Fast path: one decode per chunk, then cut lines out of the string.
        const text = region.toString('utf8');
        let start = 0;
        for (;;) {
          const end = text.indexOf('\n', start);
          const item = parseLine(end < 0 ? text.slice(start) : text.slice(start, end));
          if (item) batch.push(item);
          if (end < 0) break;
          start = end + 1;
        }
      } else {
        slowLines(region, batch);
      }
      if (batch.length > 0) yield batch;
    }
    if (carry && carry.length > 0) {
      const batch: RowOrBad[] = [];
      slowLines(carry, batch);
      if (batch.length > 0) yield batch;
    }
  } finally {
    stream.destroy();
  }
  if (first) throw fileError(file, 'empty file');
  if (!sawRow) throw fileError(file, 'no rows (only blank lines)');

  /** Line by line, validating each: used only for a chunk that holds invalid UTF-8. */
  function slowLines(region: Buffer, batch: RowOrBad[]): void {
    let start = 0;
    for (;;) {
      let end = region.indexOf(10, start);
      const last = end < 0;
      if (last) end = region.length;
      const bytes = region.subarray(start, end);
      if (firstInvalidLineIndex(bytes) >= 0) {
        lineNo++;
        sawRow = true;
        batch.push(bad('invalid UTF-8'));
      } else {
        const item = parseLine(bytes.toString('utf8'));
        if (item) batch.push(item);
      }
      if (last) break;
      start = end + 1;
    }
  }
}

function checkHead(file: string, head: Buffer): void {
  if (startsWithParquetMagic(head)) throw fileError(file, 'not a JSONL file (it starts with the Parquet magic PAR1)');
  if (looksBinary(head.subarray(0, 8192))) throw fileError(file, 'not a JSONL file (binary data: NUL bytes)');
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}
