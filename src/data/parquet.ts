/**
 * Parquet reader over hyparquet, one row group at a time so memory is bounded by a row group.
 * Row numbers (1-based) stand in for lines.
 */
import { open } from 'node:fs/promises';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { fileError } from './errors.js';
import type { ReadOptions, RowOrBad } from './types.js';
import { startsWithParquetMagic } from './utf8.js';

export async function* readParquetItems(file: string, opts: ReadOptions = {}): AsyncGenerator<RowOrBad> {
  await checkMagic(file);
  const buffer = await asyncBufferFromFile(file);
  let metadata;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (e) {
    throw fileError(file, `unreadable Parquet metadata (${(e as Error).message})`);
  }
  if (Number(metadata.num_rows) === 0) throw fileError(file, 'no rows');
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetReadObjects({ file: buffer, metadata, rowStart, rowEnd, compressors });
    } catch (e) {
      throw fileError(file, `rows ${rowStart + 1}-${rowEnd}: cannot decode row group (${(e as Error).message})`);
    }
    for (let i = 0; i < rows.length; i++) {
      if (opts.stats) opts.stats.rows++;
      yield { line: rowStart + i + 1, value: plainValues(rows[i]!) };
    }
    rowStart = rowEnd;
  }
}

async function checkMagic(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) throw fileError(file, 'empty file');
    const head = Buffer.alloc(4);
    const foot = Buffer.alloc(4);
    await handle.read(head, 0, 4, 0);
    await handle.read(foot, 0, 4, Math.max(0, size - 4));
    if (size < 12 || !startsWithParquetMagic(head) || !startsWithParquetMagic(foot)) {
      throw fileError(file, 'not a Parquet file (missing PAR1 magic)');
    }
  } finally {
    await handle.close();
  }
}

/** BigInt (INT64) becomes a number when exact, else a decimal string, so rows stay JSON-serialisable. */
function plainValues(row: Record<string, unknown>): Record<string, unknown> {
  for (const key in row) {
    const v = row[key];
    if (typeof v === 'bigint') row[key] = toPlain(v);
    else if (Array.isArray(v) && v.length > 0 && typeof v[0] === 'bigint') row[key] = v.map(toPlain);
  }
  return row;
}

function toPlain(v: unknown): unknown {
  if (typeof v !== 'bigint') return v;
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}
